"""Core API patches: the nd_lock API in include/linux/netdevice.h (stage 1, --with-core)
and the link_deps declarations of include/net/rtnetlink.h (stage 2).

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
from migrator.edit.edits import line_of
from migrator.model import Edit, Site
from migrator.parse.tree import chunk_trees, declarator_name, is_function_declarator, walk
from migrator.rules.context import At, RuleContext

Node = tree_sitter.Node

NETDEVICE_H = "include/linux/netdevice.h"
RTNETLINK_H = "include/net/rtnetlink.h"
RTNETLINK_C = "net/core/rtnetlink.c"
DEV_C = "net/core/dev.c"
GENERIC_DEPS = "generic_newlink_deps"

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


def _doc_start(src: bytes, at: int) -> int:
    """Start of the comment block directly above the line at `at` (kernel-doc stays
    attached to what it documents), else `at`."""
    m = re.search(rb"/\*(?:(?!\*/).)*\*/[ \t]*\n\Z", src[:at], re.S)
    return m.start() if m is not None and src[line_start(src, m.start()):m.start()].strip() \
        == b"" else at


def _has_kernel_doc(src: bytes, at: int) -> bool:
    """The nearest comment above `at` (blank lines allowed) is a kernel-doc comment."""
    head = src[:line_start(src, at)].rstrip()
    if not head.endswith(b"*/"):
        return False
    start = head.rfind(b"/*")
    return start >= 0 and head.startswith(b"/**", start) and \
        src[line_start(src, start):start].strip() == b""


def _previous_field(struct: StructDef, at: int) -> str:
    """Name of the last field declared before offset `at` in `struct`."""
    names = [n for m in struct.members if m.end <= at for n in m.names]
    return names[-1] if names else ""


def _layout_row(doc: bytes, after: str) -> int:
    """Where a row goes in a struct layout table (Documentation/networking/
    net_cachelines/): after the row of field `after`, else after the last row."""
    rows = list(re.finditer(rb"(?m)^\S[^\n]*?[ \t]{2,}(\S+)(?:[ \t][^\n]*)?$", doc))
    for m in rows:
        if m.group(1).decode("utf-8", "replace").split("[")[0] == after:
            return line_end(doc, m.start())
    if not doc.endswith(b"\n"):
        return len(doc)
    return line_end(doc, rows[-1].start()) if rows else len(doc)


TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    """One environment: it keeps the compiled template (compiling it costs more than a
    stage's core planning)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                              keep_trailing_newline=True, trim_blocks=True,
                              lstrip_blocks=True)


def _render(part: str, **context: object) -> str:
    return _env().get_template("core.j2").render(part=part, **context)


def _source(ctx: RuleContext, path: str) -> bytes | None:
    try:
        return ctx.index.source(path)
    except OSError:
        return None


def _review(ctx: RuleContext, path: str, reason: str) -> Site:
    return ctx.review(At(path, "", 1, 0, 0), reason, evidence=[f"{path}: {reason}"],
                      template="core")


def member_insertion(src: bytes, struct: StructDef) -> tuple[int, bool]:
    """Where a new last member of `struct` goes, and whether it opens a paragraph of its
    own there (else it ends one): before the closing brace of its own body, or, when the
    body ends with a flexible array member (which must stay last), before the paragraph
    holding it (`u8 priv_len; u8 priv[];` stay together). Always at a line start outside
    the body's preprocessor groups."""
    members = [m for m in struct.members if m.kind != "comment"]
    if not members or not members[-1].flexible:
        return line_start(src, struct.close), True
    flexible = members[-1]
    at = line_start(src, flexible.start)
    while at > 0:
        prev = line_start(src, at - 1)
        if src[prev:at].strip() == b"":
            break
        at = prev
    groups = [m for m in struct.members if m.kind.startswith("preproc_")]
    opening = src.find(b"{", struct.start) + 1
    if at > opening and not any(m.start < at < m.end for m in groups):
        return at, False
    before = [m for m in struct.members[:-1] if m.end <= flexible.start]
    return (line_end(src, before[-1].end - 1) if before else line_end(src, opening)), True


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


