"""stage2-t6-thread-lock: a helper shared by .newlink/.changelink and by callers
outside rtnetlink that creates the device itself. The lock is threaded through it: the
functions from the helper down to the one registering the device gain the rule's
add_param `param` (and kdoc_param), every call of them passes its `arg`. The decisions
(the family, the creator, where each call's lock comes from, review) are
stage2_threaded's."""

from __future__ import annotations

from collections.abc import Iterator

from migrator.callgraph import FnKey, key
from migrator.model import FunctionDef, Site
from migrator.packs.nd_lock.stage2_common import NEWLINK_ROOTS
from migrator.packs.nd_lock.stage2_outside import Via, outside_calls
from migrator.packs.nd_lock.stage2_threaded import threaded_lock
from migrator.rules.context import Candidate, RuleContext


def find(ctx: RuleContext) -> Iterator[Site]:
    """One family per helper creating the device that an outside caller calls."""
    # a registration hidden in a macro is listed by the rules before (T1, T3/T4)
    ctx.macro_sites(keep=lambda _cand: False)
    reach, roots = ctx.view.reach(NEWLINK_ROOTS)
    families: dict[FnKey, tuple[Candidate, FunctionDef]] = {}
    for out in outside_calls(ctx):
        # once threaded (the registration renamed), the family is not seen again
        if out.via is Via.CREATES and not out.renamed:
            families.setdefault(key(out.helper), (out.cand, out.helper))
    seen: set[FnKey] = set()
    for cand, helper in families.values():
        yield from threaded_lock(ctx, cand, helper, reach, roots, seen)
