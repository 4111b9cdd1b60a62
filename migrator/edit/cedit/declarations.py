"""Local declarations of a function: the names it declares, a new declaration added
in kernel style.
"""

from __future__ import annotations

import itertools
import re

from migrator.edit.cedit.statements import (
    NeedsReview,
    Node,
    _starts_line,
    body,
    line_end,
    line_indent,
    line_start,
    text,
)
from migrator.model import Edit
from migrator.parse.tree import walk


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
    the last one. Raises NeedsReview when the name is declared with another type."""
    block = body(fn_node)
    name = re.findall(r"\w+", decl)[-1]
    existing = declared_names(src, fn_node)
    if name in existing:
        if _squash(existing[name]) == _squash(decl) or \
                _declared_type(existing[name], name) == _declared_type(decl, name):
            return None
        raise NeedsReview(f"'{name}' already declared as: {existing[name]}")
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
