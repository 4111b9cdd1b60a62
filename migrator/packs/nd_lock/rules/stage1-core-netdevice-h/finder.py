"""stage1-core-netdevice-h (--with-core): the nd_lock API in the tree's own
include/linux/netdevice.h, each part added only when the header lacks it: the nd_lock
member of struct net_device (after its last member, before a trailing flexible array
member and the paragraph holding it; a row in the struct's layout table when option
`layout_doc` names it), struct nd_lock and the SPEC §2 prototypes before the
register_netdevice() prototype (the `includes` its types need), and fallback_nd_lock
defined and exported in `fallback_file` (after a `fallback_after` anchor) when anything
was added. One rewrite site at struct net_device; review when the header has no struct
net_device definition or no register_netdevice() prototype to anchor on. Where things go
is found through the parse tree (core.py, shared with stage2-link-deps).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from migrator.edit.cedit import line_end, line_start
from migrator.edit.edits import line_of
from migrator.model import Edit, Site
from migrator.packs.nd_lock.core import (
    StructDef,
    define_object,
    doc_start,
    file_review,
    find_declaration,
    find_struct,
    read_source,
    render,
)
from migrator.rules.context import At, RuleContext

NETDEVICE_H = "include/linux/netdevice.h"
DEV_C = "net/core/dev.c"


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


def find(ctx: RuleContext) -> Iterable[Site]:
    """--with-core: SPEC §2 in the tree's own headers (idempotent)."""
    if not ctx.options.get("with_core"):
        return
    path = str(ctx.options.get("core_header", NETDEVICE_H))
    src = read_source(ctx, path)
    if src is None:
        return
    rule = ctx.rule.id
    edits: list[Edit] = []
    evidence: list[str] = []
    net_device = find_struct(src, "net_device")
    if net_device is None:
        yield file_review(ctx, path, "struct net_device definition not found")
        return
    if not net_device.has_member("nd_lock"):
        at, opens = member_insertion(src, net_device)
        doc = _has_kernel_doc(src, net_device.start)
        text = render("member", doc=doc)
        edits.append(Edit(path, at, at, "\n" + text if opens else text + "\n", rule))
        evidence.append(f"{path}:{line_of(src, at)} struct net_device (line "
                        f"{line_of(src, net_device.start)}) gains nd_lock")
        layout = str(ctx.options.get("layout_doc", ""))
        lsrc = read_source(ctx, layout) if layout else None
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
            yield file_review(ctx, path, "register_netdevice() prototype not found")
            return
        at = line_start(src, anchor.start_byte)
        if api is None:
            part, what = ("declarations" if not has_struct else "prototypes"), \
                "the nd_lock API before the register_netdevice() prototype"
            text = render(part)
        else:  # the prototypes are there, struct nd_lock is not (or only declared)
            at = doc_start(src, at)
            part, what = "struct", "struct nd_lock before the nd_lock prototypes"
            text = render(part) + "\n"
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
    dsrc = read_source(ctx, dev_c)
    if edits and dsrc is not None and \
            find_declaration(dsrc, "fallback_nd_lock", extern=False) is None:
        edits.append(define_object(dsrc, dev_c, ctx.options.get("fallback_after", []),
                                   render("fallback"), rule))
        evidence.append(f"{dev_c}: defines and exports fallback_nd_lock")
    if not edits:
        return
    first = min(e.start for e in edits if e.file == path)
    yield ctx.rewrite(At(path, "struct net_device", line_of(src, first), first, first), edits,
                      "nd_lock API: struct nd_lock, struct net_device member, prototypes",
                      evidence=evidence, template="core")

