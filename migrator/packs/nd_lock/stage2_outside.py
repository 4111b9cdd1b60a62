"""Stage 2, T3/T4/T6: the calls from outside rtnetlink of a function T1 made
__register_netdevice-only (outside_calls: the walk stage2-t3-outside-callers and
stage2-t6-thread-lock share), and T3/T4 for a helper registering the device it is
passed (outside_call). T6, the helper creating the device itself, is stage2_threaded's.

The child's lock (parent detection, the bracket around the registration, a private
lock) is shared with stage 3.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from migrator.callgraph import FnKey, key
from migrator.edit import cedit
from migrator.model import CallSite, Edit, FunctionDef, Site
from migrator.model.srctext import CODEC
from migrator.packs.nd_lock.stage2_common import (
    _ASSIGN_FROM_CALL,
    NET_DEVICE_PTR,
    NEWLINK_ROOTS,
    UPPER_LINK_CALLS,
    _ancestors,
    _at,
    _net_device_params,
    _registered_param,
    _result_var,
)
from migrator.rules.context import Candidate, RuleContext


class Via(Enum):
    """How an outside call reaches the registration, which says whose it is."""

    POINTER = "pointer"  # through a function pointer: review (stage2-t3-outside-callers)
    CHILD = "child"  # the helper registers a device it is passed: T3/T4 (the same)
    CREATES = "creates"  # the helper creates the device itself: T6 (stage2-t6-thread-lock)


@dataclass(frozen=True, slots=True)
class OutsideCall:
    """A call from outside .newlink/.changelink paths of `helper`, a function reaching
    the registration `cand` (itself or a caller of it)."""

    cand: Candidate
    helper: FunctionDef
    caller: FunctionDef
    call: CallSite
    renamed: bool  # the registration is __register_netdevice() already (T1 applied)
    via: Via


def outside_calls(ctx: RuleContext) -> Iterator[OutsideCall]:
    """Each call from outside .newlink/.changelink paths of a function made
    __register_netdevice-only by T1 (or a helper on the way to it), once: with the first
    candidate reaching it, the rule's candidates before the calls T1 renamed already
    (the converted ones: done_when callee)."""
    reach, roots = ctx.view.reach(NEWLINK_ROOTS)
    done: set[tuple[str, int]] = set()
    for cand, renamed in [*((c, False) for c in ctx.candidates),
                          *((c, True) for c in ctx.converted)]:
        for helper in _ancestors(ctx, cand.function, reach):
            for call in ctx.graph.callers(helper):
                caller = ctx.index.function(call.file, call.caller)
                if caller is None or key(caller) in reach or (call.file, call.start) in done:
                    continue
                if call.via_member and key(helper) in roots:
                    continue  # the rtnetlink core dispatching ops->newlink/changelink
                done.add((call.file, call.start))
                if call.via_member:
                    via = Via.POINTER
                elif _registered_param(ctx, helper, reach, set()) is None:
                    via = Via.CREATES
                else:
                    via = Via.CHILD
                yield OutsideCall(cand, helper, caller, call, renamed, via)


def pointer_review(ctx: RuleContext, out: OutsideCall) -> Site:
    """A helper also called through a function pointer from a context the tool cannot
    classify: review."""
    call = out.call
    return ctx.review(
        _at(ctx, out.caller, call.start, call.end),
        f"{out.helper.name}() also called through a function pointer "
        "from a context the tool cannot classify", template="T4",
        evidence=[f"{call.file}:{call.line} {call.receiver}->{call.callee}()",
                  "netlink path: " + " -> ".join(out.cand.chain)])


def outside_call(ctx: RuleContext, out: OutsideCall) -> Site:
    """T3/T4 for an outside call of a helper registering the device it is passed."""
    reach, _ = ctx.view.reach(NEWLINK_ROOTS)
    return _outside_call(ctx, out.cand, out.helper, out.caller, out.call, reach)


def _outside_call(ctx: RuleContext, cand: Candidate, helper: FunctionDef, caller: FunctionDef,
                  call: CallSite, reach: dict[FnKey, list[str]]) -> Site:
    src = ctx.index.source(caller.file)
    evidence = [
        f"{helper.name}() reaches {cand.call.callee}() at {cand.call.file}:{cand.call.line} "
        "(renamed __register_netdevice by T1)",
        "netlink path: " + " -> ".join(cand.chain),
        f"outside caller: {call.file}:{call.line} {caller.name}() calls "
        f"{helper.name}({', '.join(call.args)})",
    ]
    registered = _registered_param(ctx, helper, reach, set())
    assert registered is not None  # T6 families are stage2-t6-thread-lock's
    index, param = registered
    child = call.args[index].strip() if index < len(call.args) else ""
    if not child.isidentifier():
        return ctx.review(_at(ctx, caller, call.start, call.end),
                          f"child device argument {child!r} is not a plain variable",
                          evidence=evidence, template="T4")
    evidence.append(f"child device: {child} (parameter {param} of {helper.name})")
    parent, why = _parent_device(ctx, helper, caller, call, param, child, src)
    fn_node = cedit.function_node(src, call.start)
    try:
        if fn_node is None:
            raise cedit.NeedsReview("caller not re-parsed")
        stmt = cedit.innermost_statement(fn_node, call.start)
        if stmt.type != "expression_statement":
            raise cedit.NeedsReview(f"result of {helper.name}() is not stored in a variable "
                                   "(no error variable to drive detach_nd_lock())")
        var = _result_var(src, stmt, call)
        if var is None:
            raise cedit.NeedsReview("call is not `<err> = ...;`")
        if b"_nd_lock(" + child.encode() in src[max(caller.body_start,
                                                     stmt.start_byte - 200):stmt.start_byte]:
            raise _AlreadyDone()
        decl = cedit.add_local_declaration(caller.file, src, fn_node,
                                           "struct nd_lock *nd_lock;", ctx.rule.id)
        edits = [decl] if decl is not None else []
        if parent:
            evidence.append(f"parent device: {parent} ({why}); {var} = {LOCK_FAILED} when "
                            f"lock_netdev({parent}) fails (the parent is being "
                            "unregistered): the existing check on it takes the error path")
            template = "T3"
        else:
            edits.append(_attach_new_lock(ctx, caller, fn_node, src, child, evidence, stmt))
            template = "T4"
        edits.extend(child_bracket(caller.file, src, stmt, var, child, parent, ctx.rule.id))
    except _AlreadyDone:
        return ctx.already_done(_at(ctx, caller, call.start, call.end), evidence=evidence,
                                template="T3" if parent else "T4")
    except cedit.NeedsReview as exc:
        return ctx.review(_at(ctx, caller, call.start, call.end), f"not rewritten: {exc}",
                          evidence=evidence, template="T3" if parent else "T4")
    reason = (f"{child} inherits the nd_lock of parent {parent}" if parent
              else f"{child} gets a private nd_lock outside rtnetlink")
    return ctx.rewrite(_at(ctx, caller, call.start, call.end), edits, reason,
                       evidence=evidence, template=template)


class _AlreadyDone(Exception):
    pass


LOCK_FAILED = "-ENODEV"  # lock_netdev() fails only for a device being unregistered


def child_bracket(file: str, src: bytes, stmt: cedit.Node, var: str, child: str, parent: str,
                  rule: str) -> list[Edit]:
    """The lock around `<var> = <registering call>;`, wherever the statement stands
    (braces added around an un-braced branch).

    T3 (`parent`): the parent is an existing device that may be being unregistered, so
    its lock_netdev() is checked; on failure <var> = -ENODEV and the call is skipped,
    which the caller's check on <var> already handles (nothing attached, nothing held):

        <var> = -ENODEV;
        if (lock_netdev(<parent>, &nd_lock)) {
                attach_nd_lock(<child>, nd_lock);
                <var> = <call>;
                if (<var>)
                        detach_nd_lock(<child>);
                unlock_netdev(nd_lock);
        }

    T4 (no parent): the child's own fresh lock, attached by attach_new_nd_lock(), is
    taken; the child is not registered yet, so lock_netdev() cannot fail."""
    release = [f"if ({var})", f"\tdetach_nd_lock({child});", "unlock_netdev(nd_lock);"]
    if parent:
        return cedit.guard(file, src, stmt, f"lock_netdev({parent}, &nd_lock)",
                           [f"attach_nd_lock({child}, nd_lock);"], release, LOCK_FAILED, rule)
    return cedit.wrap(file, src, stmt, [f"lock_netdev({child}, &nd_lock);"], release, rule)


def _parent_device(ctx: RuleContext, helper: FunctionDef, caller: FunctionDef, call: CallSite,
                   param: str, child: str, caller_src: bytes) -> tuple[str, str]:
    """A parent device visible at the call: another net_device argument of the helper, or
    the caller's net_device stored in the field the helper links the child under."""
    params = [p.name for p in helper.params]
    for name in _net_device_params(helper):
        i = params.index(name)
        if name != param and i < len(call.args) and call.args[i].strip().isidentifier():
            return call.args[i].strip(), f"passed as {helper.name}() parameter {name}"
    helper_src = ctx.index.source(helper.file)
    helper_body = helper_src[helper.body_start:helper.body_end].decode(*CODEC)
    for link in ctx.index.calls_in(helper):
        if link.callee not in UPPER_LINK_CALLS or len(link.args) < 2:
            continue
        upper, lower = link.args[0].strip(), link.args[1].strip()
        other = lower if upper == param else upper
        # `real_dev = vlan->real_dev;` in the helper names the field holding the parent
        m = re.search(rf"\b{re.escape(other)}\s*=\s*[\w>.-]*?(?:->|\.)(\w+)\s*;", helper_body)
        field = m.group(1) if m else other.rsplit("->", 1)[-1].rsplit(".", 1)[-1]
        caller_body = caller_src[caller.body_start:call.start].decode(*CODEC)
        locals_ = _net_device_params(caller) + [p.name for p in caller.locals
                                                if NET_DEVICE_PTR.search(p.type)]
        for cm in re.finditer(rf"(?:->|\.){re.escape(field)}\s*=\s*(\w+)\s*;", caller_body):
            if cm.group(1) in locals_ and cm.group(1) != child:
                return cm.group(1), (f"stored as the child's ->{field}, which "
                                     f"{helper.name}() passes to {link.callee}()")
    return "", ""


