"""Shared helpers for rules that edit C: find statements, indentation, declarations, exits.

Every helper works on the *original* file bytes and absolute byte offsets, and
every edit it returns is an insertion or replacement that leaves the bytes
around it untouched (kernel style: the inserted lines copy the indentation of
the line they go next to, tabs stay tabs).

API (all offsets absolute, nodes come from `function_node`):

    function_node(src, offset)                -> function_definition Node | None
    enclosing_statement(fn_node, offset)      -> statement Node holding `offset`
    line_start(src, offset) / line_end(src, offset) / line_indent(src, offset)
    insert_before_statement(file, src, stmt, lines, rule) -> Edit
    insert_after_statement(file, src, stmt, lines, rule)  -> Edit
    add_local_declaration(file, src, fn_node, decl, rule) -> Edit | None
    declared_names(src, fn_node)              -> {name: declaration text}
    labels(src, fn_node)                      -> {label: labeled_statement Node}
    following_statement(stmt) / error_goto_after(src, stmt) -> next stmt / goto label
    exits(src, fn_node, start, end)           -> Exit list (return, goto out, break...)
    calls_named(src, node, names)             -> call_expression Nodes
    innermost_statement(fn_node, offset)      -> statement Node, un-braced bodies included
    wrap(file, src, stmt, before, after, rule) -> Edits (braces added for an un-braced
                                                 branch; comments and #if lines kept)
    guard(file, src, stmt, cond, prologue, epilogue, failed, rule) -> Edits
                                                 (`v = failed; if (cond) { ... v = call; }`)
    release_before(file, src, fn_node, acquired, at, lines, rule, label=) -> Edits (a
                                                 release only on paths holding the lock:
                                                 plain, label split, or NeedsReview)

`wrap`, `guard` take `base=` for nodes parsed from part of the file (FnTree).

Insertions go at the *start of the line* of a statement (before its
indentation), so they never share a byte with an edit inside the statement
(e.g. renaming the callee of `err = register_netdevice(dev);`): two rules can
change the same statement without an EditConflict.

The helpers live in modules by concern and are all reachable as `cedit.<name>`:
statements (parsing a function, lines, statements, labels, exits), declarations
(local declarations), brackets (wrap, guard: braces where a statement stands) and
release (release_before: a release on the error paths that hold the lock).
"""

from __future__ import annotations

from migrator.edit.cedit.brackets import (
    directives,
    guard,
    innermost_statement,
    is_unbraced_body,
    shift_lines,
    wrap,
)
from migrator.edit.cedit.declarations import add_local_declaration, declared_names
from migrator.edit.cedit.release import FREE, HELD, UNKNOWN, release_before
from migrator.edit.cedit.statements import (
    STATEMENT_TYPES,
    Exit,
    NeedsReview,
    Node,
    body,
    calls_named,
    enclosing_statement,
    error_goto_after,
    exits,
    following_statement,
    function_node,
    insert_after_statement,
    insert_before_statement,
    labels,
    line_end,
    line_indent,
    line_start,
    statements_from,
    text,
)
from migrator.parse.tree import walk

__all__ = [
    "FREE",
    "HELD",
    "STATEMENT_TYPES",
    "UNKNOWN",
    "Exit",
    "NeedsReview",
    "Node",
    "add_local_declaration",
    "body",
    "calls_named",
    "declared_names",
    "directives",
    "enclosing_statement",
    "error_goto_after",
    "exits",
    "following_statement",
    "function_node",
    "guard",
    "innermost_statement",
    "insert_after_statement",
    "insert_before_statement",
    "is_unbraced_body",
    "labels",
    "line_end",
    "line_indent",
    "line_start",
    "release_before",
    "shift_lines",
    "statements_from",
    "text",
    "walk",
    "wrap",
]
