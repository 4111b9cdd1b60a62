"""A function gains a parameter: its definition, its prototypes, its calls, its
kernel-doc. Each edit is a byte range of the original text (everything else stays
byte-for-byte); a list that would pass 80 columns is wrapped the way kernel code wraps
it, under the opening parenthesis (or at the indentation its continuation lines use).

    param_list(src, fn)                        -> (open, close) of the definition's list
    call_parens(src, call)                     -> (open, close) of a call's arguments
    append_item(file, src, open, close, text, rule) -> Edit: `text` as the last item
    add_param(file, src, fn, decl, rule, kdoc=) -> ParamEdits: the definition (and the
                                                kernel-doc line when it has kernel-doc)
    add_arg(file, src, call, arg, rule)        -> Edit: the call's new last argument
    prototype_param(file, src, at, name, decl, rule) -> Edit | None: the prototype
                                                `type name(...);` at `at`
    kdoc_param(file, src, def_start, name, line, rule) -> Edit | None: `@p: text` after
                                                the last parameter of the kernel-doc
    declared_name(decl) / kdoc_name(line)      -> the parameter they name
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from migrator.edit.cedit.statements import (
    NeedsReview,
    function_node,
    line_end,
    line_indent,
    line_start,
    text,
)
from migrator.edit.cwrap import TAB, WIDTH
from migrator.model import CallSite, Edit, FunctionDef
from migrator.model.srctext import CODEC
from migrator.parse.tree import walk

_KDOC_NAME = re.compile(r"\s*@(\w+)\s*:")
_DECL_NAME = re.compile(r"(\w+)\s*$")
_PROTO_PREFIX = re.compile(r"(?:\w+[ \t]+|\w+[ \t]*\*+[ \t]*)+\**")
_NOT_A_TYPE = ("return", "else", "case", "goto", "do")
# after the `)` of a prototype: attributes (`__printf(1, 2)`, `__must_check`), then `;`
_PROTO_END = re.compile(rb"\s*(?:__\w+(?:\([^;]*?\))?\s*)*;")


@dataclass(frozen=True, slots=True)
class ParamEdits:
    """The edits of a definition gaining the parameter `decl`: the parameter list, and
    the kernel-doc `@name:` line when the function has kernel-doc (None otherwise)."""

    decl: str
    definition: Edit
    kdoc: Edit | None = None

    @property
    def name(self) -> str:
        return declared_name(self.decl)

    @property
    def edits(self) -> list[Edit]:
        return [self.definition, *([self.kdoc] if self.kdoc is not None else [])]


def declared_name(decl: str) -> str:
    """The name a parameter declaration declares (`struct foo *bar` -> `bar`)."""
    m = _DECL_NAME.search(decl)
    if m is None:
        raise NeedsReview(f"parameter {decl!r} does not end with its name")
    return m.group(1)


def kdoc_name(line: str) -> str | None:
    """The parameter a kernel-doc line documents (`@bar: text` -> `bar`)."""
    m = _KDOC_NAME.match(line)
    return m.group(1) if m else None


def match_paren(src: bytes, open_paren: int) -> int:
    """Offset of the `)` closing the `(` at `open_paren`."""
    depth = 0
    for i in range(open_paren, len(src)):
        c = src[i:i + 1]
        if c == b"(":
            depth += 1
        elif c == b")":
            depth -= 1
            if depth == 0:
                return i
    raise NeedsReview("unbalanced parentheses")


def append_item(file: str, src: bytes, open_paren: int, close_paren: int, item: str,
                rule: str) -> Edit:
    """`item` as a new last argument/parameter of the list `(...)` at `open_paren` ..
    `close_paren` (`(void)` and `()` become `(item)`); wrapped under the open
    parenthesis when the line would pass 80 columns, or at the indentation of the
    list's continuation line when it has one."""
    inner = src[open_paren + 1:close_paren].decode(*CODEC)
    if inner.strip() in ("", "void"):
        return Edit(file, open_paren + 1, close_paren, item, rule)
    head = src[line_start(src, close_paren):close_paren].decode(*CODEC)
    tail = src[close_paren:line_end(src, close_paren)].decode(*CODEC).rstrip("\n")
    at = close_paren - (len(head) - len(head.rstrip()))
    if len((head.rstrip() + ", " + item + tail).expandtabs(TAB)) <= WIDTH:
        return Edit(file, at, close_paren, ", " + item, rule)
    if line_start(src, open_paren) != line_start(src, close_paren):
        # already a continuation line: keep the style the list uses
        indent = line_indent(src, close_paren)
    else:
        lead = src[line_start(src, open_paren):open_paren + 1].decode(*CODEC)
        col = len(lead.expandtabs(TAB))
        indent = "\t" * (col // TAB) + " " * (col % TAB)
    return Edit(file, at, close_paren, ",\n" + indent + item, rule)


def param_list(src: bytes, fn: FunctionDef) -> tuple[int, int]:
    """(open, close): the parentheses of the parameter list of `fn`'s definition."""
    fn_node = function_node(src, fn.body_start)
    if fn_node is None:
        raise NeedsReview(f"{fn.name}() not re-parsed")
    for n in walk(fn_node):
        if n.type == "function_declarator":
            name = n.child_by_field_name("declarator")
            params = n.child_by_field_name("parameters")
            if name is not None and params is not None and text(src, name) == fn.name:
                return params.start_byte, params.end_byte - 1
    raise NeedsReview(f"parameter list of {fn.name}() not found")


def call_parens(src: bytes, call: CallSite) -> tuple[int, int]:
    """(open, close): the parentheses of the call's arguments."""
    open_paren = src.find(b"(", call.start + len(call.callee), call.end)
    close_paren = call.end - 1
    if open_paren < 0 or src[close_paren:call.end] != b")":
        raise NeedsReview(f"call of {call.callee}() at line {call.line} does not end "
                          "with ')'")
    return open_paren, close_paren


def add_param(file: str, src: bytes, fn: FunctionDef, decl: str, rule: str,
              kdoc: str | None = None) -> ParamEdits:
    """`decl` appended to the parameters of `fn`'s definition, and the kernel-doc line
    `kdoc` (`@name: text`) when the function has kernel-doc. NeedsReview when a
    parameter of that name is there already."""
    open_paren, close_paren = param_list(src, fn)
    name = declared_name(decl)
    if re.search(rf"\b{re.escape(name)}\b", src[open_paren:close_paren].decode(*CODEC)):
        raise NeedsReview(f"{fn.name}() already has an {name} parameter")
    definition = append_item(file, src, open_paren, close_paren, decl, rule)
    doc = kdoc_param(file, src, fn.start, fn.name, kdoc, rule) if kdoc else None
    return ParamEdits(decl, definition, doc)


def add_arg(file: str, src: bytes, call: CallSite, arg: str, rule: str) -> Edit:
    """`arg` appended to the arguments of `call`."""
    open_paren, close_paren = call_parens(src, call)
    return append_item(file, src, open_paren, close_paren, arg, rule)


def prototype_param(file: str, src: bytes, at: int, name: str, decl: str, rule: str
                    ) -> Edit | None:
    """`decl` appended to the file-scope prototype `type name(...);` whose name starts at
    `at`; None when the text there is not such a prototype."""
    prefix = src[line_start(src, at):at].decode(*CODEC)
    if not _PROTO_PREFIX.fullmatch(prefix) or prefix.split()[0] in _NOT_A_TYPE:
        return None
    m = re.compile(rb"\s*\(").match(src, at + len(name))
    if m is None:
        return None
    close = match_paren(src, m.end() - 1)
    if not _PROTO_END.match(src[close + 1:close + 200]):
        return None
    return append_item(file, src, m.end() - 1, close, decl, rule)


def kdoc_param(file: str, src: bytes, def_start: int, name: str, line: str, rule: str
               ) -> Edit | None:
    """` * <line>` after the last parameter of the kernel-doc comment of `name` right
    above `def_start`; None when there is no such comment, when it has no parameter
    lines, or when it documents the parameter `line` names already."""
    head = src[:def_start]
    end = len(head.rstrip())
    if not head[:end].endswith(b"*/"):
        return None
    start = head.rfind(b"/**", 0, end)
    if start < 0 or b"*/" in head[start:end - 2]:
        return None
    comment = head[start:end]
    if not re.search(rb"(?m)^\s*\*\s*" + re.escape(name.encode()) + rb"(?:\(\))?\s+-", comment):
        return None
    documented = kdoc_name(line)
    if documented is not None and \
            re.search(rb"@" + re.escape(documented.encode()) + rb"\s*:", comment):
        return None
    insert_at = None
    prefix = b" * "
    in_param = False
    for m in re.finditer(rb"(?m)^[^\n]*\n", head[start:end + 1]):
        text_line = m.group(0)
        pm = re.match(rb"(\s*\*\s*)@\w+\s*:", text_line)
        if pm:
            in_param, prefix, insert_at = True, pm.group(1), start + m.end()
        elif in_param and re.match(rb"\s*\*\s+\S", text_line) and not re.match(
                rb"\s*\*\s+\w[\w ]*:", text_line) and not text_line.strip().startswith(b"*/"):
            insert_at = start + m.end()  # continuation of the last parameter
        else:
            in_param = False
    if insert_at is None:
        return None
    return Edit(file, insert_at, insert_at, prefix.decode(*CODEC) + line + "\n", rule)
