"""stage4-t8-master-link (T8): master links under double_lock_netdev(), at the link call
or at the legacy enslave entry point (ioctl/sysfs caller of a function reaching the link).

This finder decides where the locks go and binds {a} and {b}, the two devices (as the
link call writes them, or carried up the call chain to the entry point's arguments); the
edit itself is the rule's `[fix]` (rule.toml), applied with `ctx.fix()` at either place.
At the link when its callers do not hold the locks. When every path to the link goes
through an ioctl/sysfs entry point or a callback the core runs with both locks held
(.ndo_add_slave, .newlink, .changelink), at each entry point instead, and the link is a
review site without edit saying why; so is a link reached only from those callbacks.
Review: a link made from a netdevice notifier (it needs deferral to a work item), a
link reached both with the locks held and without them (each unlocked caller is then a
review site of its own), and a call or argument the fix cannot place."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import replace

from migrator.callgraph import key
from migrator.edit.cedit import NeedsReview
from migrator.edit.edits import line_of
from migrator.model import CallSite, FunctionDef, Site
from migrator.packs.nd_lock.common import FnTree, netdev_notifier_roots, real_calls
from migrator.rules.context import At, Candidate, RuleContext

LINK = "netdev_master_upper_dev_link"
IOCTL_ROOTS = ("net_device_ops.ndo_siocdevprivate", "net_device_ops.ndo_do_ioctl",
               "net_device_ops.ndo_eth_ioctl", "net_device_ops.ndo_siocbond")
# The core holds both devices' locks around these callbacks.
LOCKED_ROOTS = ("net_device_ops.ndo_add_slave", "rtnl_link_ops.newlink",
                "rtnl_link_ops.changelink")
NOTIFIER_ROOTS = ("notifier_block.notifier_call",)
SYSFS_PARAM = re.compile(r"struct (device|class|kobj)_attribute\b")


def is_sysfs_handler(fn: FunctionDef) -> bool:
    return any(SYSFS_PARAM.search(p.type) for p in fn.params)


def find(ctx: RuleContext) -> Iterable[Site]:
    ioctl, _ = ctx.view.reach(IOCTL_ROOTS)
    locked, _ = ctx.view.reach(LOCKED_ROOTS)
    notif, _ = ctx.view.reach(NOTIFIER_ROOTS)
    notif = {**ctx.graph.reach(netdev_notifier_roots(ctx)), **notif}  # type: ignore[arg-type]
    for cand, ft, node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        fn = cand.function
        k = key(fn)
        if k in notif:
            cand.chain = notif[k]
            yield ctx.review(cand,
                             reason="master link made from a netdevice notifier: needs "
                             "deferral out of the notifier (work item)")
            continue
        entries, uncovered = _boundary(ctx, fn, ioctl, locked, {k})
        if k in locked:
            cand.chain = locked[k]
        if k in locked and uncovered:
            # Bracketing here would nest inside the locks the core already holds on the
            # .ndo_add_slave/.newlink path; the other callers need them: a human decides,
            # at each of those callers (one review site each) and at the link.
            unlocked = [*(c for c, _g, _chain in entries), *uncovered]
            yield ctx.review(cand, evidence=[
                *cand.evidence(), *(f"{c.file}:{c.line} {c.caller}() calls {c.callee}() "
                                    "without the locks (listed as its own site)"
                                    for c in unlocked)],
                reason="T8 not applied: reached from a callback the core calls with both "
                "locks held and from callers that do not hold them")
            yield from _unlocked_callers(ctx, cand, entries, uncovered)
            continue
        if k in locked and not entries:
            yield ctx.review(cand,
                             reason="no edit: reached only from "
                             f"{_root_name(ctx, cand)}: the core holds both locks")
            continue
        try:
            ft.statement_of(node)
            if entries and not uncovered:
                yield ctx.review(cand, evidence=[
                    *cand.evidence(), *(f"{c.file}:{c.line} {g.name}() (ioctl/sysfs "
                                        "entry point) is bracketed instead"
                                        for c, g, _chain in entries)],
                    reason="no edit at the link: every caller holds both locks "
                    "(the core, or T8 at the ioctl/sysfs entry point)")
                yield from _entries(ctx, cand, ft, node, entries)
                continue
            # at the link: the rule's [fix] with the link's two devices as written
            edits = ctx.fix(cand, ft=ft, a=cand.call.args[0], b=cand.call.args[1])
        except NeedsReview as exc:
            yield ctx.review(cand, reason=f"T8 not applied: {exc}")
            continue
        if edits is None:  # converted already (the rule's done_when)
            yield ctx.already_done(cand)
            continue
        yield ctx.rewrite(cand, edits=edits, reason="T8: master link under double_lock_netdev()")


def _unlocked_callers(ctx: RuleContext, cand: Candidate, entries: list[Entry],
                      uncovered: list[CallSite]) -> Iterable[Site]:
    """A review site at each call that reaches the link without both locks, when the link
    itself is also reached with them (nothing is bracketed there): the place to change."""
    fn = cand.function
    link = (f"{fn.file}:{cand.call.line} {fn.name}() links "
            f"{', '.join(cand.call.args[:2])} ({LINK}())")
    seen: set[tuple[str, int]] = set()
    for call, kind in [*((c, "ioctl/sysfs entry point") for c, _g, _chain in entries),
                       *((c, "caller") for c in uncovered)]:
        if (call.file, call.start) in seen:
            continue
        seen.add((call.file, call.start))
        caller = ctx.index.function(call.file, call.caller)
        evidence = [f"{kind}: {call.file}:{call.line} {call.caller}() calls "
                    f"{call.callee}({', '.join(call.args)}) without both locks",
                    f"link: {link}",
                    "locked path: " + " -> ".join([*cand.chain, LINK]) if cand.chain
                    else f"locked path: {_root_name(ctx, cand)}"]
        reason = (f"T8 needed here: {call.caller}() reaches {fn.name}()'s master link "
                  "without double_lock_netdev(), while the core calls it with both locks "
                  "held on another path; not rewritten")
        if caller is not None:
            yield ctx.review(Candidate(call, caller, [], None),
                             evidence=evidence, reason=reason)
        else:
            yield ctx.review(At.call(call), reason, evidence=[*evidence, "caller not parsed"])


def _root_name(ctx: RuleContext, cand: Candidate) -> str:
    first = cand.chain[0] if cand.chain else cand.function.name
    for root in ctx.graph.roots(LOCKED_ROOTS):
        if root.function.name == first:
            return f".{root.member} ({root.function.name})"
    return ".ndo_add_slave/.newlink/.changelink"


Entry = tuple[CallSite, FunctionDef, list[FunctionDef]]


def _boundary(ctx: RuleContext, fn: FunctionDef, ioctl: dict, locked: dict,  # type: ignore[type-arg]
              seen: set[tuple[str, str]], depth: int = 4
              ) -> tuple[list[Entry], list[CallSite]]:
    """Where the locks must be taken for the calls of `fn`: (entries, uncovered).

    An entry (call, g, chain) is a call in an ioctl/sysfs-reached function g that is not
    itself run by the core with the locks held; g calls chain[0], which reaches `fn`
    through the chain.  A caller the core runs with both locks (reached from .ndo_add_slave
    and the like) is covered on that path, but its own callers are asked the same
    question: bracketing inside it would nest in the core's locks on the covered path."""
    entries: list[Entry] = []
    uncovered: list[CallSite] = []
    for call in ctx.graph.callers(fn):
        if call.caller == fn.name:
            continue  # recursion
        if call.via_member and any(root.endswith("." + call.callee) for root in LOCKED_ROOTS):
            continue  # the core's `ops->ndo_add_slave(...)` dispatch: under both locks
        g = ctx.index.function(call.file, call.caller)
        if g is None:
            uncovered.append(call)
        elif key(g) in locked:
            if key(g) in seen:
                continue
            if depth == 0:
                uncovered.append(call)
                continue
            more, left = _boundary(ctx, g, ioctl, locked, seen | {key(g)}, depth - 1)
            entries.extend((c, h, [*chain, fn]) for c, h, chain in more)
            uncovered.extend(left)
        elif key(g) in ioctl or is_sysfs_handler(g):
            entries.append((call, g, [fn]))
        else:
            uncovered.append(call)
    return entries, uncovered