def _missing_includes(src: bytes, pairs: Iterable[Iterable[str]]) -> list[str]:
    """Headers to include: the type is used by the new code and the file neither
    includes its header nor uses the type itself."""
    out = []
    for pair in pairs:
        type_name, header = list(pair)
        included = re.search(rb"(?m)^#[ \t]*include[ \t]*<" + re.escape(header.encode()) + rb">",
                             src)
        used = re.search(rb"\b" + re.escape(type_name.encode()).replace(rb"\ ", rb"\s+") +
                         rb"\b", src)
        if included is None and used is None:
            out.append(header)
    return out


def _include_point(src: bytes) -> int:
    """After the last `#include <linux/...>` of the header's leading include block."""
    at, last, in_comment = 0, -1, False
    for m in re.finditer(rb"[^\n]*\n", src):
        line = m.group(0).strip()
        if in_comment:
            in_comment = b"*/" not in line
            continue
        if line.startswith(b"/*"):
            in_comment = b"*/" not in line
            continue
        if line.startswith(b"#include <linux/"):
            last = m.end()
        elif line and not line.startswith((b"#", b"//")):
            break
        at = m.end()
    return last if last >= 0 else at


# --- stage 1: include/linux/netdevice.h (+ fallback_nd_lock in net/core/dev.c) ---------------


def netdevice_h(ctx: RuleContext) -> Iterable[Site]:
    """--with-core: SPEC §2 in the tree's own headers (idempotent)."""
    if not ctx.options.get("with_core"):
        return
    path = str(ctx.options.get("core_header", NETDEVICE_H))
    src = _source(ctx, path)
    if src is None:
        return
    rule = ctx.rule.id
    edits: list[Edit] = []
    evidence: list[str] = []
    net_device = find_struct(src, "net_device")
    if net_device is None:
        yield _review(ctx, path, "struct net_device definition not found")
        return
    if not net_device.has_member("nd_lock"):
        at, opens = member_insertion(src, net_device)
        doc = _has_kernel_doc(src, net_device.start)
        text = _render("member", doc=doc)
        edits.append(Edit(path, at, at, "\n" + text if opens else text + "\n", rule))
        evidence.append(f"{path}:{line_of(src, at)} struct net_device (line "
                        f"{line_of(src, net_device.start)}) gains nd_lock")
        layout = str(ctx.options.get("layout_doc", ""))
        lsrc = _source(ctx, layout) if layout else None
        if lsrc is not None:
            row = _layout_row(lsrc, _previous_field(net_device, at))
            edits.append(Edit(layout, row, row, "struct nd_lock*".ljust(36) + "nd_lock\n",
                              rule))
            evidence.append(f"{layout}: nd_lock listed in the struct layout table")
    has_struct = find_struct(src, "nd_lock") is not None
    api = find_declaration(src, "lock_netdev", function=True)
    if not has_struct or api is None:
        anchor = api if api is not None else \
            find_declaration(src, "register_netdevice", function=True)
        if anchor is None:
            yield _review(ctx, path, "register_netdevice() prototype not found")
            return
        at = line_start(src, anchor.start_byte)
        if api is None:
            part, what = ("declarations" if not has_struct else "prototypes"), \
                "the nd_lock API before the register_netdevice() prototype"
            text = _render(part)
        else:  # the prototypes are there, struct nd_lock is not (or only declared)
            at = _doc_start(src, at)
            part, what = "struct", "struct nd_lock before the nd_lock prototypes"
            text = _render(part) + "\n"
        edits.append(Edit(path, at, at, text, rule))
        evidence.append(f"{path}:{line_of(src, at)} {what}")
        includes = _missing_includes(src, ctx.options.get("includes", [])) \
            if not has_struct else []
        if includes:
            at = _include_point(src)
            edits.append(Edit(path, at, at, "".join(f"#include <{h}>\n" for h in includes),
                              rule))
            evidence.append(f"{path}: includes {', '.join(includes)} for struct nd_lock")
    dev_c = str(ctx.options.get("fallback_file", DEV_C))
    dsrc = _source(ctx, dev_c)
    if edits and dsrc is not None and \
            find_declaration(dsrc, "fallback_nd_lock", extern=False) is None:
        edits.append(define_object(dsrc, dev_c, ctx.options.get("fallback_after", []),
                                   _render("fallback"), rule))
        evidence.append(f"{dev_c}: defines and exports fallback_nd_lock")
    if not edits:
        return
    first = min(e.start for e in edits if e.file == path)
    yield ctx.rewrite(At(path, "struct net_device", line_of(src, first), first, first), edits,
                      "nd_lock API: struct nd_lock, struct net_device member, prototypes",
                      evidence=evidence, template="core")


