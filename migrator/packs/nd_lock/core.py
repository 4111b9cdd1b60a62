"""What the core API patches share: the nd_lock API in include/linux/netdevice.h
(rules/stage1-core-netdevice-h, --with-core) and the link_deps declarations of
include/net/rtnetlink.h (rules/stage2-link-deps); each rule's finder.py decides what its
patch adds, this module finds where in the header and words it (templates/core.j2).

Everything is placed through the parse tree of the header, never by searching its
text: a struct is the `struct_specifier` with that name and a body, a member goes
after the last member of *that* body (before a trailing flexible array member, which
must stay last), a prototype is a top-level declaration with a function declarator.
Objects the patches declare `extern` are defined and exported in the file the kernel
keeps them in, next to a named anchor function (rule options), in the same patch.

Each part is idempotent on its own: what the tree already has is not added again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2
import tree_sitter

from migrator.edit.cedit import line_end, line_start
from migrator.model import Edit, Site
from migrator.parse.tree import chunk_trees, declarator_name, is_function_declarator, walk
from migrator.rules.context import At, RuleContext

Node = tree_sitter.Node

# --- parse-tree queries on a whole file ------------------------------------------------------


def _top_level(node: Node) -> Iterator[Node]:
    """File-scope nodes: the root's children, looking into #if/#ifdef groups."""
    for child in node.named_children:
        if child.type in ("preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif",
                          "preproc_elifdef"):
            yield from _top_level(child)
        else:
            yield child


def _name(node: Node | None) -> str:
    return (node.text or b"").decode("utf-8", "replace") if node is not None else ""


@dataclass(frozen=True, slots=True)
class Member:
    """A direct child of a struct body: a field, a preprocessor group or a comment."""

    kind: str  # tree-sitter node type
    names: tuple[str, ...]  # declared field names (fields only)
    start: int
    end: int
    flexible: bool  # `u8 priv[];`: must stay the last member


@dataclass(frozen=True, slots=True)
class StructDef:
    name: str
    start: int  # `struct` keyword
    close: int  # offset of the body's closing brace
    members: tuple[Member, ...]

    def has_member(self, name: str) -> bool:
        return any(name in m.names for m in self.members)


def _field_names(node: Node) -> tuple[str, ...]:
    return tuple(n for n in (declarator_name(d)[0] for d in
                             node.children_by_field_name("declarator")) if n)


def _is_flexible(node: Node) -> bool:
    for decl in node.children_by_field_name("declarator"):
        if decl.type == "array_declarator" and decl.child_by_field_name("size") is None:
            return True
    return False


def _members(body: Node) -> Iterator[Member]:
    for child in body.named_children:
        if child.type == "field_declaration":
            yield Member(child.type, _field_names(child), child.start_byte, child.end_byte,
                         _is_flexible(child))
        elif child.type.startswith("preproc_"):
            names = tuple(n for d in walk(child) if d.type == "field_declaration"
                          and d.parent is not None and d.parent.type.startswith("preproc_")
                          for n in _field_names(d))
            yield Member(child.type, names, child.start_byte, child.end_byte, False)
        else:
            yield Member(child.type, (), child.start_byte, child.end_byte, False)


def find_struct(src: bytes, name: str) -> StructDef | None:
    """The definition (with a body) of `struct name` in `src`."""
    for tree in chunk_trees(src, name):
        for node in walk(tree.root_node):
            if node.type != "struct_specifier" or _name(node.child_by_field_name("name")) \
                    != name:
                continue
            body = node.child_by_field_name("body")
            if body is None or body.end_byte == 0 or src[body.end_byte - 1:body.end_byte] \
                    != b"}":
                continue
            return StructDef(name, node.start_byte, body.end_byte - 1, tuple(_members(body)))
    return None



def _declarators(node: Node) -> Iterator[Node]:
    for decl in node.children_by_field_name("declarator"):
        yield decl.child_by_field_name("declarator") if decl.type == "init_declarator" \
            and decl.child_by_field_name("declarator") is not None else decl


def find_declaration(src: bytes, name: str, *, function: bool | None = None,
                     extern: bool | None = None) -> Node | None:
    """The first top-level declaration of `name` (a prototype when `function`, an
    object otherwise; `extern` filters on the storage class)."""
    for tree in chunk_trees(src, name):
        for node in _top_level(tree.root_node):
            if node.type != "declaration":
                continue
            is_extern = any(c.type == "storage_class_specifier" and _name(c) == "extern"
                            for c in node.named_children)
            if extern is not None and is_extern != extern:
                continue
            for decl in _declarators(node):
                if declarator_name(decl)[0] != name:
                    continue
                is_fn = is_function_declarator(decl)
                if function is None or function == is_fn:
                    return node
    return None


def find_function(src: bytes, name: str) -> Node | None:
    for tree in chunk_trees(src, name):
        for node in _top_level(tree.root_node):
            if node.type == "function_definition" and \
                    declarator_name(node.child_by_field_name("declarator"))[0] == name:
                return node
    return None


# --- text helpers ------------------------------------------------------------------------------


def doc_start(src: bytes, at: int) -> int:
    """Start of the comment block directly above the line at `at` (kernel-doc stays
    attached to what it documents), else `at`."""
    m = re.search(rb"/\*(?:(?!\*/).)*\*/[ \t]*\n\Z", src[:at], re.S)
    return m.start() if m is not None and src[line_start(src, m.start()):m.start()].strip() \
        == b"" else at


TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    """One environment: it keeps the compiled template (compiling it costs more than a
    stage's core planning)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                              keep_trailing_newline=True, trim_blocks=True,
                              lstrip_blocks=True)


def render(part: str, **context: object) -> str:
    """The part `part` of templates/core.j2."""
    return _env().get_template("core.j2").render(part=part, **context)


def read_source(ctx: RuleContext, path: str) -> bytes | None:
    """The tree's file `path`, None when the tree has none."""
    try:
        return ctx.index.source(path)
    except OSError:
        return None


def file_review(ctx: RuleContext, path: str, reason: str) -> Site:
    """A core patch that cannot be written: review at the top of `path`."""
    return ctx.review(At(path, "", 1, 0, 0), reason, evidence=[f"{path}: {reason}"],
                      template="core")


def define_object(src: bytes, path: str, anchors: Iterable[str], text: str, rule: str
                  ) -> Edit:
    """Insert a file-scope definition after the first anchor function found (and its
    EXPORT_SYMBOL line), else at the end of the file."""
    for anchor in anchors:
        fn = find_function(src, anchor)
        if fn is None:
            continue
        at = line_end(src, fn.end_byte - 1)
        export = re.compile(rb"EXPORT_SYMBOL\w*\(\s*" + re.escape(anchor.encode()) +
                            rb"\s*\);[ \t]*\n")
        m = export.match(src, at)
        if m is not None:
            at = m.end()
        return Edit(path, at, at, "\n" + text.rstrip("\n") + "\n", rule)
    at = len(src)
    sep = "" if src.endswith(b"\n") or not src else "\n"
    return Edit(path, at, at, sep + "\n" + text.rstrip("\n") + "\n", rule)