def _lift(ctx: RuleContext, exprs: list[str], chain: list[FunctionDef]) -> list[str]:
    """The link's device expressions, written in chain[-1]'s parameters, rewritten in
    chain[0]'s parameters through the calls along the chain."""
    for upper, lower in reversed(list(itertools.pairwise(chain))):
        uft = FnTree(ctx.index.source(upper.file), upper, ctx.rule.id)
        forms = set()
        for node in uft.calls(lower.name):
            args_node = node.child_by_field_name("arguments")
            forms.add(tuple(uft.text(a) for a in (args_node.named_children if args_node
                                                  else []) if a.type != "comment"))
        if len(forms) != 1:
            raise NeedsReview(f"{upper.name}() calls {lower.name}() {len(forms)} different ways")
        exprs = _substitute(exprs, lower, forms.pop())
    return exprs


def _substitute(exprs: list[str], callee: FunctionDef, args: tuple[str, ...]) -> list[str]:
    params = [p.name for p in callee.params]
    if len(args) != len(params):
        raise NeedsReview(f"argument count of a {callee.name}() call differs from the definition")
    subst = dict(zip(params, args, strict=True))
    out = []
    for expr in exprs:
        root = re.match(r"\w+", expr)
        if root is None or root.group(0) not in subst:
            raise NeedsReview(f"link argument {expr!r} is not derived from a parameter of "
                         f"{callee.name}()")
        out.append(_sub(subst[root.group(0)], expr[root.end():]))
    return out


