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
                                                 plain, label split, or CannotEdit)

`wrap`, `guard` take `base=` for nodes parsed from part of the file (FnTree).

Insertions go at the *start of the line* of a statement (before its
indentation), so they never share a byte with an edit inside the statement
(e.g. renaming the callee of `err = register_netdevice(dev);`): two rules can
change the same statement without an EditConflict.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import tree_sitter

from migrator.edit.edits import line_of
from migrator.model import Edit
from migrator.model.srctext import CODEC
from migrator.parse.chunks import split_top_level
from migrator.parse.tree import parse, walk

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


CannotEdit = NeedsReview  # the name older finders use


# --- parsing ------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _parse_chunk(src: bytes, start: int, end: int) -> tree_sitter.Tree:
    # Blank out everything before the chunk (newlines kept) so node offsets and rows
    # are those of the whole file, while only the chunk is really parsed.
    padding = re.sub(rb"[^\n]", b" ", src[:start])
    return parse(padding + src[start:end])


def function_node(src: bytes, offset: int) -> Node | None:
    """The function_definition holding `offset`, parsed from its top-level chunk."""
    for start, end in split_top_level(src):
        if start <= offset < end:
            node: Node | None = _parse_chunk(src, start, end).root_node.descendant_for_byte_range(
                offset, offset)
            while node is not None and node.type != "function_definition":
                node = node.parent
            return node
    return None


def body(fn_node: Node) -> Node:
    found = fn_node.child_by_field_name("body")
    if found is None:
        raise CannotEdit("function without a body")
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
            raise CannotEdit("statement is the un-braced body of " + node.parent.type)
        node = node.parent
    raise CannotEdit(f"no statement at offset {offset}")


def _starts_line(src: bytes, node: Node) -> bool:
    return src[line_start(src, node.start_byte):node.start_byte].strip() == b""


def insert_before_statement(file: str, src: bytes, stmt: Node, lines: list[str],
                            rule: str) -> Edit:
    """New lines before `stmt`, indented like it."""
    if not _starts_line(src, stmt):
        raise CannotEdit("statement does not start its line")
    indent = line_indent(src, stmt.start_byte)
    at = line_start(src, stmt.start_byte)
    return Edit(file, at, at, "".join(f"{indent}{line}\n" for line in lines), rule)


def insert_after_statement(file: str, src: bytes, stmt: Node, lines: list[str],
                           rule: str) -> Edit:
    """New lines after `stmt` (which must end its line), indented like it."""
    after = src[stmt.end_byte:line_end(src, stmt.end_byte)]
    if after.strip() and not after.strip().startswith((b"/*", b"//")):
        raise CannotEdit("statement does not end its line")
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


# --- declarations -------------------------------------------------------------------------


def _squash(s: str) -> str:
    return re.sub(r"\s+", " ", s).replace("* ", "*").strip()


def declared_names(src: bytes, fn_node: Node) -> dict[str, str]:
    """Identifier -> declaration text for parameters and locals of the function."""
    out: dict[str, str] = {}
    for n in walk(fn_node):
        if n.type in ("declaration", "parameter_declaration"):
            for d in walk(n):
                if d.type == "identifier" and d.parent is not None and d.parent.type in (
                        "init_declarator", "pointer_declarator", "declaration",
                        "parameter_declaration", "array_declarator"):
                    if d.parent.type == "init_declarator" and d.parent.child_by_field_name(
                            "value") == d:
                        continue
                    out.setdefault(text(src, d), text(src, n))
    return out


def _declared_type(declaration: str, name: str) -> str:
    """"struct foo *p = x;" -> "structfoo*": the text before the declared name."""
    m = re.search(rf"\b{re.escape(name)}\b", declaration)
    return _squash(declaration[: m.start()] if m else declaration)