def _attach_new_lock(ctx: RuleContext, caller: FunctionDef, fn_node: cedit.Node, src: bytes,
                     child: str, evidence: list[str], stmt: cedit.Node | None = None) -> Edit:
    """`if (!attach_new_nd_lock(dev)) { free_netdev(dev); return -ENOMEM; }` after the
    allocation's NULL check, when that check leaves with `return -ENOMEM;`.  `stmt`,
    the registration, must run whenever the attach did (not in a branch or loop of its
    own): a path skipping it would keep the lock attached to an unregistered device."""
    body = src[caller.body_start:caller.body_end].decode(*CODEC)
    m = re.search(_ASSIGN_FROM_CALL.format(var=re.escape(child)), body)
    if m is None:
        raise cedit.NeedsReview(f"{child} is not allocated in {caller.name}()")
    alloc = cedit.enclosing_statement(fn_node, caller.body_start + m.end() - 1)
    check = cedit.following_statement(alloc)
    if check is None or check.type != "if_statement" or f"!{child}" not in \
            cedit.text(src, check).replace(" ", ""):
        raise cedit.NeedsReview(f"no NULL check after the allocation of {child}")
    consequence = check.child_by_field_name("consequence")
    if consequence is None or not re.fullmatch(r"return\s+-ENOMEM\s*;",
                                               cedit.text(src, consequence).strip()):
        raise cedit.NeedsReview("the allocation failure path is not `return -ENOMEM;`")
    up = stmt
    while up is not None and check.parent is not None and up.parent != check.parent:
        up = up.parent
        if up is None or up.type != "compound_statement":
            raise cedit.NeedsReview(
                f"the registration at line {stmt.start_point[0] + 1} is conditional "  # type: ignore[union-attr]
                f"({up.type.replace('_', ' ') if up is not None else 'another block'}) while "
                f"the private lock is attached right after the allocation of {child}: the "
                "path that skips it would keep the lock attached")
    evidence.append(f"allocation: line {alloc.start_point[0] + 1}: {m.group(1)}(), "
                    f"failure path `{cedit.text(src, consequence)}`")
    return cedit.insert_after_statement(
        caller.file, src, check,
        [f"if (!attach_new_nd_lock({child})) {{", f"\tfree_netdev({child});",
         "\treturn -ENOMEM;", "}"], ctx.rule.id)
