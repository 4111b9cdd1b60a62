"""Stage 3: register_netdevice() outside .newlink/.changelink, split into rules whose
precedence the engine applies (`[select] after`: a rule does not see the calls the
rules before it claimed):

1. stage3-core-api: the function is itself an API another rule migrates the callers
   of (e.g. register_netdev() in net/core): review "core API", never rewritten;
2. stage3-t7-fallback-family: configured fallback family (`families`): T7, the helper
   attaches &fallback_nd_lock and its in-tree callers take fallback_nd_lock.mutex
   around the call on every exit path; review when a caller already holds another
   lock there;
3. stage3-t5-notifier: reached from a netdevice notifier: T5, review unless
   `t5 = "rewrite"`;
4. stage3-t7-known-family: known, unconfigured family: review (pure data);
5. stage3-t3-t4-parent-or-private: T3 (a parent device is identifiable) or T4
   (private lock), rewritten when the statement shape and the error path are ones
   the templates cover. The T0 form stage 1 writes (`v = rtnl_lock_killable(); if
   (!v) { v = register_netdevice(d); ...`) is claimed as no site: register_netdevice()
   gives the device its private lock by design.
"""

from __future__ import annotations

from collections.abc import Iterable

from migrator.callgraph import key
from migrator.edit import cedit
from migrator.edit.cedit import NeedsReview
from migrator.model import FunctionDef, Site
from migrator.packs.nd_lock import stage1, stage2_common, stage2_outside
from migrator.packs.nd_lock.common import (
    netdev_notifier_roots,
    other_rule_calls,
    real_calls,
)
from migrator.packs.nd_lock.stage3_fallback import _t7
from migrator.packs.nd_lock.stage3_notifier import _t5
from migrator.packs.nd_lock.stage3_shape import _decl, _rename, _shape
from migrator.rules.context import Candidate, RuleContext


def netdev_notifiers(ctx: RuleContext) -> dict[tuple[str, str], list[str]]:
    """Functions reachable from the .notifier_call of a notifier_block that is passed to
    register_netdevice_notifier*() somewhere in the index."""
    return ctx.graph.reach(netdev_notifier_roots(ctx))  # type: ignore[arg-type]


def core_api(ctx: RuleContext) -> Iterable[Site]:
    """Binds the rule migrating the callers of the function the call is in: a function so
    named *is* that API, its lock handling the core patch's."""
    api = other_rule_calls(ctx)
    for cand, _ft, _node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        name = cand.function.name
        if name in api:
            yield ctx.site(cand, outcome="review",
                           reason=f"core API: {name}() is itself the registration API "
                           f"migrated by rule {api[name]}; its lock handling belongs to "
                           "the core patch")
    yield from ctx.macro_sites(lambda c: c.function.name in api)


def t7_fallback(ctx: RuleContext) -> Iterable[Site]:
    """The calls of the configured families (`[select] in_dirs = "{families}"`): T7."""
    for cand, _ft, _node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        try:
            yield from _t7(ctx, cand, cand.binds["in_dir"])
        except NeedsReview as exc:
            yield ctx.site(cand, outcome="review", reason=str(exc))


def t5_notifier(ctx: RuleContext) -> Iterable[Site]:
    """Binds the chain from a netdevice notifier: only the notifier_blocks passed to
    register_netdevice_notifier*() count (netdev_notifier_roots), so it is not a plain
    `reachable_from`. T5: review unless `t5 = "rewrite"`."""
    notif = netdev_notifiers(ctx)
    rewrite = str(ctx.options.get("t5", "review")) == "rewrite"
    for cand, _ft, _node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        chain = notif.get(key(cand.function))
        if chain is None:
            continue
        cand.chain = chain
        if not rewrite:
            yield ctx.site(cand, outcome="review",
                           reason="registration from a netdevice notifier: T5 "
                           "(private lock via alloc_nd_lock()/mutex_trylock()); "
                           "review by default, --t5=rewrite to apply")
            continue
        try:
            yield _t5(ctx, cand)
        except NeedsReview as exc:
            yield ctx.site(cand, outcome="review", reason=str(exc))
    yield from ctx.macro_sites(lambda c: key(c.function) in notif)


def t3_t4(ctx: RuleContext) -> Iterable[Site]:
    """What the rules before left: T3 (a parent device) or T4 (a private lock); the T0
    form stage 1 writes is claimed as no site."""
    for cand, ft, node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        try:
            if stage1.is_t0_form(ft, node):
                # What stage 1 writes (the loopback reference): register_netdevice() under
                # the function's own rtnl_lock_killable() gives the device a private lock.
                ctx.claim(cand)
                continue
            dev = cand.call.args[0] if cand.call.args else ""
            parent = parent_candidates(ctx, cand.function, dev.strip(), cand.call.start)
            yield _t3_t4(ctx, cand, parent)
        except NeedsReview as exc:
            yield ctx.site(cand, outcome="review", reason=str(exc))


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
        return ctx.site(cand, outcome="review", template=template, evidence=evidence,
                        reason=f"register_netdevice() outside .newlink/.changelink: "
                        f"{template} ({'parent ' + parent if parent else 'private lock'}) "
                        f"not applied: {exc}")
    reason = (f"T3: {dev} inherits the nd_lock of parent {parent}" if parent
              else f"T4: {dev} gets a private nd_lock outside rtnetlink")
    return ctx.site(cand, outcome="rewrite", template=template, edits=edits,
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