def add_local_declaration(file: str, src: bytes, fn_node: Node, decl: str,
                          rule: str) -> Edit | None:
    """Add `decl` ("struct foo_lock *lock;") to the declarations at the top of the
    function's body. None when the name is already declared with that type (with or
    without an initializer). Reverse christmas
    tree position when the existing declarations already are in that order, else after
    the last one. Raises CannotEdit when the name is declared with another type."""
    block = body(fn_node)
    name = re.findall(r"\w+", decl)[-1]
    existing = declared_names(src, fn_node)
    if name in existing:
        if _squash(existing[name]) == _squash(decl) or \
                _declared_type(existing[name], name) == _declared_type(decl, name):
            return None
        raise CannotEdit(f"'{name}' already declared as: {existing[name]}")
    decls = []
    for child in block.named_children:
        if child.type == "comment":
            continue
        if child.type != "declaration":
            break
        decls.append(child)
    if not decls:
        first = next((c for c in block.named_children), None)
        indent = line_indent(src, first.start_byte) if first is not None else \
            line_indent(src, fn_node.start_byte) + "\t"
        at = line_end(src, block.start_byte)
        blank = "\n" if first is not None else ""
        return Edit(file, at, at, f"{indent}{decl}\n{blank}", rule)
    indent = line_indent(src, decls[0].start_byte)
    lengths = [len(text(src, d).expandtabs(8)) for d in decls]
    ordered = all(a >= b for a, b in itertools.pairwise(lengths))
    target = decls[-1]
    before = None
    if ordered:
        for d, length in zip(decls, lengths, strict=True):
            if length < len(decl):
                before = d
                break
    if before is not None and _starts_line(src, before):
        at = line_start(src, before.start_byte)
        return Edit(file, at, at, f"{indent}{decl}\n", rule)
    at = line_end(src, target.end_byte)
    return Edit(file, at, at, f"{indent}{decl}\n", rule)


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


# --- braces: a statement bracketed where it stands ----------------------------------------
#
# `wrap()` puts lines before and after a statement; when the statement is the un-braced
# body of an if/else/for/while, braces are added around it.  Every byte of the original
# stays: comments and preprocessor lines between the head and the statement, between the
# statement and its `else`, and inside the statement keep their place (directives stay at
# column 0).  The braces are only added where the result is the same C for every
# configuration: an `#if` arm that the braces would split is refused (CannotEdit).
# Nodes may come from a parse of part of the file: `base` is the offset of that part.

_DIRECTIVE = re.compile(rb"[ \t]*#[ \t]*(\w*)")
_OPAQUE = re.compile(rb"/\*.*?(?:\*/|\Z)|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'",
                     re.S)
_GROUP_OPEN = (b"if", b"ifdef", b"ifndef")
_GROUP_ARM = (b"else", b"elif", b"elifdef", b"elifndef")
_UNBRACED_PARENTS = ("if_statement", "for_statement", "while_statement", "do_statement")


