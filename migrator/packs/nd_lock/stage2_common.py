"""Stage 2 analyses: what the T2, T3/T4/T6 and link_deps finders share.

Stage 2's finders are in its rule folders (rules/stage2-*/finder.py): T2 peer
inherits, T3/T4 callers outside rtnetlink (their walk: stage2_outside), T6 (its
decisions: stage2_threaded) and link_deps.  Every decision is
derived from the code of the tree (assignments, error branches, parameter positions);
when a shape is not one the templates cover, the site is a review with the evidence
that led there, never a partial rewrite.
"""

from __future__ import annotations

import re

from migrator.callgraph import FnKey, key
from migrator.edit import cedit
from migrator.edit.edits import line_of
from migrator.model import CallSite, FunctionDef
from migrator.rules.context import At, RuleContext

NEWLINK_ROOTS = ("rtnl_link_ops.newlink", "rtnl_link_ops.changelink")
NET_DEVICE_PTR = re.compile(r"\bstruct\s+net_device\s*\*")
_ASSIGN_FROM_CALL = r"(?m)^\s*{var}\s*=\s*(\w+)\s*\("
LOCK_FROM_DEV = "rcu_dereference_protected({dev}->nd_lock, true)"
UPPER_LINK_CALLS = ("netdev_upper_dev_link", "netdev_master_upper_dev_link")


def _at(ctx: RuleContext, fn: FunctionDef, offset: int, end: int) -> At:
    """A site in `fn` at bytes [offset, end) of its file."""
    return At(fn.file, fn.name, line_of(ctx.index.source(fn.file), offset), offset, end)


def _net_device_params(fn: FunctionDef) -> list[str]:
    return [p.name for p in fn.params if p.name and NET_DEVICE_PTR.search(p.type)]


def _first_arg(call: CallSite) -> str:
    return call.args[0].strip() if call.args else ""


def _error_branch(src: bytes, stmt: cedit.Node, var: str) -> cedit.Node | None:
    """The first `if (<var> ...)` after `stmt` in its block (the registration's error
    test, possibly after unrelated statements such as `put_net(net);`)."""
    for following in list(cedit.statements_from(stmt))[1:6]:
        if following.type == "if_statement":
            cond = following.child_by_field_name("condition")
            if cond is not None and re.search(rf"\b{re.escape(var)}\b", cedit.text(src, cond)):
                return following
    return None


def _free_netdev_on_path(src: bytes, fn_node: cedit.Node, branch: cedit.Node,
                         dev: str) -> cedit.Node | None:
    """Statement `free_netdev(dev);` reached from the error branch: inside it, or at the
    label it jumps to (before the next return)."""
    consequence = branch.child_by_field_name("consequence")
    places: list[cedit.Node] = []
    if consequence is not None:
        places.extend(consequence.named_children if consequence.type == "compound_statement"
                      else [consequence])
    label = cedit.error_goto_after(src, branch)
    if label:
        target = cedit.labels(src, fn_node).get(label)
        if target is not None:
            places.extend(cedit.statements_from(target))
    for stmt in places:
        if stmt.type == "labeled_statement":
            continue
        for call in cedit.calls_named(src, stmt, ["free_netdev"]):
            args = call.child_by_field_name("arguments")
            if args is not None and cedit.text(src, args).strip("() ") == dev:
                return stmt
        if stmt.type in ("return_statement",):
            break
    return None


def _result_var(src: bytes, stmt: cedit.Node, call: CallSite) -> str | None:
    """`err` of `err = f(...);` / `if ((err = f(...)) ...)`; None for other shapes."""
    stmt_text = cedit.text(src, stmt)
    m = re.match(r"(?:if\s*\(\s*\(\s*)?(\w+)\s*=\s*" + re.escape(call.callee) + r"\s*\(",
                 stmt_text)
    return m.group(1) if m else None


def _registered_param(ctx: RuleContext, fn: FunctionDef, reach: dict[FnKey, list[str]],
                      seen: set[FnKey]) -> tuple[int, str] | None:
    """(index, name) of the parameter of `fn` that ends up registered by
    register_netdevice(), following calls into reachable helpers."""
    if key(fn) in seen:
        return None
    seen.add(key(fn))
    params = [p.name for p in fn.params]
    for call in ctx.index.calls_in(fn):
        if call.callee in ("register_netdevice", "__register_netdevice"):
            arg = _first_arg(call)
            if arg in params:
                return params.index(arg), arg
            continue
        for callee in ctx.graph.resolve(call):
            if key(callee) not in reach or (callee.file != fn.file and callee.is_static):
                continue
            inner = _registered_param(ctx, callee, reach, seen)
            if inner is not None and inner[0] < len(call.args):
                arg = call.args[inner[0]].strip()
                if arg in params:
                    return params.index(arg), arg
    return None


def _ancestors(ctx: RuleContext, fn: FunctionDef, reach: dict[FnKey, list[str]]
               ) -> list[FunctionDef]:
    """`fn` and the reachable functions calling it, transitively."""
    out: dict[FnKey, FunctionDef] = {key(fn): fn}
    todo = [fn]
    while todo:
        cur = todo.pop()
        for call in ctx.graph.callers(cur):
            caller = ctx.index.function(call.file, call.caller)
            if caller is not None and key(caller) in reach and key(caller) not in out:
                out[key(caller)] = caller
                todo.append(caller)
    return list(out.values())
