"""Stage 3: register_netdevice() outside .newlink/.changelink -> T5 (notifier), T7
(configured fallback family), else review with evidence (T3/T4 choice)."""

from __future__ import annotations

from collections.abc import Iterable

from migrator.analyses.common import NOTIFIER_REGISTER as _REGISTER
from migrator.analyses.common import Unsafe, in_family, netdev_notifier_roots, real_calls
from migrator.callgraph import key
from migrator.engine import Candidate, RuleContext
from migrator.model import Site

NOTIFIER_REGISTER = tuple(_REGISTER)


def netdev_notifiers(ctx: RuleContext) -> dict[tuple[str, str], list[str]]:
    """Functions reachable from the .notifier_call of a notifier_block that is passed to
    register_netdevice_notifier*() somewhere in the index."""
    return ctx.graph.reach(netdev_notifier_roots(ctx))  # type: ignore[arg-type]


def t3(ctx: RuleContext) -> Iterable[Site]:
    families = list(ctx.options.get("families", []))
    known = list(ctx.options.get("known_families", []))
    t5 = str(ctx.options.get("t5", "review"))
    notif = netdev_notifiers(ctx)
    for cand, ft, node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        k = key(cand.function)
        fam = in_family(cand.call.file, families)
        try:
            stmt = ft.statement_of(node)
            dev = cand.call.args[0] if cand.call.args else ""
            if fam:
                if ft.is_unbraced_body(stmt):
                    raise Unsafe("registration is an unbraced branch")
                fname = node.child_by_field_name("function")
                assert fname is not None
                edits = [*ft.wrap(stmt, [f"attach_nd_lock({dev}, &fallback_nd_lock);"], []),
                         ft.edit(ft.a(fname), ft.b(fname), "__register_netdevice")]
                callers = [f"{c.file}:{c.line} {c.caller}() must hold fallback_nd_lock.mutex"
                           for c in ctx.graph.callers(cand.function)]
                yield ctx.site(cand, outcome="rewrite", template="T7", edits=edits,
                               evidence=[*cand.evidence(), *(callers or [
                                   "no in-tree caller found: callers must take "
                                   "fallback_nd_lock.mutex (after RTNL, before the "
                                   "subsystem lock)"])],
                               reason=f"T7: fallback family {fam} registers on "
                               "fallback_nd_lock")
                continue
            if k in notif:
                cand.chain = notif[k]
                if t5 != "rewrite":
                    yield ctx.site(cand, outcome="review", template="T5",
                                   reason="registration from a netdevice notifier: T5 "
                                   "(private lock via alloc_nd_lock()/mutex_trylock()); "
                                   "review by default, --t5=rewrite to apply")
                    continue
                raise Unsafe("T5 rewrite needs the notifier's error path for the lock; "
                             "not automated")
            kfam = in_family(cand.call.file, known)
            if kfam:
                yield ctx.site(cand, outcome="review", template="T7",
                               reason=f"fallback family {kfam}: configure it in `families` "
                               "to register on fallback_nd_lock")
                continue
            yield ctx.site(cand, outcome="review",
                           reason="register_netdevice() outside .newlink/.changelink: "
                           "parent (T3) or private (T4) lock to be chosen")
        except Unsafe as exc:
            yield ctx.site(cand, outcome="review", template="T5" if k in notif else None,
                           reason=str(exc))
