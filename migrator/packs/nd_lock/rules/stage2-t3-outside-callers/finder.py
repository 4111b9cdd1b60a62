"""stage2-t3-outside-callers: the callers outside rtnetlink of a helper T1 converted,
when the helper registers a device it is passed: the child takes its parent's lock (T3)
or a private one (T4). A call through a function pointer is review; a helper creating
the device itself is stage2-t6-thread-lock's (the walk, stage2_outside.outside_calls,
is shared, so each call is one rule's)."""

from __future__ import annotations

from collections.abc import Iterator

from migrator.model import Site
from migrator.packs.nd_lock.stage2_outside import Via, outside_call, outside_calls, pointer_review
from migrator.rules.context import RuleContext


def find(ctx: RuleContext) -> Iterator[Site]:
    """T3/T4 for every outside call of a helper registering the device it is passed."""
    # A registration T1 renamed already (done_when callee) still has its outside
    # callers: bracketed ones are done, the others stay for review, whatever the run.
    # The renamed call itself is T1's site (its census row counts it), not one here.
    ctx.done_sites(keep=lambda _cand: False)
    for out in outside_calls(ctx):
        if out.via is Via.POINTER:
            yield pointer_review(ctx, out)
        elif out.via is Via.CHILD:
            yield outside_call(ctx, out)
        # Via.CREATES: the helper creates the device itself (T6): stage2-t6-thread-lock
