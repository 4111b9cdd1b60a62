"""stage5-t7-fallback-loop: a configured family (`families`) gets the rule's bracket
of the enclosing loop (once per loop), a family only known is review; the reason is
worded from the region bracketed."""

from __future__ import annotations

from collections.abc import Iterable

from migrator.edit.cedit import NeedsReview
from migrator.model import Site
from migrator.packs.nd_lock.common import real_calls
from migrator.rules.context import Candidate, RuleContext
from migrator.rules.load import under


def find(ctx: RuleContext) -> Iterable[Site]:
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
