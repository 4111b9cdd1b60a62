"""Stage 3: the registration's shape and the edits every stage 3 template makes (the
rename to __register_netdevice(), the nd_lock declaration, the unlock after it), shared
by the finders of T3/T4, T5 and T7.

Stage 3's rules split the register_netdevice() calls outside .newlink/.changelink; the
engine applies their precedence (`[select] after`: a rule does not see the calls the
rules before it claimed):

1. stage3-core-api: the function is itself an API another rule migrates the callers of
   (register_netdev() in net/core): review "core API", never rewritten;
2. stage3-t7-fallback-family: configured fallback family (`families`): T7;
3. stage3-t5-notifier: reached from a netdevice notifier: T5, review unless
   `t5 = "rewrite"`;
4. stage3-t7-known-family: known, unconfigured family: review (pure data);
5. stage3-t3-t4-parent-or-private: T3 (a parent device) or T4 (a private lock); the T0
   form stage 1 writes is already done.
"""

from __future__ import annotations

import re

from migrator.edit import cedit
from migrator.edit.cedit import NeedsReview
from migrator.model import Edit
from migrator.rules.context import Candidate, RuleContext

RENAMED = "__register_netdevice"
ND_LOCK_DECL = "struct nd_lock *nd_lock;"


def _located(ctx: RuleContext, cand: Candidate, tag: str = "", *, unbraced: bool = False
             ) -> tuple[bytes, str, cedit.Node, cedit.Node]:
    """(src, registered device, function node, statement holding the registration);
    `unbraced`: the statement may be the un-braced body of a branch (the edits then go
    through cedit.wrap()/guard(), which add the braces)."""
    call = cand.call
    src = ctx.index.source(call.file)
    dev = call.args[0].strip() if call.args else ""
    if not dev.isidentifier():
        raise NeedsReview(f"{tag}registered device {dev!r} is not a plain variable")
    fn_node = cedit.function_node(src, call.start)
    if fn_node is None:
        raise NeedsReview(f"{tag}function not re-parsed")
    if unbraced:
        return src, dev, fn_node, cedit.innermost_statement(fn_node, call.start)
    return src, dev, fn_node, cedit.enclosing_statement(fn_node, call.start)


def _shape(ctx: RuleContext, cand: Candidate) -> tuple[bytes, cedit.Node, cedit.Node, str, str]:
    """(src, function node, `<var> = register_netdevice(<dev>);` statement, var, dev)."""
    src, dev, fn_node, stmt = _located(ctx, cand, unbraced=True)
    if stmt.type != "expression_statement":
        raise NeedsReview(f"registration inside a {stmt.type.replace('_', ' ')}: the result must "
                     "be stored in a variable first (`err = register_netdevice(dev);`)")
    m = re.fullmatch(rf"(\w+)\s*=\s*register_netdevice\s*\(\s*{re.escape(dev)}\s*\)\s*;",
                     cedit.text(src, stmt))
    if m is None:
        raise NeedsReview("registration is not `<err> = register_netdevice(<dev>);`")
    return src, fn_node, stmt, m.group(1), dev


def _rename(ctx: RuleContext, cand: Candidate) -> Edit:
    call = cand.call
    src = ctx.index.source(call.file)
    end = call.start + len("register_netdevice")
    if src[call.start:end] != b"register_netdevice":
        raise NeedsReview("source changed since indexing")
    return Edit(call.file, call.start, end, RENAMED, ctx.rule.id)


def _decl(ctx: RuleContext, cand: Candidate, src: bytes, fn_node: cedit.Node) -> list[Edit]:
    d = cedit.add_local_declaration(cand.call.file, src, fn_node, ND_LOCK_DECL, ctx.rule.id)
    return [d] if d is not None else []


def _unlock_after(ctx: RuleContext, cand: Candidate, src: bytes, stmt: cedit.Node, var: str,
                  dev: str) -> Edit:
    return cedit.insert_after_statement(
        cand.call.file, src, stmt,
        [f"if ({var})", f"\tdetach_nd_lock({dev});", "unlock_netdev(nd_lock);"], ctx.rule.id)
