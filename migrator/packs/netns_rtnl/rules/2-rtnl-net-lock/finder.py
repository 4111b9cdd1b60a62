"""2-rtnl-net-lock (netns_rtnl stage 2): rtnl_lock() -> rtnl_net_lock(net) where the
function knows its namespace.

One decision per function: its rtnl_lock()/rtnl_trylock()/rtnl_unlock() calls become
rtnl_net_lock(net)/rtnl_net_trylock(net)/rtnl_net_unlock(net) together, or none does.
They do when

1. the function has one namespace, known without a device (netns.namespace());
2. it takes RTNL and releases it itself on every path (lockflow.Flow);
3. the region from its first RTNL call to its last touches only devices of that
   namespace, or none (check_region(), netns.Devices).

A function with a `struct net *` in scope that fails one of these is a review site, with
the reason and the line that stops the rewrite; a function with no namespace in scope is
not a site (the census counts it). The first RTNL call of a converted function carries
the edits of all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from migrator.callgraph import FnKey, key
from migrator.edit.cedit import NeedsReview
from migrator.edit.fntree import FnTree, Node
from migrator.model import Edit, FunctionDef, Site
from migrator.packs.netns_rtnl.lockflow import API, LOCK, RTNL_CALLS, TRYLOCK, UNLOCK, Flow
from migrator.packs.netns_rtnl.netns import (
    DEV_FIELD,
    ITER,
    MOVES,
    Devices,
    Namespace,
    args,
    callee,
    choose,
    file_function,
    file_variable,
    linked_functions,
    namespaces,
    reaches_linked,
    refuse,
)
from migrator.parse.tree import walk
from migrator.rules.context import Candidate, RuleContext

NEW_NAME = {LOCK: "rtnl_net_lock", UNLOCK: "rtnl_net_unlock", TRYLOCK: "rtnl_net_trylock"}
_BARE_CALL = re.compile(r"rtnl_\w+\s*\(\s*\)")
_EVERY_NET = re.compile(r"for_each_net(?:_\w+)?$")
_MEMBER_ARG = re.compile(r"^(?:h?list|llist)_\w*(?:for_each|entry)\w*$|^container_of\w*$|"
                         r"^offsetof$|^sizeof_field$|^kfree_rcu\w*$|^kvfree_rcu\w*$")
_NOT_GLOBAL = frozenset({"true", "false", "current", "jiffies"})


def _option(ctx: RuleContext, name: str) -> frozenset[str]:
    return frozenset(str(v) for v in ctx.options.get(name, []))


def find(ctx: RuleContext) -> Iterable[Site]:
    """One decision per function holding a selected call (the RTNL API's own definitions
    are not sites); a pernet callback is named in the evidence."""
    by_function: dict[tuple[str, str], list[Candidate]] = {}
    for cand in ctx.candidates:
        by_function.setdefault(key(cand.function), []).append(cand)
    callbacks = {key(r.function): f"the .{r.member} of {r.describe().split(' .', 1)[0]}"
                 for r in ctx.graph.roots(ctx.options.get("index_roots", []))}
    linked = linked_functions(ctx.index, _option(ctx, "index_names"))
    for k, cands in by_function.items():
        fn = cands[0].function
        if fn.name in API:
            continue
        yield from _function_sites(ctx, fn, cands, callbacks.get(k, ""), linked)


def _function_sites(ctx: RuleContext, fn: FunctionDef, cands: list[Candidate],
                    callback: str, linked: dict[FnKey, str]) -> Iterable[Site]:
    ft = FnTree(ctx.index.source(fn.file), fn, ctx.rule.id)
    first = min(c.call.start for c in cands)
    found = namespaces(ft, fn, first, _option(ctx, "net_sources"),
                       _option(ctx, "iterators"), callback)
    if not found:
        return  # no namespace in scope: not a stage 2 site
    origins = [ns.origin for ns in found]
    try:
        ns, others = choose(found)
        edits, reason = _convert(ctx, ft, fn, ns, others, linked)
    except NeedsReview as exc:
        for cand in cands:
            yield ctx.review(cand,
                             reason=f"{cand.call.callee}() stays: {exc.reason}",
                             evidence=[*origins, *exc.evidence, *cand.evidence()])
        return
    for i, cand in enumerate(cands):
        name = cand.call.callee
        yield ctx.rewrite(cand, edits=edits if i == 0 else [],
                          reason=f"{name}() -> {NEW_NAME[name]}({ns.name}): {reason}",
                          evidence=[*origins, *cand.evidence()])


def _convert(ctx: RuleContext, ft: FnTree, fn: FunctionDef, ns: Namespace,
             others: list[Namespace], linked: dict[FnKey, str]) -> tuple[list[Edit], str]:
    flow = Flow(ft)
    flow.run()
    devices = Devices(ft, ns.name, _option(ctx, "lookups"), _option(ctx, "iterators"))
    devices.classify(fn)
    region = list({(n.start_byte, n.end_byte, n.type): n
                   for r in flow.held for n in walk(r)}.values())
    touched = check_region(ctx, ft, ns, devices, region, {o.name for o in others})
    _check_linked(ctx, ft, region, linked)
    edits = []
    for call in sorted(flow.calls, key=ft.start):
        name = callee(call, ft)
        if not _BARE_CALL.fullmatch(ft.text(call)):
            raise refuse(ft, call, f"{name}() is not written as a plain call")
        edits.append(ft.edit(ft.start(call), ft.end(call), f"{NEW_NAME[name]}({ns.name})"))
    return edits, (f"the devices it touches ({', '.join(sorted(touched))}) come from "
                   f"{ns.name}'s own lookups" if touched
                   else "the locked region touches no device")


def check_region(ctx: RuleContext, ft: FnTree, ns: Namespace, devices: Devices,
                 region: list[Node], others: set[str]) -> set[str]:
    """The devices of the namespace that the region (the nodes that run with RTNL held)
    touches; NeedsReview at the first thing it touches that is not known to be of the
    namespace: first a lookup or a walk outside it, then a device, a namespace or a
    variable of the whole kernel not known to be its, then a call given neither the
    namespace nor one of its devices or objects."""
    net = ns.name
    lookups = _option(ctx, "lookups") | _option(ctx, "iterators")
    safe = re.compile("|".join(f"(?:{p})" for p in ctx.options.get("safe_calls", [])) or "$^")
    calls = [n for n in region if n.type == "call_expression"]
    for n in calls:
        _check_lookup(ft, n, net, lookups)
    touched: set[str] = set()
    declared = {p.name for p in (*ft.fn.params, *ft.fn.locals)}
    for n in region:
        if n.type == "identifier" and not _is_callee(n):
            name = ft.text(n)
            if name == "init_net" and net != "init_net":
                raise refuse(ft, n, "touches init_net, another namespace")
            if name in others:
                raise refuse(ft, n, f"touches namespace {name}, not the one locked ({net})")
            if name in devices.good:
                touched.add(name)
            elif name in devices.origin:
                raise refuse(ft, n, f"uses device {devices.origin[name]}, not one looked up in "
                             f"{net}")
            elif name not in declared and name not in _NOT_GLOBAL and not name.isupper() \
                    and not _address_of(ft, n) and not _member_name(ft, n) \
                    and not file_function(ft.src, name):
                line = file_variable(ft.src, name)
                where = f" ({ft.fn.file}:{line})" if line is not None else ""
                raise refuse(ft, n, f"uses {name}, not a local of the function: a variable "
                             f"of the whole kernel{where} that RTNL may protect for every "
                             "namespace")
        elif n.type == "field_expression":
            field = n.child_by_field_name("field")
            if field is not None and DEV_FIELD.search(ft.text(field)):
                base = _base(ft, n)
                if base != net and base not in devices.good:
                    raise refuse(ft, n, f"reaches a device through {ft.text(n)}, not one "
                                 f"looked up in {net}")
    for n in calls:
        _check_call(ft, n, net, devices, safe)
    return touched & devices.devices


def _check_linked(ctx: RuleContext, ft: FnTree, region: list[Node],
                  linked: dict[FnKey, str]) -> None:
    """No call of the region walks to upper/lower/master devices, itself or through a
    function the index knows."""
    names = _option(ctx, "index_names")
    for n in region:
        if n.type != "call_expression":
            continue
        name = callee(n, ft)
        if name in names:
            raise refuse(ft, n, f"{name}() reaches devices linked to a device (upper, lower, "
                         "master) or a driver's ioctl, which may be in another namespace")
        for target in ctx.graph.resolve_name(ft.fn.file, name):
            chain = linked.get(key(target))
            if chain is not None:
                raise refuse(ft, n, f"{name}() reaches devices linked to a device (upper, "
                             "lower, master) or a driver's ioctl, which may be in another "
                             f"namespace: {name}() -> {chain}")


def _member_name(ft: FnTree, n: Node) -> bool:
    """The member-name argument of list_for_each_entry(pos, head, member) and kin
    (`user.list` included), or the id given to net_generic(net, foo_net_id)."""
    arg = n
    while arg.parent is not None and arg.parent.type == "field_expression":
        arg = arg.parent
    parent = arg.parent
    call = parent.parent if parent is not None else None
    if parent is None or parent.type != "argument_list" or call is None:
        return False
    name = callee(call, ft)
    if name == "net_generic":
        return parent.named_children[-1] == n
    return bool(_MEMBER_ARG.search(name)) and parent.named_children[-1] == arg


def _address_of(ft: FnTree, n: Node) -> bool:
    """`&name`: the address of a file variable (`dev->rtnl_link_ops == &foo_link_ops`)."""
    parent = n.parent
    return parent is not None and parent.type == "pointer_expression" \
        and ft.text(parent).startswith("&")


def _is_callee(n: Node) -> bool:
    parent = n.parent
    return parent is not None and parent.type == "call_expression" \
        and parent.child_by_field_name("function") == n


def _check_lookup(ft: FnTree, n: Node, net: str, lookups: frozenset[str]) -> None:
    name = callee(n, ft)
    given = args(n)
    if name in lookups:
        first = ft.text(given[0]) if given else ""
        if first != net:
            raise refuse(ft, n, f"{name}({first}, ...) looks a device up outside {net}")
    elif _EVERY_NET.match(name):
        raise refuse(ft, n, f"{name}() walks every namespace")
    elif name in MOVES:
        raise refuse(ft, n, f"{name}() moves a device to another namespace")


def _check_call(ft: FnTree, n: Node, net: str, devices: Devices, safe: re.Pattern[str]
                ) -> None:
    name = callee(n, ft)
    if name in RTNL_CALLS or name in devices.lookups or name in devices.iterators:
        return
    names = {ft.text(i) for a in args(n) for i in walk(a) if i.type == "identifier"}
    if ITER.search(name) and not devices.of_namespace(names):
        raise refuse(ft, n, f"{name}() walks a list that is not {net}'s")
    if safe.fullmatch(name):
        return
    if names & devices.devices and reaches_linked(name):
        raise refuse(ft, n, f"{name}() reaches the devices linked to a device of {net} "
                     "(upper, lower, real device), which may be in another namespace")
    if devices.of_namespace(names):
        return
    raise refuse(ft, n, f"calls {name}() without {net} or a device of {net}: what it "
                 "touches is not known")


def _base(ft: FnTree, node: Node) -> str:
    """`a->b.c->dev` -> "a"."""
    cur = node
    while cur.type in ("field_expression", "subscript_expression", "parenthesized_expression",
                       "pointer_expression", "cast_expression"):
        inner = cur.child_by_field_name("argument") or cur.child_by_field_name("value") \
            or (cur.named_children[-1] if cur.named_children else None)
        if inner is None:
            break
        cur = inner
    return ft.text(cur)