# --- stage 2: include/net/rtnetlink.h (+ generic_newlink_deps in net/core/rtnetlink.c) -------


def _fn_pointer_member(struct: StructDef, src: bytes, name: str) -> Member | None:
    return next((m for m in struct.members if m.kind == "field_declaration"
                 and name in m.names), None)


def rtnetlink_core(ctx: RuleContext, uses_generic: bool, options: dict[str, object]
                   ) -> Site | None:
    """struct link_deps, MAX_LINK_DEPS and the two rtnl_link_ops members in
    include/net/rtnetlink.h; generic_newlink_deps declared there, and defined and
    exported in net/core/rtnetlink.c, when the series uses it. None when the tree has
    it all."""
    rule = ctx.rule.id
    src = _source(ctx, RTNETLINK_H)
    if src is None:
        return None
    edits: list[Edit] = []
    evidence: list[str] = []
    ops = find_struct(src, "rtnl_link_ops")
    if ops is None:
        return _review(ctx, RTNETLINK_H, "struct rtnl_link_ops definition not found")
    deps = find_struct(src, "link_deps")
    declare = uses_generic and find_declaration(src, GENERIC_DEPS, extern=True) is None
    if deps is None:
        at = _doc_start(src, line_start(src, ops.start))
        edits.append(Edit(RTNETLINK_H, at, at, _render("link_deps", generic=declare), rule))
        evidence.append(f"{RTNETLINK_H}:{line_of(src, at)} struct link_deps before "
                        "struct rtnl_link_ops")
    elif declare:
        at = line_end(src, deps.close)
        edits.append(Edit(RTNETLINK_H, at, at,
                          f"\nextern struct link_deps {GENERIC_DEPS};\n", rule))
        evidence.append(f"{RTNETLINK_H}:{line_of(src, at)} declares {GENERIC_DEPS}")
    for callback in ("newlink", "changelink"):
        if ops.has_member(f"{callback}_deps"):
            continue
        member = _fn_pointer_member(ops, src, callback)
        if member is None:
            return _review(ctx, RTNETLINK_H,
                           f"struct rtnl_link_ops has no (*{callback}) member")
        at = line_start(src, member.start)
        indent = re.match(rb"[ \t]*", src[at:]).group(0).decode()  # type: ignore[union-attr]
        edits.append(Edit(RTNETLINK_H, at, at, _render("ops_member", indent=indent,
                                                       name=callback), rule))
        evidence.append(f"{RTNETLINK_H}:{line_of(src, at)} rtnl_link_ops.{callback}_deps "
                        f"before (*{callback})")
        doc = re.compile(rb"(?m)^([ \t]*\*[ \t]*)@" + callback.encode() + rb":")
        head = src[:line_start(src, ops.start)]
        kdoc = _doc_start(src, line_start(src, ops.start))
        m = doc.search(head, kdoc)
        if m is not None:
            edits.append(Edit(RTNETLINK_H, m.start(), m.start(),
                              _render("ops_doc", name=callback,
                                      prefix=m.group(1).decode()), rule))
    csrc = _source(ctx, RTNETLINK_C)
    if uses_generic and csrc is not None and \
            find_declaration(csrc, GENERIC_DEPS, extern=False) is None:
        edits.append(define_object(csrc, RTNETLINK_C, list(options.get(  # type: ignore[call-overload]
            "generic_deps_after", [])), _render("generic_deps"), rule))
        evidence.append(f"{RTNETLINK_C}: defines and exports {GENERIC_DEPS}")
    if not edits:
        return None
    return ctx.rewrite(
        At(RTNETLINK_H, "struct rtnl_link_ops", line_of(src, ops.start), ops.start, ops.start),
        edits, "declare struct link_deps and the rtnl_link_ops *_deps members",
        evidence=["link_deps tables are used by this stage's rewrites", *evidence],
        template="core")
