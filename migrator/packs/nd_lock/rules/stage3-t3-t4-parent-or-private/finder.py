"""stage3-t3-t4-parent-or-private, last of stage 3's precedence chain: the
register_netdevice() calls outside .newlink/.changelink the rules before it left.

T3 when a parent device is identifiable (parent_candidates(): another struct
net_device * parameter of the function, else the upper-link field stage 2 detects,
stage2_outside._parent_device()): the child shares the parent's nd_lock, taken with
lock_netdev(parent) around __register_netdevice(); else T4, a private nd_lock attached
right after the allocation check. It binds the parent (or none) and the registered
device. Review when the statement is not `err = register_netdevice(dev);`
(stage3_shape), when an exit between the allocation and the registration would leave the
attached lock behind, or when the error path is not one the templates cover. The T0
form stage 1 writes (`v = rtnl_lock_killable(); if (!v) { v = register_netdevice(d);
...`) is already done: register_netdevice() gives the device its private lock by design.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from migrator.edit import cedit
from migrator.edit.cedit import NeedsReview
from migrator.edit.fntree import FnTree, Node
from migrator.model import FunctionDef, Site
from migrator.packs.nd_lock import stage2_common, stage2_outside
from migrator.packs.nd_lock.common import real_calls
from migrator.packs.nd_lock.stage3_shape import _decl, _rename, _shape
from migrator.rules.context import Candidate, RuleContext


def is_t0_form(ft: FnTree, call: Node) -> bool:
    """The registration sits where T0 puts it: first statement of `if (!v) {` right after
    `v = rtnl_lock_killable();` (a private lock by design, nothing left to convert)."""
    stmt = ft.statement_of(call)
    check = ft.guarding_if(stmt)
    if check is None or stmt.prev_named_sibling is not None:
        return False
    cond = check.child_by_field_name("condition")
    prev = check.prev_named_sibling
    while prev is not None and prev.type == "comment":
        prev = prev.prev_named_sibling
    if cond is None or prev is None:
        return False
    m = re.fullmatch(r"(\w+)\s*=\s*rtnl_lock_killable\s*\(\s*\)\s*;", ft.text(prev))
    return m is not None and re.fullmatch(rf"\(\s*!\s*{m.group(1)}\s*\)", ft.text(cond)) \
        is not None


def find(ctx: RuleContext) -> Iterable[Site]:
    """What the rules before left: T3 (a parent device) or T4 (a private lock); the T0
    form stage 1 writes is already done (a private lock by design)."""
    for cand, ft, node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        try:
            if is_t0_form(ft, node):
                # What stage 1 writes (the loopback reference): register_netdevice() under
                # the function's own rtnl_lock_killable() gives the device a private lock.
                yield ctx.already_done(cand, "T0 form: a private lock by design")
                continue
            dev = cand.call.args[0] if cand.call.args else ""
            parent = parent_candidates(ctx, cand.function, dev.strip(), cand.call.start)
            yield _t3_t4(ctx, cand, parent)
        except NeedsReview as exc:
            yield ctx.review(cand, reason=str(exc))


# --- T3 / T4 ------------------------------------------------------------------------------


def _t3_t4(ctx: RuleContext, cand: Candidate, found: tuple[str, str]) -> Site:
    fn = cand.function
    parent, why = found
    template = "T3" if parent else "T4"
    evidence = cand.evidence()
    try:
        src, fn_node, stmt, var, dev = _shape(ctx, cand)
        edits = _decl(ctx, cand, src, fn_node)
        if parent:
            evidence.append(f"parent device: {parent} ({why}); the child shares its nd_lock; "
                            f"{var} = {stage2_outside.LOCK_FAILED} when lock_netdev({parent}) "
                            "fails (the parent is being unregistered)")
        else:
            evidence.append(f"no parent device: {dev} gets a private nd_lock")
            attach = stage2_outside._attach_new_lock(ctx, fn, fn_node, src, dev, evidence, stmt)
            _no_exit_between(src, fn_node, attach.start, stmt, dev)
            edits.append(attach)
        edits.extend(stage2_outside.child_bracket(fn.file, src, stmt, var, dev, parent,
                                                  ctx.rule.id))
        edits.append(_rename(ctx, cand))
    except NeedsReview as exc:
        return ctx.review(cand, template=template, evidence=evidence,
                          reason=f"register_netdevice() outside .newlink/.changelink: "
                          f"{template} ({'parent ' + parent if parent else 'private lock'}) "
                          f"not applied: {exc}")
    reason = (f"T3: {dev} inherits the nd_lock of parent {parent}" if parent
              else f"T4: {dev} gets a private nd_lock outside rtnetlink")
    return ctx.rewrite(cand, template=template, edits=edits,
                       evidence=evidence, reason=reason)


def _no_exit_between(src: bytes, fn_node: cedit.Node, start: int, stmt: cedit.Node,
                     dev: str) -> None:
    """Between the attach (right after the allocation check) and the registration, an
    exit would free the device with the new lock still attached."""
    found = cedit.exits(src, fn_node, start, stmt.start_byte)
    if found:
        raise NeedsReview(f"{len(found)} exit(s) between the allocation of {dev} and its "
                     f"registration ({found[0].describe(src)}) would leave the attached "
                     "lock behind")


def parent_candidates(ctx: RuleContext, fn: FunctionDef, child: str, call_start: int
                      ) -> tuple[str, str]:
    """A parent device for a device `fn` registers itself: another struct net_device *
    parameter of `fn` (e.g. the lower device a child is created on), else the device the
    stage 2 detection finds through the upper-link field (stage2_outside._parent_device
    with `fn` as both helper and caller)."""
    for p in fn.params:
        if p.name and p.name != child and stage2_common.NET_DEVICE_PTR.search(p.type):
            return p.name, f"struct net_device *{p.name} parameter of {fn.name}()"
    src = ctx.index.source(fn.file)  # type: ignore[attr-defined]
    for call in ctx.index.calls_in(fn):  # type: ignore[attr-defined]
        if call.start == call_start:
            parent, why = stage2_outside._parent_device(ctx, fn, fn, call, child, child, src)  # type: ignore[arg-type]
            if parent and parent != child:
                return parent, why
    return "", ""
