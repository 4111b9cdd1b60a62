"""Stage 3: the registration's shape and the edits every stage 3 template makes (the
rename to __register_netdevice(), the nd_lock declaration, the unlock after it).
"""

from __future__ import annotations

import re

from migrator.edit import cedit
from migrator.edit.cedit import NeedsReview
from migrator.model import Edit
from migrator.packs.nd_lock.common import ND_LOCK_DECL
from migrator.rules.context import Candidate, RuleContext

RENAMED = "__register_netdevice"


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