def _entries(ctx: RuleContext, cand: Candidate, ft: FnTree, node: object,
             entries: list[Entry]) -> Iterable[Site]:
    """Bracket each ioctl/sysfs call of the function instead of the link inside it."""
    fn = cand.function
    done: set[tuple[str, str]] = set()
    for _call, g, chain in entries:
        if (g.file, g.name) in done:
            continue
        done.add((g.file, g.name))
        top = chain[0]
        gft = FnTree(ctx.index.source(g.file), g, ctx.rule.id)
        for gnode in gft.calls(top.name):
            args_node = gnode.child_by_field_name("arguments")
            args = tuple(gft.text(a) for a in (args_node.named_children if args_node else [])
                         if a.type != "comment")
            call = replace(_call, start=gft.start(gnode), end=gft.end(gnode), args=args,
                           line=line_of(gft.src, gft.start(gnode)))
            # the call is g's; the path from its callee down to the link is evidence below
            entry = Candidate(call, g, [g.name], None)
            path = ([f"path to the link: {' -> '.join(f.name for f in chain)}"]
                    if len(chain) > 1 else [])
            try:
                lifted = _lift(ctx, list(cand.call.args[:2]), chain)
                devs = _substitute(lifted, top, args)
                # double_lock_netdev() orders the locks itself; keep the callee's order.
                order = [p.name for p in top.params]
                ranked = sorted(zip(lifted, devs, strict=True),
                                key=lambda pair: order.index(re.match(r"\w+", pair[0])
                                                             .group(0)))  # type: ignore[union-attr]
                # the rule's [fix] at the entry call, with the devices carried up to it
                edits = ctx.fix(entry, ft=gft, a=ranked[0][1], b=ranked[1][1])
            except NeedsReview as exc:
                yield ctx.review(entry,
                                 reason=f"T8 entry point not applied: {exc}")
                continue
            if edits is None:  # converted already (the rule's done_when)
                yield ctx.already_done(entry)
                continue
            yield ctx.rewrite(entry, edits=edits,
                              evidence=[*entry.evidence(), *path,
                                        f"{fn.file}:{cand.call.line} {fn.name}() links "
                                        f"{', '.join(cand.call.args[:2])}"],
                              reason=f"T8: legacy enslave entry point {top.name}() under "
                              "double_lock_netdev()")


def _sub(arg: str, rest: str) -> str:
    if not rest:
        return arg
    return (arg if re.fullmatch(r"[\w.\->]+", arg) else f"({arg})") + rest
