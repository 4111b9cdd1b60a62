"""Stage 5, T9: dev_change_net_namespace() under lock_netdev(); T7 families under the
fallback mutex (the whole loop over the family's devices)."""

from __future__ import annotations

from collections.abc import Iterable

from migrator.analyses.common import FnTree, Unsafe, in_family, real_calls
from migrator.engine import Candidate, RuleContext
from migrator.model import Site

FALLBACK_LOCK = "mutex_lock(&fallback_nd_lock.mutex);"
FALLBACK_UNLOCK = "mutex_unlock(&fallback_nd_lock.mutex);"


def t9(ctx: RuleContext) -> Iterable[Site]:
    families = list(ctx.options.get("families", []))
    known = list(ctx.options.get("known_families", []))
    done_loops: set[tuple[str, int]] = set()
    for cand, ft, node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        call = cand.call
        if cand.function.name in ctx.rule.calls:
            continue  # the wrapper (dev_change_net_namespace()): its callers are the sites
        fam = in_family(call.file, families)
        try:
            stmt = ft.statement_of(node)
            if fam or in_family(call.file, known):
                if not fam:
                    yield ctx.site(cand, outcome="review", template="T7",
                                   reason=f"fallback family {in_family(call.file, known)}: "
                                   "configure it in `families` to bracket with "
                                   "fallback_nd_lock.mutex")
                    continue
                loop = ft.enclosing_loop(node)
                region = loop or [stmt]
                k = (call.file, ft.a(region[0]))
                if ft.preceded_by(region[0], FALLBACK_LOCK):  # converted by an earlier run
                    done_loops.add(k)
                edits = [] if k in done_loops else ft.bracket(region, FALLBACK_LOCK,
                                                               FALLBACK_UNLOCK)
                done_loops.add(k)
                yield ctx.site(cand, outcome="rewrite", template="T7", edits=edits,
                               reason=f"fallback family {fam}: "
                               + ("loop" if loop else "call")
                               + " under fallback_nd_lock.mutex")
                continue
            yield from _t9_one(ctx, cand, ft, node, stmt)
        except Unsafe as exc:
            yield ctx.site(cand, outcome="review", reason=f"T9 not applied: {exc}")


def _t9_one(ctx: RuleContext, cand: Candidate, ft: FnTree, node: object,
            stmt: object) -> Iterable[Site]:
    call = cand.call
    dev = call.args[0] if call.args else ""
    if not dev or "(" in dev:
        raise Unsafe(f"device argument {dev!r} is not a plain expression")
    if stmt.type != "expression_statement":  # type: ignore[attr-defined]
        raise Unsafe(f"call inside a {stmt.type.replace('_', ' ')}; "  # type: ignore[attr-defined]
                     "the unlock needs the result stored first")
    if ft.preceded_by(stmt, f"lock_netdev({dev}, &nd_lock)"):  # type: ignore[arg-type]
        yield ctx.site(cand, outcome="rewrite", reason="already converted")
        return
    if ft.declares("nd_lock") and "nd_lock" not in (ft.local_type("nd_lock") or ""):
        raise Unsafe("a local named nd_lock already exists with another type")
    edits = []
    if not ft.declares("nd_lock"):
        edits.extend(ft.add_local("struct nd_lock *nd_lock;"))
    edits.extend(ft.bracket([stmt], f"lock_netdev({dev}, &nd_lock);",  # type: ignore[list-item]
                            "unlock_netdev(nd_lock);"))
    yield ctx.site(cand, outcome="rewrite", edits=edits,
                   reason="T9: namespace move under lock_netdev()/unlock_netdev()")
