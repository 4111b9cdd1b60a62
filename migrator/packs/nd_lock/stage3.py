"""Stage 3: register_netdevice() outside .newlink/.changelink.

Per call, in this order:
- the function is itself an API another rule migrates the callers of (e.g.
  register_netdev() in net/core): review "core API", never rewritten;
- configured fallback family (`families`): T7, the helper attaches
  &fallback_nd_lock and its in-tree callers take fallback_nd_lock.mutex around the
  call on every exit path; review when a caller already holds another lock there;
- reached from a netdevice notifier: T5, review unless `t5 = "rewrite"`;
- known, unconfigured family: review;
- else T3 (a parent device is identifiable) or T4 (private lock), rewritten when the
  statement shape and the error path are ones the templates cover.  The T0 form stage 1
  writes (`v = rtnl_lock_killable(); if (!v) { v = register_netdevice(d); ...`) is not a
  site: register_netdevice() gives the device its private lock by design.
"""

from __future__ import annotations

from collections.abc import Iterable

from migrator.callgraph import key
from migrator.edit import cedit
from migrator.edit.cedit import NeedsReview
from migrator.model import FunctionDef, Site
from migrator.packs.nd_lock import stage1, stage2_common, stage2_outside
from migrator.packs.nd_lock.common import NOTIFIER_REGISTER as _REGISTER
from migrator.packs.nd_lock.common import (
    in_family,
    netdev_notifier_roots,
    other_rule_calls,
    real_calls,
)
from migrator.packs.nd_lock.stage3_fallback import _t7
from migrator.packs.nd_lock.stage3_notifier import _t5
from migrator.packs.nd_lock.stage3_shape import _decl, _rename, _shape
from migrator.rules.context import Candidate, RuleContext

NOTIFIER_REGISTER = tuple(_REGISTER)


def netdev_notifiers(ctx: RuleContext) -> dict[tuple[str, str], list[str]]:
    """Functions reachable from the .notifier_call of a notifier_block that is passed to
    register_netdevice_notifier*() somewhere in the index."""
    return ctx.graph.reach(netdev_notifier_roots(ctx))  # type: ignore[arg-type]


def t3(ctx: RuleContext) -> Iterable[Site]:
    families = list(ctx.options.get("families", []))
    known = list(ctx.options.get("known_families", []))
    t5 = str(ctx.options.get("t5", "review"))
    notif = netdev_notifiers(ctx)
    api = other_rule_calls(ctx)
    for cand, ft, node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        k = key(cand.function)
        fam = in_family(cand.call.file, families)
        template = None
        try:
            if cand.function.name in api:
                yield ctx.review(cand, template="core",
                                 reason=f"core API: {cand.function.name}() is itself the "
                                 f"registration API migrated by rule {api[cand.function.name]}; "
                                 "its lock handling belongs to the core patch")
                continue
            stmt = ft.statement_of(node)
            dev = cand.call.args[0] if cand.call.args else ""
            if fam:
                template = "T7"
                yield from _t7(ctx, cand, ft, node, stmt, dev, fam)
                continue
            if k in notif:
                cand.chain = notif[k]
                template = "T5"
                if t5 != "rewrite":
                    yield ctx.review(cand, template="T5",
                                     reason="registration from a netdevice notifier: T5 "
                                     "(private lock via alloc_nd_lock()/mutex_trylock()); "
                                     "review by default, --t5=rewrite to apply")
                    continue
                yield _t5(ctx, cand)
                continue
            kfam = in_family(cand.call.file, known)
            if kfam:
                yield ctx.review(cand, template="T7",
                                 reason=f"fallback family {kfam}: configure it in `families` "
                                 "to register on fallback_nd_lock")
                continue
            if stage1.is_t0_form(ft, node):
                # What stage 1 writes (the loopback reference): register_netdevice() under
                # the function's own rtnl_lock_killable() gives the device a private lock.
                yield ctx.already_done(cand, "T0 form: a private lock by design")
                continue
            parent = parent_candidates(ctx, cand.function, dev.strip(), cand.call.start)
            yield _t3_t4(ctx, cand, parent)
        except NeedsReview as exc:
            yield ctx.review(cand, template=template, reason=str(exc))


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
