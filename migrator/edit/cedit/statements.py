"""Parsing a function, lines and statements, labels and exits: the base the other
cedit modules build on.

Every helper works on the *original* file bytes and absolute byte offsets, and
every edit it returns is an insertion or replacement that leaves the bytes
around it untouched (kernel style: the inserted lines copy the indentation of
the line they go next to, tabs stay tabs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import tree_sitter

from migrator.model import Edit
from migrator.model.srctext import CODEC
from migrator.parse.chunks import split_top_level
from migrator.parse.tree import parse_chunk, walk

Node = tree_sitter.Node

# Statement kinds a new line may be put before / after.
STATEMENT_TYPES = frozenset({
    "expression_statement", "return_statement", "if_statement", "declaration",
    "goto_statement", "compound_statement", "for_statement", "while_statement",
    "do_statement", "switch_statement", "break_statement", "continue_statement",
    "labeled_statement",
})
# Parents under which a statement is one of several (a line can be added next to it).
_BLOCK_PARENTS = frozenset({"compound_statement", "case_statement", "labeled_statement",
                            "preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif"})


class NeedsReview(Exception):
    """The one refusal of the edit layer: the construct has no safe place for the edit
    (e.g. a multi-statement region in an un-braced if body). The site becomes review
    with this reason (`str(exc)`) and `evidence`: source lines that show why (e.g. the
    paths into an error label)."""

    def __init__(self, message: str, evidence: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.reason = message
        self.evidence = list(evidence)


# --- parsing ------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def function_node(src: bytes, offset: int) -> Node | None:
    """The function_definition holding `offset`, parsed from its top-level chunk."""
    for start, end in split_top_level(src):
        if start <= offset < end:
            node: Node | None = parse_chunk(src, start, end).root_node.descendant_for_byte_range(
                offset, offset)
            while node is not None and node.type != "function_definition":
                node = node.parent
            return node
    return None


def body(fn_node: Node) -> Node:
    found = fn_node.child_by_field_name("body")
    if found is None:
        raise NeedsReview("function without a body")
    return found


def text(src: bytes, node: Node) -> str:
    return src[node.start_byte:node.end_byte].decode(*CODEC)


def calls_named(src: bytes, node: Node, names: Iterable[str]) -> list[Node]:
    """call_expressions under `node` whose callee is a plain identifier in `names`."""
    wanted = set(names)
    out = []
    for n in walk(node):
        if n.type == "call_expression":
            callee = n.child_by_field_name("function")
            if callee is not None and callee.type == "identifier" and text(src, callee) in wanted:
                out.append(n)
    return out


# --- lines and statements -----------------------------------------------------------------


def line_start(src: bytes, offset: int) -> int:
    return src.rfind(b"\n", 0, offset) + 1


def line_end(src: bytes, offset: int) -> int:
    """Offset just after the newline ending the line holding `offset`."""
    nl = src.find(b"\n", offset)
    return len(src) if nl < 0 else nl + 1


def line_indent(src: bytes, offset: int) -> str:
    """Leading whitespace of the line holding `offset` (tabs kept)."""
    start = line_start(src, offset)
    m = re.match(rb"[ \t]*", src[start:])
    return m.group(0).decode() if m else ""


def enclosing_statement(fn_node: Node, offset: int) -> Node:
    """Innermost statement containing `offset` that sits in a block (not an un-braced
    if/else/loop body, where an added line would change the control flow)."""
    node: Node | None = fn_node.descendant_for_byte_range(offset, offset)
    while node is not None:
        if node.type in STATEMENT_TYPES and node.parent is not None \
                and node.parent.type in _BLOCK_PARENTS and node.type != "labeled_statement":
            return node
        if node.type in STATEMENT_TYPES and node.parent is not None and node.parent.type in (
                "if_statement", "else_clause", "for_statement", "while_statement",
                "do_statement") and node.type != "compound_statement":
            raise NeedsReview("statement is the un-braced body of " + node.parent.type)
        node = node.parent
    raise NeedsReview(f"no statement at offset {offset}")


def _starts_line(src: bytes, node: Node) -> bool:
    return src[line_start(src, node.start_byte):node.start_byte].strip() == b""


def insert_before_statement(file: str, src: bytes, stmt: Node, lines: list[str],
                            rule: str) -> Edit:
    """New lines before `stmt`, indented like it."""
    if not _starts_line(src, stmt):
        raise NeedsReview("statement does not start its line")
    indent = line_indent(src, stmt.start_byte)
    at = line_start(src, stmt.start_byte)
    return Edit(file, at, at, "".join(f"{indent}{line}\n" for line in lines), rule)


def insert_after_statement(file: str, src: bytes, stmt: Node, lines: list[str],
                           rule: str) -> Edit:
    """New lines after `stmt` (which must end its line), indented like it."""
    after = src[stmt.end_byte:line_end(src, stmt.end_byte)]
    if after.strip() and not after.strip().startswith((b"/*", b"//")):
        raise NeedsReview("statement does not end its line")
    indent = line_indent(src, stmt.start_byte)
    at = line_end(src, stmt.end_byte)
    return Edit(file, at, at, "".join(f"{indent}{line}\n" for line in lines), rule)


def following_statement(stmt: Node) -> Node | None:
    sibling = stmt.next_named_sibling
    while sibling is not None and sibling.type == "comment":
        sibling = sibling.next_named_sibling
    return sibling


def error_goto_after(src: bytes, stmt: Node) -> str | None:
    """Label of `if (<cond>) goto label;` right after `stmt` (or `stmt` itself being such
    an if), the usual way kernel code leaves on error."""
    for candidate in (stmt, following_statement(stmt)):
        if candidate is None or candidate.type != "if_statement":
            continue
        consequence = candidate.child_by_field_name("consequence")
        if consequence is None:
            continue
        if consequence.type == "compound_statement":
            gotos = [c for c in consequence.named_children if c.type == "goto_statement"]
            consequence = gotos[-1] if gotos else consequence
        if consequence.type == "goto_statement":
            label = consequence.child_by_field_name("label")
            if label is not None:
                return text(src, label)
    return None


def labels(src: bytes, fn_node: Node) -> dict[str, Node]:
    out = {}
    for n in walk(body(fn_node)):
        if n.type == "labeled_statement":
            label = n.child_by_field_name("label")
            if label is not None:
                out[text(src, label)] = n
    return out


def statements_from(start: Node) -> Iterator[Node]:
    """`start`, then the statements after it in its block, entering labeled statements."""
    node: Node | None = start
    while node is not None:
        yield node
        inner = node
        while inner.type == "labeled_statement" and inner.named_children:
            inner = inner.named_children[-1]
            yield inner
        node = following_statement(node)


# --- exits --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Exit:
    kind: str  # "return" | "goto" | "break" | "continue"
    node: Node
    label: str = ""  # goto target

    def describe(self, src: bytes) -> str:
        return f"line {self.node.start_point[0] + 1}: {text(src, self.node)}"


def exits(src: bytes, fn_node: Node, start: int, end: int) -> list[Exit]:
    """Ways control leaves the byte region [start, end) of a function other than falling
    through: returns, gotos to labels outside the region, break/continue whose loop or
    switch is outside it."""
    inside_labels = {name for name, node in labels(src, fn_node).items()
                     if start <= node.start_byte < end}
    out: list[Exit] = []
    for n in walk(body(fn_node)):
        if n.start_byte < start or n.end_byte > end:
            continue
        if n.type == "return_statement":
            out.append(Exit("return", n))
        elif n.type == "goto_statement":
            label_node = n.child_by_field_name("label")
            label = text(src, label_node) if label_node is not None else ""
            if label not in inside_labels:
                out.append(Exit("goto", n, label))
        elif n.type in ("break_statement", "continue_statement"):
            owner = n.parent
            loops = ("for_statement", "while_statement", "do_statement")
            if n.type == "break_statement":
                loops += ("switch_statement",)
            while owner is not None and owner.type not in loops:
                owner = owner.parent
            if owner is None or owner.start_byte < start:
                out.append(Exit(n.type.split("_")[0], n))
    return out
