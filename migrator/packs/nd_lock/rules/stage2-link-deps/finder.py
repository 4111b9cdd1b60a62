"""stage2-link-deps: the attributes naming other devices that .newlink/.changelink look
up, declared as the ops' link_deps tables (.newlink_deps/.changelink_deps), so that the
rtnetlink core locks those devices before the callback runs.

For each struct rtnl_link_ops initializer, every function its .newlink/.changelink reaches
in the driver's own directory is read for __dev_get_by_index() and friends whose ifindex
is a `tb[X]`/`data[X]` read (directly, through a local, or through a field another of
those functions sets from it); an attribute is mandatory when the callback (or the
lookup's function) returns an error without it, else optional. Per ops: one rewrite site
(the tables before the initializer, the members in it: `&generic_newlink_deps` for the
lone mandatory IFLA_LINK), already done when the ops declare their tables already,
review when a member line cannot be found. When the stage rewrites any, a core site
declares struct link_deps and the rtnl_link_ops members in include/net/rtnetlink.h
(rtnetlink_core(), placed with core.py), and generic_newlink_deps when used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from migrator.callgraph import Root
from migrator.edit import cedit
from migrator.edit.cedit import line_end, line_start
from migrator.edit.edits import line_of
from migrator.model import CallSite, Edit, FunctionDef, Outcome, Site, StructInit
from migrator.model.srctext import CODEC
from migrator.packs.nd_lock import core
from migrator.rules.context import At, RuleContext

LOOKUPS = ("__dev_get_by_index", "dev_get_by_index", "dev_get_by_index_rcu",
           "netdev_get_by_index")
_ATTR = re.compile(r"\b(tb|data)\s*\[\s*(\w+)\s*\]")
RTNETLINK_H = "include/net/rtnetlink.h"
RTNETLINK_C = "net/core/rtnetlink.c"
GENERIC_DEPS = "generic_newlink_deps"


def _attr_reads(body: str, expr: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in _ATTR.finditer(expr)]


def _lookup_attrs(ctx: RuleContext, fn: FunctionDef, funcs: list[FunctionDef]
                  ) -> Iterable[tuple[str, str, CallSite, str]]:
    """(table, attribute id, lookup call, how the ifindex flows) for lookups in `fn`."""
    src = ctx.index.source(fn.file)
    body = src[fn.body_start:fn.body_end].decode(*CODEC)
    for call in ctx.index.calls_in(fn):
        if call.callee not in LOOKUPS or len(call.args) < 2:
            continue
        arg = call.args[1].strip()
        direct = _attr_reads(body, arg)
        if direct:
            for table, attr in direct:
                yield table, attr, call, f"direct: {arg}"
            continue
        if arg.isidentifier():
            for m in re.finditer(rf"\b{re.escape(arg)}\s*=\s*([^;]+);", body):
                for table, attr in _attr_reads(body, m.group(1)):
                    yield table, attr, call, f"via local {arg} = {m.group(1).strip()}"
            continue
        field = re.search(r"(?:->|\.)(\w+)$", arg)
        if field is None:
            continue
        for other in funcs:
            osrc = ctx.index.source(other.file)
            obody = osrc[other.body_start:other.body_end].decode(*CODEC)
            for m in re.finditer(rf"(?:->|\.){re.escape(field.group(1))}\s*=\s*([^;]+);",
                                 obody):
                for table, attr in _attr_reads(obody, m.group(1)):
                    yield table, attr, call, (f"via field {arg}: {other.name}() sets "
                                              f"->{field.group(1)} = {m.group(1).strip()}")


def _is_mandatory(src: bytes, fn: FunctionDef, table: str, attr: str) -> bool:
    """The callback returns an error when the attribute is absent: an `if (!tb[X]...)`
    (possibly `!data || !data[X]`) whose branch returns or jumps out."""
    body = src[fn.body_start:fn.body_end].decode(*CODEC)
    pattern = (rf"if\s*\(([^)]*?)!\s*{table}\s*\[\s*{attr}\s*\]\s*\)(\s*\{{[^}}]*?|\s*)"
               r"(return\s+-\w+|return\s+\w+|goto\s+\w+)")
    return re.search(pattern, body) is not None


def find(ctx: RuleContext) -> list[Site]:
    sites: list[Site] = []
    for init in ctx.index.inits_of("rtnl_link_ops"):
        if init.is_array:
            continue
        tables: dict[str, dict[str, list[str]]] = {}
        evidence: dict[str, list[str]] = {}
        declared = [m for m in ("newlink", "changelink") if init.member(f"{m}_deps")]
        for member in ("newlink", "changelink"):
            value = init.member(member)
            if not value or not value.isidentifier() or member in declared:
                continue
            roots = [Root(f, init, member) for f in ctx.graph.resolve_name(init.file, value)]
            if not roots:
                continue
            root_fn = roots[0].function
            chains = ctx.graph.reach(roots)
            # Helpers of the driver itself: reach also follows member calls (ops->x())
            # into other drivers, whose lookups are not this callback's dependencies.
            home = init.file.rpartition("/")[0]
            funcs = [f for k, _ in chains.items() for f in [ctx.index.function(*k)]
                     if f and f.file.rpartition("/")[0] == home]
            found: dict[str, list[str]] = {}
            ev: list[str] = []
            for fn in funcs:
                for table, attr, call, how in _lookup_attrs(ctx, fn, funcs):
                    mand = any(_is_mandatory(ctx.index.source(f.file), f, table, attr)
                               for f in (root_fn, fn))
                    kind = "mandatory" if mand else "optional"
                    slot = f"{kind}.{table}"
                    if attr not in found.setdefault(slot, []):
                        found[slot].append(attr)
                        ev.append(f"{member}: {table}[{attr}] {how} -> {call.file}:{call.line} "
                                  f"{call.callee}({', '.join(call.args)}); {kind}: " +
                                  (f"{value}() returns an error when it is absent" if mand
                                   else "used only when present"))
            if found:
                tables[member] = found
                evidence[member] = ev
        if tables:
            sites.append(_deps_site(ctx, init, tables, evidence))
        elif declared:
            sites.append(ctx.already_done(_at(init), f"{init.var}: declares "
                                          + ", ".join(f".{m}_deps" for m in declared)))
    if any(s.outcome is Outcome.REWRITE for s in sites):
        uses_generic = any(f"&{GENERIC_DEPS}" in e.replacement
                           for s in sites if s.outcome is Outcome.REWRITE for e in s.edits)
        core_site = rtnetlink_core(ctx, uses_generic, ctx.options)
        if core_site is not None:
            sites.append(core_site)
    return sites


def _prefix(var: str) -> str:
    return re.sub(r"(_rtnl)?(_link)?_ops$", "", var) or var


def _deps_site(ctx: RuleContext, init: StructInit, tables: dict[str, dict[str, list[str]]],
               evidence: dict[str, list[str]]) -> Site:
    src = ctx.index.source(init.file)
    prefix = _prefix(init.var)
    edits: list[Edit] = []
    defined: dict[str, str] = {}  # canonical table text -> name
    member_lines: dict[str, str] = {}
    for member, found in tables.items():
        if found == {"mandatory.tb": ["IFLA_LINK"]}:
            member_lines[member] = f"&{GENERIC_DEPS}"
            continue
        body = "".join(f"\t.{slot} = {{ {', '.join(ids)}, }},\n"
                       for slot, ids in sorted(found.items()))
        if body not in defined:
            shared = len(tables) == 2 and all(v == found for v in tables.values())
            defined[body] = f"{prefix}_{'link' if shared else member}_deps"
        member_lines[member] = f"&{defined[body]}"
    text_tables = "".join(f"static struct link_deps {name} = {{\n{body}}};\n\n"
                          for body, name in defined.items())
    if text_tables:
        at = cedit.line_start(src, init.start)
        edits.append(Edit(init.file, at, at, text_tables, ctx.rule.id))
    block = src[init.body_start:init.body_end]
    for member, ref in member_lines.items():
        m = re.search(rb"(?m)^([ \t]*)\." + member.encode() + rb"(\s*)=", block)
        if m is None:
            return ctx.review(_at(init), f".{member} member line not found",
                              evidence=[e for v in evidence.values() for e in v])
        indent = m.group(1).decode()
        eq_col = len((m.group(1) + b"." + member.encode() + m.group(2)).decode().expandtabs(8))
        name = f".{member}_deps"
        width = len((indent + name).expandtabs(8))
        pad = ""
        if "\t" in m.group(2).decode():
            while width < eq_col:
                pad += "\t"
                width = (width // 8 + 1) * 8
        pad = pad or " "
        at = init.body_start + m.start()
        edits.append(Edit(init.file, at, at, f"{indent}{name}{pad}= {ref},\n", ctx.rule.id))
    ids = "; ".join(f"{m}: " + ", ".join(f"{s} {i}" for s, ids in t.items() for i in ids)
                    for m, t in tables.items())
    return ctx.rewrite(_at(init), edits, f"{init.var}: link_deps ({ids})",
                       evidence=[e for v in evidence.values() for e in v])


def _at(init: StructInit) -> At:
    return At(init.file, init.var, init.line, init.start, init.end)


# --- include/net/rtnetlink.h (+ generic_newlink_deps in net/core/rtnetlink.c) --------------


def _fn_pointer_member(struct: core.StructDef, src: bytes, name: str) -> core.Member | None:
    return next((m for m in struct.members if m.kind == "field_declaration"
                 and name in m.names), None)


def rtnetlink_core(ctx: RuleContext, uses_generic: bool, options: dict[str, object]
                   ) -> Site | None:
    """struct link_deps, MAX_LINK_DEPS and the two rtnl_link_ops members in
    include/net/rtnetlink.h; generic_newlink_deps declared there, and defined and
    exported in net/core/rtnetlink.c, when the series uses it. None when the tree has
    it all."""
    rule = ctx.rule.id
    src = core.read_source(ctx, RTNETLINK_H)
    if src is None:
        return None
    edits: list[Edit] = []
    evidence: list[str] = []
    ops = core.find_struct(src, "rtnl_link_ops")
    if ops is None:
        return core.file_review(ctx, RTNETLINK_H, "struct rtnl_link_ops definition not found")
    deps = core.find_struct(src, "link_deps")
    declare = uses_generic and core.find_declaration(src, GENERIC_DEPS, extern=True) is None
    if deps is None:
        at = core.doc_start(src, line_start(src, ops.start))
        edits.append(Edit(RTNETLINK_H, at, at, core.render("link_deps", generic=declare), rule))
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
            return core.file_review(ctx, RTNETLINK_H,
                           f"struct rtnl_link_ops has no (*{callback}) member")
        at = line_start(src, member.start)
        indent = re.match(rb"[ \t]*", src[at:]).group(0).decode()  # type: ignore[union-attr]
        edits.append(Edit(RTNETLINK_H, at, at, core.render("ops_member", indent=indent,
                                                       name=callback), rule))
        evidence.append(f"{RTNETLINK_H}:{line_of(src, at)} rtnl_link_ops.{callback}_deps "
                        f"before (*{callback})")
        doc = re.compile(rb"(?m)^([ \t]*\*[ \t]*)@" + callback.encode() + rb":")
        head = src[:line_start(src, ops.start)]
        kdoc = core.doc_start(src, line_start(src, ops.start))
        m = doc.search(head, kdoc)
        if m is not None:
            edits.append(Edit(RTNETLINK_H, m.start(), m.start(),
                              core.render("ops_doc", name=callback,
                                      prefix=m.group(1).decode()), rule))
    csrc = core.read_source(ctx, RTNETLINK_C)
    if uses_generic and csrc is not None and \
            core.find_declaration(csrc, GENERIC_DEPS, extern=False) is None:
        edits.append(core.define_object(csrc, RTNETLINK_C, list(options.get(  # type: ignore[call-overload]
            "generic_deps_after", [])), core.render("generic_deps"), rule))
        evidence.append(f"{RTNETLINK_C}: defines and exports {GENERIC_DEPS}")
    if not edits:
        return None
    return ctx.rewrite(
        At(RTNETLINK_H, "struct rtnl_link_ops", line_of(src, ops.start), ops.start, ops.start),
        edits, "declare struct link_deps and the rtnl_link_ops *_deps members",
        evidence=["link_deps tables are used by this stage's rewrites", *evidence],
        template="core")
