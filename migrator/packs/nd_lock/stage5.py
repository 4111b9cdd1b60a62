"""Stage 5 finders. The edits are the rules' `[fix]` data (rule.toml); what stays here
is where they go: T9 (stage5-t9-netns-move) puts each namespace move outside the
fallback families under lock_netdev(); T7 (stage5-t7-fallback-loop) brackets the loop
moving a configured family's devices with fallback_nd_lock.mutex, and leaves a known
but unconfigured family to review. Neither rule edits inside the inline wrapper
dev_change_net_namespace() itself: its callers are the sites."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from migrator.edit.cedit import NeedsReview
from migrator.model import Site
from migrator.packs.nd_lock.common import FnTree, Node, in_family, real_calls
from migrator.rules.context import Candidate, RuleContext


def _moves(ctx: RuleContext) -> Iterator[tuple[Candidate, FnTree, Node, str | None, str | None]]:
    """(candidate, function, call, configured family, known family) of every selected
    call outside the wrapper."""
    families = list(ctx.options.get("families", []))
    known = list(ctx.options.get("known_families", []))
    for cand, ft, node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        if cand.function.name in ctx.rule.calls:
            continue  # the wrapper (dev_change_net_namespace()): its callers are the sites
        yield (cand, ft, node, in_family(cand.call.file, families),
               in_family(cand.call.file, known))


def t9(ctx: RuleContext) -> Iterable[Site]:
    """Every move outside the fallback families (configured or known): the rule's guard.
    The calls hidden in macros are listed here (the engine adds them), for both rules."""
    guard = ctx.rule.fix.guard
    failed = guard.on_failure if guard is not None else ""
    for cand, ft, node, family, known in _moves(ctx):
        if family or known:
            continue  # stage5-t7-fallback-loop
        try:
            edits = ctx.fix(cand, ft=ft)
        except NeedsReview as exc:
            yield ctx.site(cand, outcome="review", reason=f"T9 not applied: {exc}")
            continue
        if edits is None:
            yield ctx.site(cand, outcome="rewrite", reason="already converted")
            continue
        stmt = ft.statement_of(node)  # the guard took `v = call;` or `call;`
        stored = stmt.named_children[0].type == "assignment_expression"
        yield ctx.site(cand, outcome="rewrite", edits=edits,
                       reason="T9: namespace move under lock_netdev()/unlock_netdev()"
                       + (f"; {failed} when the lock cannot be taken" if stored else ""))


def t7(ctx: RuleContext) -> Iterable[Site]:
    """Moves in a fallback family: the rule's bracket of the enclosing loop (once per
    loop) when the family is configured in `families`, review when it is only known."""
    ctx.macro_sites(keep=lambda _c: False)  # stage5-t9-netns-move lists them
    for cand, ft, node, family, known in _moves(ctx):
        if not family:
            if known:
                yield ctx.site(cand, outcome="review",
                               reason=f"fallback family {known}: configure it in "
                               "`families` to bracket with fallback_nd_lock.mutex")
            continue
        try:
            loop = ft.enclosing_loop(node) is not None
            edits = ctx.fix(cand, ft=ft)
        except NeedsReview as exc:
            yield ctx.site(cand, outcome="review", reason=f"T7 not applied: {exc}")
            continue
        yield ctx.site(cand, outcome="rewrite", edits=edits or [],
                       reason=f"fallback family {family}: "
                       + ("loop" if loop else "call") + " under fallback_nd_lock.mutex")
