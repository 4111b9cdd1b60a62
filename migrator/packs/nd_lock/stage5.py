"""Stage 5 finders. The edits are the rules' `[fix]` data (rule.toml) and the family
directories their `[select] in_dirs` / `not_in_dirs`; what stays here is what is code:
T9 (stage5-t9-netns-move) leaves the inline wrapper dev_change_net_namespace() itself
out (its callers are the sites) and words the reason from the statement guarded; T7
(stage5-t7-fallback-loop) tells a configured family (`families`: the rule's bracket
of the loop) from a known one (review) and words the reason from the region."""

from __future__ import annotations

from collections.abc import Iterable

from migrator.edit.cedit import NeedsReview
from migrator.model import Site
from migrator.packs.nd_lock.common import real_calls
from migrator.rules.context import Candidate, RuleContext
from migrator.rules.load import under


def t9(ctx: RuleContext) -> Iterable[Site]:
    """Every move outside the wrapper and the fallback families: the rule's guard."""
    guard = ctx.rule.fix.guard
    failed = guard.on_failure if guard is not None else ""
    for cand, ft, node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        if cand.function.name in ctx.rule.calls:
            continue  # the wrapper (dev_change_net_namespace()): its callers are the sites
        try:
            edits = ctx.fix(cand, ft=ft)
        except NeedsReview as exc:
            yield ctx.review(cand, reason=f"T9 not applied: {exc}")
            continue
        if edits is None:  # converted already (the rule's done_when)
            yield ctx.already_done(cand)
            continue
        stmt = ft.statement_of(node)  # the guard took `v = call;` or `call;`
        stored = stmt.named_children[0].type == "assignment_expression"
        yield ctx.rewrite(cand, edits=edits,
                          reason="T9: namespace move under lock_netdev()/unlock_netdev()"
                          + (f"; {failed} when the lock cannot be taken" if stored else ""))


def t7(ctx: RuleContext) -> Iterable[Site]:
    """Moves in a fallback family (in_dirs): the rule's bracket of the enclosing loop
    (once per loop) when the family is configured in `families`, review when it is
    only known."""
    families = list(ctx.options.get("families", []))
    for cand, ft, node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        family = under(cand.call.file, families)
        if family is None:
            yield ctx.review(cand, reason=f"fallback family {cand.binds.get('in_dir')}: "
                             "configure it in `families` to bracket with "
                             "fallback_nd_lock.mutex")
            continue
        try:
            loop = ft.enclosing_loop(node) is not None
            edits = ctx.fix(cand, ft=ft)
        except NeedsReview as exc:
            yield ctx.review(cand, reason=f"T7 not applied: {exc}")
            continue
        if edits is None:  # converted already (the rule's done_when)
            yield ctx.already_done(cand)
            continue
        # [] when an earlier call of the same loop carries the bracket
        yield ctx.rewrite(cand, edits=edits,
                          reason=f"fallback family {family}: "
                          + ("loop" if loop else "call") + " under fallback_nd_lock.mutex")
