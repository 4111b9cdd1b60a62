"""Stage 5, T9: dev_change_net_namespace() under lock_netdev(); T7 families under the
fallback mutex (the whole loop over the family's devices)."""

from __future__ import annotations

from collections.abc import Iterable

from migrator.edit.cedit import NeedsReview
from migrator.model import Site
from migrator.packs.nd_lock.common import FnTree, Node, in_family, real_calls
from migrator.rules.context import Candidate, RuleContext

FALLBACK_LOCK = "mutex_lock(&fallback_nd_lock.mutex);"
FALLBACK_UNLOCK = "mutex_unlock(&fallback_nd_lock.mutex);"
LOCK_FAILED = "-ENODEV"  # lock_netdev() fails only for a device being unregistered


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
                    yield ctx.review(cand, template="T7",
                                     reason=f"fallback family {in_family(call.file, known)}: "
                                     "configure it in `families` to bracket with "
                                     "fallback_nd_lock.mutex")
                    continue
                loop = ft.enclosing_loop(node)
                region = loop or [stmt]
                k = (call.file, ft.start(region[0]))
                if ft.preceded_by(region[0], FALLBACK_LOCK):  # converted by an earlier run
                    done_loops.add(k)
                edits = [] if k in done_loops else ft.bracket(region, FALLBACK_LOCK,
                                                               FALLBACK_UNLOCK)
                done_loops.add(k)
                yield ctx.rewrite(cand, template="T7", edits=edits,
                                  reason=f"fallback family {fam}: "
                                  + ("loop" if loop else "call")
                                  + " under fallback_nd_lock.mutex")
                continue
            yield from _t9_one(ctx, cand, ft, node, stmt)
        except NeedsReview as exc:
            yield ctx.review(cand, reason=f"T9 not applied: {exc}")


def _t9_one(ctx: RuleContext, cand: Candidate, ft: FnTree, node: Node,
            stmt: Node) -> Iterable[Site]:
    """`v = dev_change_net_namespace(dev, ...);` becomes

        v = -ENODEV;
        if (lock_netdev(dev, &nd_lock)) {
                v = dev_change_net_namespace(dev, ...);
                unlock_netdev(nd_lock);
        }

    lock_netdev() fails for a device being unregistered; the move is then refused with
    -ENODEV through the caller's existing check on `v` (no new label, nothing to unlock).
    A call whose result is ignored is simply skipped for such a device."""
    call = cand.call
    dev = call.args[0] if call.args else ""
    if not dev or "(" in dev:
        raise NeedsReview(f"device argument {dev!r} is not a plain expression")
    needle = f"lock_netdev({dev}, &nd_lock)"
    check = ft.guarding_if(stmt)
    cond = check.child_by_field_name("condition") if check is not None else None
    if ft.preceded_by(stmt, needle) or (cond is not None and needle in ft.text(cond)):
        yield ctx.already_done(cand)
        return
    if ft.declares("nd_lock") and "nd_lock" not in (ft.local_type("nd_lock") or ""):
        raise NeedsReview("a local named nd_lock already exists with another type")
    guarded = ft.guard(stmt, needle, [], ["unlock_netdev(nd_lock);"], LOCK_FAILED)
    edits = [] if ft.declares("nd_lock") else ft.add_local("struct nd_lock *nd_lock;")
    edits.extend(guarded)
    stored = stmt.named_children[0].type == "assignment_expression"  # guard() checked it
    yield ctx.rewrite(cand, edits=edits,
                      reason="T9: namespace move under lock_netdev()/unlock_netdev()"
                      + (f"; {LOCK_FAILED} when the lock cannot be taken" if stored else ""))
