"""1-exit-rtnl (netns_rtnl stage 1): pernet `.exit_batch_rtnl` callbacks that only loop
over the batch become per-namespace `.exit_rtnl` callbacks.

The core (net/core/net_namespace.c, ops_exit_rtnl_list()) calls
`ops->exit_rtnl(net, &dev_kill_list)` once per dying namespace, under RTNL and that
namespace's own lock. A callback of the shape

    static void __net_exit foo_exit_batch_rtnl(struct list_head *net_list,
                                               struct list_head *dev_to_kill)
    {
            struct net *net;

            ASSERT_RTNL();
            list_for_each_entry(net, net_list, exit_list) BODY
    }

therefore becomes `foo_exit_rtnl(struct net *net, struct list_head *dev_to_kill)` whose
body is BODY one level less indented (its locals joining the function's, reverse xmas
tree), and the initializer says `.exit_rtnl = foo_exit_rtnl`. Inside it (and inside
static helpers only it calls with its namespace) ASSERT_RTNL() becomes
ASSERT_RTNL_NET(net) and rtnl_dereference(p) of a pointer reached from that namespace
(`net->...`, or a local holding net_generic(net, ...)) becomes rtnl_net_dereference(net, p).
A loop body that only calls a static helper `h(net, list)` nobody else calls makes `h`
the callback (`foo_exit_rtnl_net`) and drops the wrapper. A callback that hands the
batch to an exported helper looping over it (ip_tunnel_delete_nets()) calls a new
per-namespace variant of that helper, added (with its prototype) by a patch of its own.
Everything else is review, with the reason in plain words and the lines as evidence.

Layout: pure functions over (file bytes, parsed tree) -- `plan_file()` for one file
(the pack's exit_rtnl_file, over exit_rtnl_ops for the initializers and exit_rtnl_shape
for the batch loop), `plan_forwards()` for the batch helpers shared across files (here)
-- and `find(ctx)`, the rule's finder wiring them to the engine: the files it examines,
and an initializer that already sets `.exit_rtnl` (and no `.exit_batch_rtnl`) as done.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from migrator.edit.cedit import NeedsReview
from migrator.index.discover import grep_hits, is_git_tree
from migrator.model import Edit, Outcome, Site
from migrator.packs.netns_rtnl.csrc import (
    Node,
    call_args,
    callee,
    code_only,
    find_function,
    function_name,
    function_name_node,
    is_static,
    line_end,
    line_of,
    line_start,
    node_at,
    render_head,
    squash,
    text,
    where,
    word_offsets,
)
from migrator.packs.netns_rtnl.exit_rtnl_file import (
    STAGE,
    TEMPLATE,
    _site,
    namespace_edits,
    new_name,
    plan_file,
    signature_edit,
    unrolled,
)
from migrator.packs.netns_rtnl.exit_rtnl_ops import BATCH, SINGLE, STRUCT, OpsMember, member_edit
from migrator.packs.netns_rtnl.exit_rtnl_shape import NET_TYPE, Forward, Shape, batch_shape
from migrator.parse.tree import walk
from migrator.rules.context import At

_EXPORT = re.compile(r"EXPORT_SYMBOL(?:_GPL)?(?:_NS(?:_GPL)?)?")


# --- helpers shared across files (ip_tunnel_delete_nets()) -----------------------------------


def variant_name(helper: str) -> str:
    return helper[:-1] if helper.endswith("_nets") else f"{helper}_net"


def plan_forwards(forwards: list[tuple[Forward, OpsMember, str, bytes]], root: Path,
                  read: Callable[[str], bytes], rule: str = "netns-exit-rtnl",
                  search: Callable[[list[str]], list[str]] | None = None) -> list[Site]:
    """Callbacks that hand the batch to a helper: when the helper is an exported
    function that only loops over the batch, and only such callbacks call it, add its
    per-namespace variant (own site: definition, export, prototypes) and make each
    callback call that; otherwise each is review naming the helper and its callers."""
    if search is None:
        git = is_git_tree(root)

        def search(names: list[str]) -> list[str]:
            return sorted(grep_hits(root, names, git=git, files_only=True))

    by_helper: dict[str, list[tuple[Forward, OpsMember, str, bytes]]] = {}
    for item in forwards:
        by_helper.setdefault(item[0].helper, []).append(item)
    sites: list[Site] = []
    for helper, items in sorted(by_helper.items()):
        try:
            sites.extend(_shared_helper(helper, items, read, search, rule))
        except NeedsReview as exc:
            for fwd, member, path, src in items:
                name_node = function_name_node(fwd.fn)
                assert name_node is not None
                sites.append(_site(path, src, name_node, fwd.name, Outcome.REVIEW, str(exc), rule,
                                   [f"{where(path, src, member.pair.start_byte)} "
                                    f"({member.var})",
                                    f"{where(path, src, fwd.call.start_byte)}",
                                    *exc.evidence]))
    return sites


def _shared_helper(helper: str, items: list[tuple[Forward, OpsMember, str, bytes]],
                   read: Callable[[str], bytes], search: Callable[[list[str]], list[str]],
                   rule: str) -> list[Site]:
    batch_name = items[0][0].params[items[0][0].batch].name
    lead = (f"{items[0][0].name}() does not loop over the batch: it passes {batch_name} to "
            f"{helper}()")
    files = search([helper])
    defs = []
    for f in files:
        if f.endswith(".c"):
            fsrc = read(f)
            fn = find_function(fsrc, helper)
            if fn is not None:
                defs.append((f, fsrc, fn))
    if len(defs) != 1:
        raise NeedsReview(f"{lead}, which is defined {len(defs)} times in the tree")
    hpath, hsrc, hfn = defs[0]
    if is_static(hsrc, hfn):
        raise NeedsReview(f"{lead}, a static helper of {hpath}; convert it by hand")
    args = {fwd.arg for fwd, *_ in items}
    if len(args) != 1:
        raise NeedsReview(f"{lead}, whose callers pass the batch at different positions")
    arg = args.pop()
    try:
        shape = batch_shape(hpath, hsrc, hfn, arg)
    except NeedsReview as exc:
        raise NeedsReview(f"{lead}, which cannot be split per namespace: {exc}",
                     exc.evidence) from exc
    if isinstance(shape, Forward):
        raise NeedsReview(f"{lead}, which hands it on to {shape.helper}()")
    # every use of the helper: its definition, exports, prototypes and these callers
    ours = {(path, fwd.call.start_byte) for fwd, _m, path, _s in items}
    foreign: list[str] = []
    protos: list[tuple[str, bytes, Node]] = []
    export: Node | None = None
    for f in files:
        fsrc = read(f)
        fcode = code_only(fsrc)
        for at in word_offsets(fcode, helper):
            if (f, at) in ours or (f == hpath and at == function_name_node(hfn).start_byte):
                continue
            decl = node_at(fsrc, at, ("declaration",))
            call = node_at(fsrc, at, ("call_expression",))
            if call is not None and callee(fsrc, call) != helper:
                call = None
            if call is not None and _EXPORT.fullmatch(callee(fsrc, call)) is None:
                user = node_at(fsrc, at, ("function_definition",))
                who = function_name(fsrc, user) if user is not None else "?"
                foreign.append(f"{where(f, fsrc, at)} (in {who}())")
                continue
            enclosing = node_at(fsrc, at, ("call_expression",))
            if enclosing is not None and _EXPORT.fullmatch(callee(fsrc, enclosing) or ""):
                if f == hpath:
                    export = enclosing
                continue
            if decl is not None and f.endswith(".h") and any(
                    n.type == "function_declarator" for n in walk(decl)):
                protos.append((f, fsrc, decl))
                continue
            foreign.append(where(f, fsrc, at))
    if foreign:
        raise NeedsReview(f"{lead}, which other code uses too ({len(foreign)} more uses); "
                     f"{helper}() needs a per-namespace variant for the callbacks and "
                     "its other users decided by hand", foreign[:6])
    variant = variant_name(helper)
    if search([variant]):
        raise NeedsReview(f"{lead}; its per-namespace variant would be {variant}(), a name "
                     "the tree already uses")
    cursor = shape.cursor
    sites = [_variant_site(hpath, hsrc, shape, variant, export, protos, arg, rule, items)]
    for fwd, member, path, src in items:
        try:
            sites.append(_forward_site(path, src, fwd, member, variant, cursor, rule,
                                       hpath))
        except NeedsReview as exc:
            name_node = function_name_node(fwd.fn)
            assert name_node is not None
            sites.append(_site(path, src, name_node, fwd.name, Outcome.REVIEW, str(exc), rule,
                               exc.evidence))
    return sites


def _variant_site(hpath: str, hsrc: bytes, shape: Shape, variant: str, export: Node | None,
                  protos: list[tuple[str, bytes, Node]], arg: int, rule: str,
                  items: list[tuple[Forward, OpsMember, str, bytes]]) -> Site:
    fn = shape.fn
    name_node = function_name_node(fn)
    assert name_node is not None
    items_text = [f"{NET_TYPE}{shape.cursor}" if i == arg else p.text
                  for i, p in enumerate(shape.params)]
    specifiers = hsrc[fn.start_byte:name_node.start_byte].decode()
    lead = specifiers.rsplit("\n", 1)[-1]
    inner = namespace_edits(hsrc, fn, shape.cursor)
    text_ = (specifiers + render_head(lead, variant, items_text) + "\n{\n"
             + unrolled(hsrc, shape, inner) + "}\n")
    edits = []
    if export is not None and line_of(hsrc, export.start_byte) > line_of(hsrc, fn.end_byte):
        macro = callee(hsrc, export)
        at = line_end(hsrc, export.end_byte)
        edits.append(Edit(hpath, at, at, f"\n{text_}{macro}({variant});\n", rule))
    else:
        at = line_end(hsrc, fn.end_byte - 1)
        edits.append(Edit(hpath, at, at, f"\n{text_}", rule))
    for ppath, psrc, decl in protos:
        fdecl = next(n for n in walk(decl) if n.type == "function_declarator")
        pname = fdecl.child_by_field_name("declarator")
        if pname is None:
            continue
        pparams = [squash(text(psrc, p)) for p in
                   (fdecl.child_by_field_name("parameters") or fdecl).named_children
                   if p.type == "parameter_declaration"]
        pitems = [f"{NET_TYPE}{shape.cursor}" if i == arg else t for i, t in enumerate(pparams)]
        before = psrc[line_start(psrc, decl.start_byte):pname.start_byte].decode()
        at = line_end(psrc, decl.end_byte - 1)
        edits.append(Edit(ppath, at, at,
                          before + render_head(before, variant, pitems, close=");") + "\n",
                          rule))
    users = ", ".join(f"{fwd.name}()" for fwd, *_ in items)
    return Site(stage=STAGE, template=TEMPLATE, outcome=Outcome.REWRITE, file=hpath,
                function=shape.name, line=line_of(hsrc, name_node.start_byte),
                start=name_node.start_byte, end=name_node.end_byte, rule=rule,
                reason=f"add {variant}(), the per-namespace variant of {shape.name}(), "
                       f"for the .{SINGLE} callbacks {users}",
                evidence=[f"{where(hpath, hsrc, shape.loop.start)} (the batch loop of "
                          f"{shape.name}())",
                          *(f"{where(p, s, d.start_byte)} (prototype)" for p, s, d in protos),
                          *(f"{where(path, src, fwd.call.start_byte)} (caller "
                            f"{fwd.name}())" for fwd, _m, path, src in items)],
                edits=edits)


def _forward_site(path: str, src: bytes, fwd: Forward, member: OpsMember, variant: str,
                  cursor: str, rule: str, hpath: str) -> Site:
    code = code_only(src)
    if word_offsets(code, cursor) and any(
            text(src, n) == cursor for n in walk(fwd.fn) if n.type == "identifier"):
        raise NeedsReview(f"{fwd.name}() already uses the name {cursor}")
    new = new_name(fwd.name, lambda n: bool(word_offsets(code, n)))
    if new is None:
        raise NeedsReview(f"no free name for the per-namespace callback of {fwd.name}()")
    kill = [p.text for i, p in enumerate(fwd.params) if i != fwd.batch]
    edits = [signature_edit(path, src, fwd.fn, new, [f"{NET_TYPE}{cursor}", *kill], rule)]
    args = [cursor if i == fwd.arg else squash(text(src, a))
            for i, a in enumerate(call_args(fwd.call))]
    lead = src[line_start(src, fwd.call.start_byte):fwd.call.start_byte].decode()
    edits.append(Edit(path, fwd.call.start_byte, fwd.call.end_byte,
                      render_head(lead, variant, args), rule))
    for a, b, t in namespace_edits(src, fwd.fn, cursor):
        if not (fwd.call.start_byte <= a < fwd.call.end_byte):
            edits.append(Edit(path, a, b, t, rule))
    edits.append(member_edit(path, src, member, new, rule))
    name_node = function_name_node(fwd.fn)
    assert name_node is not None
    return _site(path, src, name_node, fwd.name, Outcome.REWRITE,
                 f"per-namespace callback {new}(): calls {variant}() for its namespace "
                 f"instead of handing the batch to {fwd.helper}()", rule,
                 [f"{where(path, src, member.pair.start_byte)} ({member.var})",
                  f"{where(path, src, fwd.call.start_byte)}",
                  f"{variant}() is added to {hpath} by its own patch, before this one"],
                 edits)


# --- the rule's finder ------------------------------------------------------------------


def candidate_files(ctx: object) -> list[str]:
    """Files with a struct pernet_operations initializer setting .exit_batch_rtnl, as
    the index saw them, plus every .c file naming exit_batch_rtnl (a file the index
    could not read is still examined, never silently left out)."""
    index = ctx.index  # type: ignore[attr-defined]
    root = Path(index.root)
    found = {init.file for init in index.inits_of(STRUCT)
             if any(m.rsplit(".", 1)[-1] == BATCH for m, _v in init.members)}
    found |= {f for f in grep_hits(root, [BATCH], git=is_git_tree(root), files_only=True)
              if f.endswith(".c")}
    return sorted(found)


def find(ctx: object) -> list[Site]:
    """The rule's sites, sorted by file and line: needs the index to parse the
    initializers that mention `exit_batch_rtnl` (`[options] index_names =
    ["exit_batch_rtnl"]`)."""
    index = ctx.index  # type: ignore[attr-defined]
    rule = ctx.rule.id  # type: ignore[attr-defined]
    sites: list[Site] = []
    forwards: list[tuple[Forward, OpsMember, str, bytes]] = []
    for path in candidate_files(ctx):
        plan = plan_file(path, index.source(path), rule)
        sites.extend(plan.sites)
        forwards.extend(plan.forwards)
    if forwards:
        sites.extend(plan_forwards(forwards, Path(index.root), index.source, rule))
    # converted: an initializer that sets .exit_rtnl and no longer .exit_batch_rtnl
    for init in index.inits_of(STRUCT):
        for element in init.elements():
            if SINGLE in element and BATCH not in element:
                sites.append(ctx.already_done(  # type: ignore[attr-defined]
                    At(init.file, init.var, init.line, init.start, init.end),
                    f"{init.var} sets .{SINGLE}"))
    return sorted(sites, key=lambda s: (s.file, s.line))
