"""stage5-t9-netns-move: where the rule's guard goes. The edit is the rule's [fix];
this finder leaves the inline wrapper dev_change_net_namespace() itself out (its
callers are the sites) and words the reason from the statement guarded."""

from __future__ import annotations

from collections.abc import Iterable

from migrator.edit.cedit import NeedsReview
from migrator.model import Site
from migrator.packs.nd_lock.common import real_calls
from migrator.rules.context import Candidate, RuleContext


def find(ctx: RuleContext) -> Iterable[Site]:
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
