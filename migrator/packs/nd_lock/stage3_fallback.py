"""Stage 3, T7: a configured fallback family registers on fallback_nd_lock, its
in-tree callers taking fallback_nd_lock.mutex around the call on every exit path.
"""

from __future__ import annotations

from collections.abc import Iterable

from migrator.edit import cedit
from migrator.edit.cedit import NeedsReview
from migrator.model import CallSite, Site
from migrator.packs.nd_lock.common import FnTree, asserted_locks, held_locks_before
from migrator.packs.nd_lock.stage3_shape import _rename, _shape
from migrator.rules.context import Candidate, RuleContext

FALLBACK_LOCK = "mutex_lock(&fallback_nd_lock.mutex);"
FALLBACK_UNLOCK = "mutex_unlock(&fallback_nd_lock.mutex);"


def _t7(ctx: RuleContext, cand: Candidate, fam: str) -> Iterable[Site]:
    """The helper attaches &fallback_nd_lock; each in-tree caller of the helper takes
    fallback_nd_lock.mutex around the call, released on every exit. All or nothing."""
    helper = cand.function
    try:
        src, _fn_node, cstmt, var, dev = _shape(ctx, cand)
    except NeedsReview as exc:
        raise NeedsReview(f"T7 ({fam}): {exc}") from exc
    try:
        edits = [*cedit.wrap(helper.file, src, cstmt,
                             [f"attach_nd_lock({dev}, &fallback_nd_lock);"],
                             [f"if ({var})", f"\tdetach_nd_lock({dev});"], ctx.rule.id),
                 _rename(ctx, cand)]
    except cedit.NeedsReview as exc:
        raise NeedsReview(f"T7 ({fam}): {exc}") from exc
    asserted = asserted_locks(ctx.index.source(helper.file), helper)
    callers = [c for c in ctx.graph.callers(helper) if not c.via_member]
    plans: list[tuple[object, Site]] = []
    # callers that cannot take fallback_nd_lock.mutex around the call: each is a place a
    # human must change, listed as its own review site (the lock it holds as evidence)
    problems: list[Site] = []
    registers = (f"{helper.name}() registers on fallback_nd_lock "
                 f"({cand.call.file}:{cand.call.line})")
    for call in callers:
        caller = ctx.index.function(call.file, call.caller)
        where = f"{call.file}:{call.line} {call.caller}()"
        calls = f"{where} calls {helper.name}({', '.join(call.args)})"

        def problem(why: str, evidence: list[str], call: CallSite = call,
                    calls: str = calls) -> Site:
            return Site(stage=ctx.rule.stage, template="T7", outcome="review",
                        file=call.file, function=call.caller, line=call.line,
                        start=call.start, end=call.end, rule=ctx.rule.id,
                        reason=f"T7 ({fam}) not applied: {why}",
                        evidence=[calls, *evidence, registers])

        if caller is None:
            problems.append(problem(f"{call.caller}() is not indexed", []))
            continue
        csrc = ctx.index.source(call.file)
        held = held_locks_before(csrc, caller, call.start)
        if asserted or held:
            problems.append(problem(
                f"{call.caller}() holds {', '.join([*held, *asserted])} at the call: "
                "fallback_nd_lock.mutex goes after RTNL and before the subsystem's own lock, "
                "so it must be taken where that lock is taken, not around the call",
                [*(f"lock held: {lock} taken earlier in {call.caller}()" for lock in held),
                 *(f"lock held: {lock} ({helper.name}() asserts it held: "
                   f"{helper.file}:{helper.line})" for lock in asserted)]))
            continue
        cft = FnTree(csrc, caller, ctx.rule.id)
        try:
            cnode = cft.call_at(call.start, call.end)
            cstmt = cft.statement_of(cnode)
            if cft.preceded_by(cstmt, FALLBACK_LOCK):
                continue
            cedits = cft.bracket([cstmt], FALLBACK_LOCK, FALLBACK_UNLOCK)
        except NeedsReview as exc:
            problems.append(problem(str(exc), []))
            continue
        plans.append((call, Site(
            stage=ctx.rule.stage, template="T7", outcome="rewrite", file=call.file,
            function=call.caller, line=call.line, start=call.start, end=call.end,
            rule=ctx.rule.id, edits=cedits,
            reason=f"T7: caller of {helper.name}() holds fallback_nd_lock.mutex",
            evidence=[calls, registers])))
    if problems:
        for _call, site in plans:
            site.outcome, site.edits = "review", []
            site.reason = f"T7 caller not bracketed: another caller of {helper.name}() " \
                          "needs a human (listed as its own site)"
        yield ctx.site(cand, outcome="review", template="T7",
                       evidence=[*cand.evidence(), *(
                           f"caller {p.file}:{p.line} {p.function}(): review site of its own"
                           for p in problems)],
                       reason=f"T7 ({fam}): {len(problems)} caller(s) of {helper.name}() "
                       "cannot take fallback_nd_lock.mutex around the call")
        yield from problems
        yield from (s for _, s in plans)
        return
    notes = [f"caller {c.file}:{c.line} {c.caller}() brackets the call" for c, _ in plans]
    if not callers:
        notes.append("no in-tree caller found: callers must take fallback_nd_lock.mutex "
                     "(after RTNL, before the subsystem lock" +
                     (f" {', '.join(asserted)}" if asserted else "") + ")")
    yield ctx.site(cand, outcome="rewrite", template="T7", edits=edits,
                   evidence=[*cand.evidence(), *notes],
                   reason=f"T7: fallback family {fam} registers on fallback_nd_lock")
    yield from (s for _, s in plans)
