"""The toy pack's finder: bracket a frob(dev) statement with bar_lock(dev)/bar_unlock(dev)."""

from __future__ import annotations

from migrator.edit import cedit
from migrator.model import Site
from migrator.rules.context import RuleContext


def bracket(ctx: RuleContext) -> list[Site]:
    sites = []
    for cand in ctx.candidates:
        src = ctx.index.source(cand.call.file)
        fn_node = cedit.function_node(src, cand.call.start)
        if fn_node is None or not cand.call.args:
            sites.append(ctx.site(cand, outcome="review", reason="frob() call not parsed"))
            continue
        stmt = cedit.innermost_statement(fn_node, cand.call.start)
        expr = stmt.named_children[0] if stmt.named_children else None
        if stmt.type != "expression_statement" or expr is None or \
                expr.type != "call_expression" or expr.start_byte != cand.call.start:
            sites.append(ctx.site(cand, outcome="review",
                                  reason="frob() is not a statement of its own: its result "
                                  "is used, so where the lock ends is a choice"))
            continue
        dev = cand.call.args[0]
        try:
            edits = cedit.wrap(cand.call.file, src, stmt, [f"bar_lock({dev});"],
                               [f"bar_unlock({dev});"], ctx.rule.id)
        except cedit.CannotEdit as exc:
            sites.append(ctx.site(cand, outcome="review", reason=str(exc)))
            continue
        sites.append(ctx.site(cand, outcome="rewrite", reason=ctx.rule.title, edits=edits))
    return sites
