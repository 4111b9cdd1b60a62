"""Braces: a statement bracketed where it stands.

`wrap()` puts lines before and after a statement; when the statement is the un-braced
body of an if/else/for/while, braces are added around it.  Every byte of the original
stays: comments and preprocessor lines between the head and the statement, between the
statement and its `else`, and inside the statement keep their place (directives stay at
column 0).  The braces are only added where the result is the same C for every
configuration: an `#if` arm that the braces would split is refused (NeedsReview).
Nodes may come from a parse of part of the file: `base` is the offset of that part.
"""

from __future__ import annotations

import re

from migrator.edit.cedit.statements import STATEMENT_TYPES, NeedsReview, Node, line_end, line_start
from migrator.edit.edits import line_of
from migrator.model import Edit

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
        raise NeedsReview(f"no statement at offset {offset}")
    return node


def _indent(src: bytes, at: int) -> str:
    lead = src[line_start(src, at):at]
    if lead.strip():
        raise NeedsReview(f"statement at line {line_of(src, at)} does not start its "
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
    raise NeedsReview(f"statement at line {line_of(src, end)} does not end its line")


def wrap(file: str, src: bytes, stmt: Node, before: list[str], after: list[str], rule: str,
         *, shift: str = "", base: int = 0) -> list[Edit]:
    """`before` lines in front of `stmt`, `after` lines behind it, braces added when it is
    an un-braced branch (and around a plain `else` arm of the same if, as checkpatch
    --strict asks).  Insertions only, apart from whitespace between the head and the
    statement: the statement's own bytes stay editable by other edits.  `shift` goes in
    front of the statement (a tab when it moves into a new block)."""
    a, b = base + stmt.start_byte, base + stmt.end_byte
    if _open_groups(directives(src, a, b)) != 0 or _split_group(directives(src, a, b)):
        raise NeedsReview(f"the statement at line {line_of(src, a)} holds part of an "
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
        raise NeedsReview("unbraced do-while body")
    owner = parent.parent if parent.type == "else_clause" else parent
    assert owner is not None
    outer = _chain_indent(src, owner, base) if owner.type == "if_statement" else \
        _indent(src, base + owner.start_byte)
    ind = outer + "\t"
    if _indent(src, a) != ind:
        raise NeedsReview("unbraced branch not indented one tab deeper than its head")
    head = stmt.prev_sibling
    while head is not None and head.type == "comment":
        head = head.prev_sibling
    if head is None:
        raise NeedsReview("unbraced statement without a head")
    head_end = base + head.end_byte
    if directives(src, head_end, a):
        raise NeedsReview(f"a preprocessor line sits between the head at line "
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
        raise NeedsReview(f"#{split} between the branch at line {line_of(src, a)} "
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
        raise NeedsReview(f"call inside a {stmt.type.replace('_', ' ')}; "
                         "the unlock needs the result stored first")
    var = None
    if expr.type == "assignment_expression":
        left, op = expr.child_by_field_name("left"), expr.child_by_field_name("operator")
        if left is None or left.type != "identifier" or (op is not None and txt(op) != "="):
            raise NeedsReview(f"result stored in {txt(left) if left else '?'!r}, "
                             "not a plain variable")
        var = txt(left)
    elif expr.type != "call_expression":
        raise NeedsReview("call nested in another expression")
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
