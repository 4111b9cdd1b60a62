"""stage3-t7-fallback-family (T7), second of stage 3's precedence chain: the
register_netdevice() calls of a configured fallback family (`[select] in_dirs =
"{families}"` binds the family). The helper registering the device attaches
&fallback_nd_lock and detaches it when the registration fails; each in-tree caller of
the helper takes fallback_nd_lock.mutex around the call, released on every exit. All or
nothing: a caller holding another lock at the call (or a helper asserting one held:
fallback_nd_lock.mutex goes after RTNL and before the subsystem's own lock), or one the
bracket cannot be placed in, is a review site of its own, and then the helper and every
other caller are review too. A registration that is not `err = register_netdevice(dev);`
is review.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from migrator.edit import cedit
from migrator.edit.cedit import NeedsReview
from migrator.model import CallSite, Edit, FunctionDef, Site
from migrator.model.srctext import CODEC
from migrator.packs.nd_lock.common import FnTree, real_calls
from migrator.packs.nd_lock.stage3_shape import _rename, _shape
from migrator.rules.context import At, Candidate, RuleContext

FALLBACK_LOCK = "mutex_lock(&fallback_nd_lock.mutex);"
FALLBACK_UNLOCK = "mutex_unlock(&fallback_nd_lock.mutex);"
_NON_RTNL_ASSERT = re.compile(r"\blockdep_assert_held\s*\(\s*&?\s*([^)]+?)\s*\)")
_LOCK_CALL = re.compile(r"\b(mutex_lock\w*|spin_lock\w*|down_write|down_read|wiphy_lock|"
                        r"rtnl_net_lock|read_lock\w*|write_lock\w*)\s*\(\s*([^;]*?)\s*\)\s*;")
_UNLOCK_FOR = {"mutex_lock": "mutex_unlock", "spin_lock": "spin_unlock",
               "down_write": "up_write", "down_read": "up_read", "wiphy_lock": "wiphy_unlock",
               "read_lock": "read_unlock", "write_lock": "write_unlock"}


def find(ctx: RuleContext) -> Iterable[Site]:
    """The calls of the configured families (`[select] in_dirs = "{families}"`): T7."""
    for cand, _ft, _node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        try:
            yield from _t7(ctx, cand, cand.binds["in_dir"])
        except NeedsReview as exc:
            yield ctx.review(cand, reason=str(exc))


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
    plans: list[tuple[CallSite, list[Edit], list[str]]] = []
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
            return ctx.review(At.call(call), f"T7 ({fam}) not applied: {why}", template="T7",
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
        plans.append((call, cedits, [calls, registers]))
    if problems:
        yield ctx.review(cand, template="T7",
                         evidence=[*cand.evidence(), *(
                             f"caller {p.file}:{p.line} {p.function}(): review site of its own"
                             for p in problems)],
                         reason=f"T7 ({fam}): {len(problems)} caller(s) of {helper.name}() "
                         "cannot take fallback_nd_lock.mutex around the call")
        yield from problems
        yield from (ctx.review(At.call(call), f"T7 caller not bracketed: another caller of "
                               f"{helper.name}() needs a human (listed as its own site)",
                               evidence=evidence, template="T7")
                    for call, _edits, evidence in plans)
        return
    notes = [f"caller {c.file}:{c.line} {c.caller}() brackets the call" for c, _, _ in plans]
    if not callers:
        notes.append("no in-tree caller found: callers must take fallback_nd_lock.mutex "
                     "(after RTNL, before the subsystem lock" +
                     (f" {', '.join(asserted)}" if asserted else "") + ")")
    yield ctx.rewrite(cand, template="T7", edits=edits,
                      evidence=[*cand.evidence(), *notes],
                      reason=f"T7: fallback family {fam} registers on fallback_nd_lock")
    yield from (ctx.rewrite(At.call(call), cedits, f"T7: caller of {helper.name}() holds "
                            "fallback_nd_lock.mutex", evidence=evidence, template="T7")
                for call, cedits, evidence in plans)


def asserted_locks(src: bytes, fn: FunctionDef) -> list[str]:
    """Locks other than RTNL the function asserts held (`lockdep_assert_held(&x->mtx)`):
    its callers hold them at the call."""
    body = src[fn.body_start:fn.body_end].decode(*CODEC)
    return [m.group(1) for m in _NON_RTNL_ASSERT.finditer(body) if "rtnl" not in m.group(1)]


def held_locks_before(src: bytes, fn: FunctionDef, offset: int) -> list[str]:
    """Locks taken in `fn` before `offset` and not released in between (textual: a
    `mutex_lock(&x)` without a later `mutex_unlock(&x)` before the offset)."""
    text = src[fn.body_start:offset].decode(*CODEC)
    held: list[str] = []
    for m in _LOCK_CALL.finditer(text):
        name, arg = m.group(1), re.sub(r"\s+", "", m.group(2))
        if name.startswith("rtnl") or "rtnl" in arg:
            continue
        base = re.sub(r"_(nested|interruptible|killable|irqsave|irq|bh|io)$", "", name)
        unlock = _UNLOCK_FOR.get(base, base.replace("lock", "unlock"))
        rest = text[m.end():]
        if not re.search(rf"\b{re.escape(unlock)}\w*\s*\(\s*{re.escape(m.group(2).strip())}",
                         rest):
            held.append(f"{name}({m.group(2).strip()})")
    return held