def _opaque_spans(src: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """Comments and literals in src[start:end] (their bytes are never touched)."""
    return [(m.start(), m.end()) for m in _OPAQUE.finditer(src, start, end)]


def directives(src: bytes, start: int, end: int) -> list[tuple[int, str]]:
    """(offset of the line, directive word) for each preprocessor line that starts in
    [start, end) outside a comment."""
    spans = _opaque_spans(src, start, end)
    out: list[tuple[int, str]] = []
    pos = start if line_start(src, start) == start else line_end(src, start)
    while pos < end:
        m = _DIRECTIVE.match(src, pos)
        if m is not None:
            sharp = src.index(b"#", pos)
            if not any(a < pos < b or a <= sharp < b for a, b in spans):
                out.append((pos, m.group(1).decode()))
        pos = line_end(src, pos)
    return out


def _split_group(found: list[tuple[int, str]]) -> str | None:
    """The first directive that continues or closes an `#if` group opened before the
    range (`#else`, `#elif`, `#endif` at depth 0), else None."""
    depth = 0
    for _, word in found:
        w = word.encode()
        if w in _GROUP_OPEN:
            depth += 1
        elif w in _GROUP_ARM and depth == 0:
            return word
        elif w == b"endif":
            if depth == 0:
                return word
            depth -= 1
    return None


def _open_groups(found: list[tuple[int, str]]) -> int:
    return sum(1 if w in ("if", "ifdef", "ifndef") else -1 if w == "endif" else 0
               for _, w in found)


def is_unbraced_body(stmt: Node) -> bool:
    """`stmt` is the un-braced body of an if/else/for/while/do."""
    parent = stmt.parent
    if parent is None or stmt.type == "compound_statement":
        return False
    if parent.type == "else_clause":
        return True
    if parent.type in _UNBRACED_PARENTS:
        if parent.type == "for_statement":
            return stmt == parent.child_by_field_name("body")
        return parent.child_by_field_name("condition") != stmt
    return False


def innermost_statement(fn_node: Node, offset: int) -> Node:
    """Innermost statement holding `offset`, an un-braced branch body included."""
    node: Node | None = fn_node.descendant_for_byte_range(offset, offset)
    while node is not None and (node.type not in STATEMENT_TYPES
                                or node.type in ("compound_statement", "labeled_statement")):
        node = node.parent
    if node is None:
        raise CannotEdit(f"no statement at offset {offset}")
    return node


def _indent(src: bytes, at: int) -> str:
    lead = src[line_start(src, at):at]
    if lead.strip():
        raise CannotEdit(f"statement at line {line_of(src, at)} does not start its "
                         "line")
    return lead.decode()


def _chain_indent(src: bytes, if_stmt: Node, base: int) -> str:
    """`} else if (...)` chains: the indentation of the first `if` of the chain."""
    cur = if_stmt
    while cur.parent is not None and cur.parent.type == "else_clause":
        assert cur.parent.parent is not None
        cur = cur.parent.parent
    return _indent(src, base + cur.start_byte)


def _lines_after(file: str, src: bytes, end: int, lines: list[str], rule: str) -> Edit:
    """Whole `lines` (indentation included) after the statement ending at `end`: right
    after it, or after the comment that ends its line (the comment stays with it)."""
    stop = line_end(src, end)
    rest = src[end:stop].strip()
    if not rest:
        return Edit(file, end, end, "".join(f"\n{line}" for line in lines), rule)
    if (rest.startswith(b"/*") and rest.endswith(b"*/") and b"*/" not in rest[2:-2]) \
            or rest.startswith(b"//"):
        return Edit(file, stop, stop, "".join(f"{line}\n" for line in lines), rule)
    raise CannotEdit(f"statement at line {line_of(src, end)} does not end its line")


def wrap(file: str, src: bytes, stmt: Node, before: list[str], after: list[str], rule: str,
         *, shift: str = "", base: int = 0) -> list[Edit]:
    """`before` lines in front of `stmt`, `after` lines behind it, braces added when it is
    an un-braced branch (and around a plain `else` arm of the same if, as checkpatch
    --strict asks).  Insertions only, apart from whitespace between the head and the
    statement: the statement's own bytes stay editable by other edits.  `shift` goes in
    front of the statement (a tab when it moves into a new block)."""
    a, b = base + stmt.start_byte, base + stmt.end_byte
    if _open_groups(directives(src, a, b)) != 0 or _split_group(directives(src, a, b)):
        raise CannotEdit(f"the statement at line {line_of(src, a)} holds part of an "
                         "#if group: where the braces go depends on the configuration")
    if not is_unbraced_body(stmt):
        ind = _indent(src, a)
        edits = []
        if before or shift:
            edits.append(Edit(file, a, a, "".join(f"{line}\n{ind}" for line in before) + shift,
                              rule))
        if after:
            edits.append(_lines_after(file, src, b, [f"{ind}{line}" for line in after], rule))
        return edits
    parent = stmt.parent
    assert parent is not None
    if parent.type == "do_statement":
        raise CannotEdit("unbraced do-while body")
    owner = parent.parent if parent.type == "else_clause" else parent
    assert owner is not None
    outer = _chain_indent(src, owner, base) if owner.type == "if_statement" else \
        _indent(src, base + owner.start_byte)
    ind = outer + "\t"
    if _indent(src, a) != ind:
        raise CannotEdit("unbraced branch not indented one tab deeper than its head")
    head = stmt.prev_sibling
    while head is not None and head.type == "comment":
        head = head.prev_sibling
    if head is None:
        raise CannotEdit("unbraced statement without a head")
    head_end = base + head.end_byte
    if directives(src, head_end, a):
        raise CannotEdit(f"a preprocessor line sits between the head at line "
                         f"{line_of(src, head_end)} and its statement: which "
                         "statement the braces enclose depends on the configuration")
    opening = "".join(f"{ind}{line}\n" for line in before)
    if not src[head_end:a].strip():
        edits = [Edit(file, head_end, a, " {\n" + opening + ind + shift, rule)]
    else:  # comments between the head and the statement stay where they are
        edits = [Edit(file, head_end, head_end, " {", rule)]
        if opening:
            at = line_start(src, a)
            edits.append(Edit(file, at, at, opening, rule))
        if shift:
            edits.append(Edit(file, a, a, shift, rule))
    alt = parent.child_by_field_name("alternative") if parent.type == "if_statement" else None
    closing = [*(f"{ind}{line}" for line in after), f"{outer}}}"]
    if alt is None or stmt != parent.child_by_field_name("consequence"):
        edits.append(_lines_after(file, src, b, closing, rule))
        return edits
    alt_a = base + alt.start_byte
    split = _split_group(directives(src, b, alt_a))
    if split:
        raise CannotEdit(f"#{split} between the branch at line {line_of(src, a)} "
                         "and its else closes an #if group opened before it: the braces "
                         "would split an #if arm")
    if src[b:alt_a].strip():
        # Comments and #if groups before the else stay between `}` and `else`; the else
        # arm keeps its shape (checkpatch does not pair `}` and `else` across them and
        # would call braces there unbalanced).
        edits.append(_lines_after(file, src, b, closing, rule))
        return edits
    edits.append(Edit(file, b, alt_a, "".join(f"\n{ind}{line}" for line in after)
                      + f"\n{outer}}} ", rule))
    arm = next((c for c in alt.named_children if c.type != "comment"), None)
    if arm is not None and arm.type not in ("compound_statement", "if_statement"):
        edits.extend(wrap(file, src, arm, [], [], rule, base=base))
    return edits


def guard(file: str, src: bytes, stmt: Node, cond: str, prologue: list[str],
          epilogue: list[str], failed: str, rule: str, *, base: int = 0) -> list[Edit]:
    """Run `stmt` only when the lock `cond` takes succeeds:

        v = <failed>;
        if (<cond>) {
                <prologue>
                v = <call>;
                <epilogue>
        }

    `v` is the variable the statement stores its result in, so the caller's existing
    check sees the failure (no new label, nothing to unlock on that path); a call whose
    result is ignored is simply skipped.  The statement's lines move one tab deeper,
    except preprocessor lines (column 0), blank lines and the inside of comments."""
    def txt(n: Node) -> str:
        return src[base + n.start_byte:base + n.end_byte].decode("utf-8", "surrogateescape")

    expr = stmt.named_children[0] if stmt.type == "expression_statement" and \
        stmt.named_children else None
    if expr is None:
        raise CannotEdit(f"call inside a {stmt.type.replace('_', ' ')}; "
                         "the unlock needs the result stored first")
    var = None
    if expr.type == "assignment_expression":
        left, op = expr.child_by_field_name("left"), expr.child_by_field_name("operator")
        if left is None or left.type != "identifier" or (op is not None and txt(op) != "="):
            raise CannotEdit(f"result stored in {txt(left) if left else '?'!r}, "
                             "not a plain variable")
        var = txt(left)
    elif expr.type != "call_expression":
        raise CannotEdit("call nested in another expression")
    before = [*([f"{var} = {failed};"] if var else []), f"if ({cond}) {{",
              *(f"\t{line}" for line in prologue)]
    edits = wrap(file, src, stmt, before, [*(f"\t{line}" for line in epilogue), "}"], rule,
                 shift="\t", base=base)
    return [*edits, *shift_lines(file, src, base + stmt.start_byte, base + stmt.end_byte,
                                 rule)]


def shift_lines(file: str, src: bytes, start: int, end: int, rule: str) -> list[Edit]:
    """A tab in front of each continuation line of src[start:end] that is code: not a
    blank line, a preprocessor line, a line inside a comment or literal, or a line after
    a backslash-newline."""
    spans = _opaque_spans(src, start, end)
    out = []
    for i in range(start, end):
        if src[i] != 0x0A:
            continue
        p = i + 1
        if p >= end or src[p] == 0x0A or src[i - 1:i] == b"\\" or \
                _DIRECTIVE.match(src, p) is not None or any(a < p < b for a, b in spans):
            continue
        out.append(Edit(file, p, p, "\t", rule))
    return out


# --- releases on error paths --------------------------------------------------------------
#
# A release inserted on an error path (`detach_foo(peer);` before `free_foo(peer);`
# at an error label) is right only when every path into it comes from a point where the
# acquire (inserted just before the statement `acquired`) has happened.  The paths are
# found on the function's control flow, backwards from the insertion point: the gotos to
# the labels in front of it and the fall-through from the statement before it.  Each
# path's status is "held" (the acquire happened), "free" (it did not) or "unknown"
# (loops, labels inside statements, a statement that may or may not run the acquire).

HELD, FREE, UNKNOWN = "held", "free", "unknown"
_JUMPS = ("return_statement", "goto_statement", "break_statement", "continue_statement")
_LOOP_TYPES = ("for_statement", "while_statement", "do_statement")


def _inside(node: Node, outer: Node) -> bool:
    return outer.start_byte <= node.start_byte and node.end_byte <= outer.end_byte


def _has_label(node: Node) -> bool:
    return any(n.type == "labeled_statement" for n in walk(node))


class _Paths:
    """Which paths reach a point of the function holding what `acquired` takes."""

    def __init__(self, src: bytes, fn_node: Node, acquired: Node) -> None:
        self.src, self.acquired, self.body = src, acquired, body(fn_node)
        self.gotos: dict[str, list[Node]] = {}
        for n in walk(self.body):
            if n.type == "goto_statement":
                lab = n.child_by_field_name("label")
                if lab is not None:
                    self.gotos.setdefault(text(src, lab), []).append(n)
        self.memo: dict[tuple[int, int, str], set[str]] = {}
        self.followed: dict[int, tuple[Node, set[str]]] = {}  # gotos met on the way

    def evidence(self) -> list[str]:
        return [f"{_line(self.src, g)} ({'/'.join(sorted(s))})"
                for _, (g, s) in sorted(self.followed.items())]

    def label_chain(self, stmt: Node) -> tuple[Node, list[str]]:
        """(outermost labeled_statement around `stmt`, or `stmt`; its label names)."""
        node, names = stmt, []
        while node.parent is not None and node.parent.type == "labeled_statement":
            node = node.parent
            lab = node.child_by_field_name("label")
            if lab is not None:
                names.append(text(self.src, lab))
        return node, names

    def reach(self, stmt: Node) -> set[str]:
        """Statuses of the paths reaching the point right before `stmt` runs."""
        k = (stmt.start_byte, stmt.end_byte, stmt.type)
        if k in self.memo:
            return self.memo[k]
        self.memo[k] = {UNKNOWN}  # a cycle (backward goto, loop) is not followed
        if _inside(stmt, self.acquired) and stmt != self.acquired:
            out = {HELD}
        else:
            out = set()
            outer, names = self.label_chain(stmt)
            for name in names:
                for g in self.gotos.get(name, []):
                    found = self.reach(g)
                    self.followed[g.start_byte] = (g, found)
                    out |= found
            out |= self.fall_into(outer)
        self.memo[k] = out
        return out

    def fall_into(self, outer: Node) -> set[str]:
        """Statuses of the normal flow arriving at `outer` (labels not counted)."""
        parent = outer.parent
        if parent is None:
            return {UNKNOWN}
        if parent.type == "compound_statement":
            prev = outer.prev_named_sibling
            while prev is not None and prev.type == "comment":
                prev = prev.prev_named_sibling
            return self.after(prev) if prev is not None else self.enter(parent)
        return self.enter(outer)

    def enter(self, block: Node) -> set[str]:
        """Statuses on entering `block` (a compound statement or an un-braced body)."""
        if block == self.body:
            return {FREE}
        owner = block.parent
        if owner is not None and owner.type == "else_clause":
            owner = owner.parent
        if owner is None:
            return {UNKNOWN}
        if owner.type == "compound_statement":  # a bare { ... } block
            return self.reach(block)
        if owner == self.acquired:
            return {HELD}  # the branch of `if (<acquired call>)`
        if owner.type == "if_statement":
            return self.reach(owner)
        if owner.type in _LOOP_TYPES and not _inside(self.acquired, owner) \
                and not _has_label(owner):
            return self.reach(owner)
        return {UNKNOWN}

    def after(self, stmt: Node) -> set[str]:
        """Statuses of the paths completing `stmt` normally."""
        inner = stmt
        while inner.type == "labeled_statement" and inner.named_children:
            inner = inner.named_children[-1]
        if inner == self.acquired:
            return {HELD}
        if inner.type in _JUMPS:
            return set()
        if _inside(self.acquired, inner) or _has_label(inner):
            return {UNKNOWN}
        return self.reach(inner)


def _line(src: bytes, node: Node) -> str:
    first = text(src, node).split("\n", 1)[0].strip()
    return f"line {node.start_point[0] + 1}: {first}"


def release_before(file: str, src: bytes, fn_node: Node, acquired: Node, at: Node,
                   lines: list[str], rule: str, *, label: str,
                   notes: list[str] | None = None) -> list[Edit]:
    """`lines` (a release) right before the statement `at`, on the failure path of an
    acquire inserted just before the statement `acquired`.

    When every path into `at` holds what the lines release, they simply go before it.
    When some do not (an error label also reached from before the acquire), the paths
    that hold it get a label of their own, `label`, placed with the lines just above
    the existing label, and only their gotos are retargeted:

        label:
                <lines>
        old_label:
                <at>

    CannotEdit, with every path into `at` as evidence, when that cannot be done without
    reordering other cleanups (the mix arrives through the statement before `at`, or a
    path does not always hold or not hold the lock)."""
    paths = _Paths(src, fn_node, acquired)
    outer, names = paths.label_chain(at)
    gotos = [(g, paths.reach(g)) for name in names for g in paths.gotos.get(name, [])]
    falls = paths.fall_into(outer)
    statuses = set(falls).union(*(s for _, s in gotos))
    for g, s in gotos:
        paths.followed[g.start_byte] = (g, s)
    evidence = [f"paths into {_line(src, at)} ({HELD}: after the acquire):",
                *paths.evidence()]
    if falls:
        evidence.append(f"fall-through into line {at.start_point[0] + 1} "
                        f"({'/'.join(sorted(falls))})")
    where = f"line {at.start_point[0] + 1}"
    if statuses == {HELD}:
        if is_unbraced_body(at):
            return wrap(file, src, at, lines, [], rule)
        return [insert_before_statement(file, src, at, lines, rule)]
    if UNKNOWN in statuses:
        raise CannotEdit(f"the paths into {where} cannot all be followed: whether they hold "
                         "the lock is not known", evidence)
    if HELD not in statuses:
        raise CannotEdit(f"no path into {where} comes from after the acquire", evidence)
    if FREE in falls:
        raise CannotEdit(f"{where} is reached both with and without the lock through the "
                         "statement before it: a separate release needs the cleanups "
                         "reordered", evidence)
    if any(s == {HELD, FREE} for _, s in gotos):
        raise CannotEdit(f"a goto into {where} is reached both with and without the lock",
                         evidence)
    if label in labels(src, fn_node):
        raise CannotEdit(f"label {label} already exists", evidence)
    label_indent = src[line_start(src, outer.start_byte):outer.start_byte]
    if label_indent.strip() or at == outer or not _starts_line(src, at):
        raise CannotEdit(f"the label before {where} does not start its line", evidence)
    # Above the comment lines that belong to the old label, if any.
    top = outer
    prev = top.prev_sibling
    while prev is not None and prev.type == "comment" and _starts_line(src, prev) and \
            prev.end_point[0] + 1 == top.start_point[0]:
        top, prev = prev, prev.prev_sibling
    head = line_start(src, top.start_byte)
    ind = line_indent(src, at.start_byte)
    edits = [Edit(file, head, head, label_indent.decode() + f"{label}:\n"
                  + "".join(f"{ind}{line}\n" for line in lines), rule)]
    moved = []
    for g, s in gotos:
        if s == {HELD}:
            lab = g.child_by_field_name("label")
            assert lab is not None
            edits.append(Edit(file, lab.start_byte, lab.end_byte, label, rule))
            moved.append(str(g.start_point[0] + 1))
    if notes is not None:
        notes.append(f"{names[-1]}: is also reached before the acquire; the paths after it "
                     f"(goto at line {', '.join(moved)}) go to the new label {label}:, "
                     "which releases and falls through to it")
    return edits
