"""netns_rtnl stage 1, one file: plan_file() turns each `.exit_batch_rtnl` callback of a
file into a per-namespace `.exit_rtnl` one (ASSERT_RTNL_NET(), rtnl_net_dereference(),
the loop unrolled, a new name and signature, or a static helper collapsed into the
callback), or leaves it for review; callbacks handing the batch to a helper go back as
`forwards` for plan_forwards() (the finder of rules/1-exit-rtnl)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from migrator.edit.cedit import NeedsReview
from migrator.edit.cwrap import columns
from migrator.model import Edit, Outcome, Site
from migrator.packs.netns_rtnl.csrc import (
    Node,
    Unit,
    assignments,
    body_lines,
    call_args,
    callee,
    calls_in,
    code_only,
    declarations_of,
    dedent,
    expression_root,
    find_function,
    function_declarator,
    function_name_node,
    identifiers,
    is_static,
    line_end,
    line_of,
    line_start,
    node_at,
    parameters,
    render_head,
    returns_void,
    splice,
    text,
    units,
    where,
    word_offsets,
)
from migrator.packs.netns_rtnl.exit_rtnl_ops import (
    BATCH,
    SINGLE,
    STRUCT,
    OpsMember,
    _struct_type,
    member_edit,
    ops_members,
)
from migrator.packs.netns_rtnl.exit_rtnl_shape import (
    ASSERT,
    LIST_TYPE,
    NET_TYPE,
    Forward,
    Shape,
    _is_assert,
    batch_shape,
)
from migrator.parse.tree import declared_names, walk

STAGE = 1
TEMPLATE = "exit_rtnl"
SUFFIXES = ("_exit_batch_rtnl", "_exit_batch_net", "_exit_batch")
ASSERT_NET = "ASSERT_RTNL_NET"
DEREF = "rtnl_dereference"
DEREF_NET = "rtnl_net_dereference"
PURE_INITIALIZERS = frozenset({"net_generic"})


# --- per-namespace conversions --------------------------------------------------------------


def generic_locals(src: bytes, fn: Node, net: str) -> set[str]:
    """Locals of `fn` that only ever hold net_generic(net, ...)."""
    body = fn.child_by_field_name("body")
    if body is None:
        return set()
    names = {p.name for n in walk(body) if n.type == "declaration"
             for p in declared_names(src, n)}
    out = set()
    for name in names:
        if declarations_of(src, fn, name) != 1:
            continue
        values = list(assignments(src, fn, name))
        if values and all(v is not None and v.type == "call_expression"
                          and callee(src, v) == "net_generic" and call_args(v)
                          and text(src, call_args(v)[0]) == net for v in values):
            out.add(name)
    return out


def namespace_edits(src: bytes, fn: Node, net: str, scope: Iterable[Node] | None = None
                    ) -> list[tuple[int, int, str]]:
    """ASSERT_RTNL() -> ASSERT_RTNL_NET(net), rtnl_dereference(p) -> rtnl_net_dereference(
    net, p) for p rooted at `net` or at a local only holding net_generic(net, ...); in
    `scope` (default: the whole function)."""
    roots = {net} | generic_locals(src, fn, net)
    out = []
    for top in scope if scope is not None else [fn]:
        for call in calls_in(src, top, ASSERT):
            if not call_args(call):
                out.append((call.start_byte, call.end_byte, f"{ASSERT_NET}({net})"))
        for call in calls_in(src, top, DEREF):
            args = call_args(call)
            if len(args) != 1:
                continue
            root = expression_root(args[0])
            if root is not None and text(src, root) in roots:
                out.append((call.start_byte, call.end_byte,
                            f"{DEREF_NET}({net}, {text(src, args[0])})"))
    return out


# --- building the new text ---------------------------------------------------------------


def _xmas(src: bytes, items: list[tuple[str, Unit]]) -> list[tuple[str, Unit]]:
    """Reverse christmas tree (longest first line first), unless that would move a
    declaration above one its initializer uses, or reorder initializers that call
    something other than net_generic()."""
    ordered = sorted(items, key=lambda item: -columns(item[0].splitlines()[0]))
    declared = {name: i for i, (_t, u) in enumerate(items) for name in u.names(src)}

    def deps(unit: Unit) -> set[str]:
        used: set[str] = set()
        for d in unit.nodes:
            for n in walk(d):
                if n.type == "init_declarator" and (v := n.child_by_field_name("value")):
                    used |= identifiers(src, v)
        return used

    def calls(unit: Unit) -> bool:
        return any(n.type == "call_expression" and callee(src, n) not in PURE_INITIALIZERS
                   for d in unit.nodes for n in walk(d))

    position = {id(u): k for k, (_t, u) in enumerate(ordered)}
    for _t, u in items:
        for name in deps(u):
            if name in declared and items[declared[name]][1] is not u and \
                    position[id(items[declared[name]][1])] > position[id(u)]:
                return items
    callers = [u for _t, u in items if calls(u)]
    if [position[id(u)] for u in callers] != sorted(position[id(u)] for u in callers):
        return items
    return ordered


def unrolled(src: bytes, shape: Shape, inner_edits: list[tuple[int, int, str]]) -> str:
    """The new text between the function's `{` line and its `}` line."""
    def seg(u: Unit) -> str:
        return splice(src, u.start, u.end, inner_edits)

    lead = [u for u in shape.inner if u.kind == "decl"]
    rest_body = [u for u in shape.inner if u.kind != "decl"]
    decls = [(seg(u), u) for u in shape.units if u.kind == "decl" and u is not shape.cursor_unit]
    decls += [(dedent(seg(u)), u) for u in lead]
    decls = _xmas(src, decls)
    rest: list[tuple[str, bool]] = []
    for u in shape.units:
        if u.kind == "decl":
            continue
        if u is shape.loop:
            for k, bu in enumerate(rest_body):
                rest.append((dedent(seg(bu)), u.gap_before if k == 0 else bu.gap_before))
        else:
            rest.append((seg(u), u.gap_before))
    out = "".join(t for t, _u in decls)
    if decls and rest:
        out += "\n"
    for k, (t, gap) in enumerate(rest):
        if k and gap:
            out += "\n"
        out += t
    return out


def new_name(old: str, taken: Callable[[str], bool], collapse: bool = False) -> str | None:
    prefix = old
    for suffix in SUFFIXES:
        if old.endswith(suffix):
            prefix = old[: -len(suffix)]
            break
    choices = [f"{prefix}_exit_rtnl_net"] if collapse else [f"{prefix}_exit_rtnl",
                                                           f"{prefix}_exit_rtnl_net"]
    return next((c for c in choices if not taken(c)), None)


def signature_edit(path: str, src: bytes, fn: Node, name: str, items: list[str], rule: str,
                   add_net_exit: bool = False) -> Edit:
    """Rename `fn` and give it the parameters `items` (rendered within 80 columns)."""
    name_node = function_name_node(fn)
    decl = function_declarator(fn)
    plist = decl.child_by_field_name("parameters") if decl is not None else None
    if name_node is None or plist is None:
        raise NeedsReview("the function's declarator is not `name(parameters)`")
    lead = src[line_start(src, name_node.start_byte):name_node.start_byte].decode()
    extra = "__net_exit " if add_net_exit else ""
    return Edit(path, name_node.start_byte, plist.end_byte,
                extra + render_head(lead + extra, name, items), rule)


# --- one file -----------------------------------------------------------------------------


@dataclass(slots=True)
class FilePlan:
    sites: list[Site] = field(default_factory=list)
    forwards: list[tuple[Forward, OpsMember, str, bytes]] = field(default_factory=list)


def _site(path: str, src: bytes, at: Node, function: str, outcome: Outcome, reason: str,
          rule: str, evidence: list[str], edits: list[Edit] | None = None) -> Site:
    evidence = list(dict.fromkeys(evidence))
    return Site(stage=STAGE, template=TEMPLATE, outcome=outcome,
                file=path, function=function, line=line_of(src, at.start_byte),
                start=at.start_byte, end=at.end_byte, rule=rule, reason=reason,
                evidence=tuple(evidence), edits=tuple(edits or ()))


def plan_file(path: str, src: bytes, rule: str = "netns-exit-rtnl") -> FilePlan:
    """Sites of one file: every `.exit_batch_rtnl` of its struct pernet_operations
    initializers, rewritten or left for review; callbacks that hand the batch to a
    helper are returned as `forwards` for plan_forwards()."""
    code = code_only(src)
    members = ops_members(src, code)
    plan = FilePlan()
    claimed: set[str] = set()

    def taken(name: str) -> bool:
        return name in claimed or bool(word_offsets(code, name))

    known = {m.pair.start_byte for m in members}
    for m in re.finditer(rb"\.\s*" + BATCH.encode() + rb"\b", code):
        pair = node_at(src, m.start(), ("initializer_pair",))
        if pair is not None and pair.start_byte == m.start() and m.start() not in known \
                and _struct_type(src, pair) in (None, STRUCT):
            plan.sites.append(_site(path, src, pair, "", Outcome.REVIEW,
                                    f"a .{BATCH} initializer the tool does not understand "
                                    "(not a plain struct pernet_operations variable)", rule,
                                    [where(path, src, m.start())]))
    by_callback: dict[str, list[OpsMember]] = {}
    for m in members:
        by_callback.setdefault(text(src, m.value), []).append(m)
    for member in members:
        cb = text(src, member.value)
        evidence = [f"{where(path, src, member.pair.start_byte)} ({member.var})"]

        def review(reason: str, more: Iterable[str] = (), at: Node = member.pair,
                   cb: str = cb, evidence: list[str] = evidence) -> None:
            plan.sites.append(_site(path, src, at, cb, Outcome.REVIEW, reason, rule,
                                    [*evidence, *more]))

        if member.value.type != "identifier":
            review(f".{BATCH} of {member.var} is not a function name")
            continue
        if SINGLE in member.members:
            review(f"{member.var} already sets .{SINGLE}; merging the two callbacks is a "
                   "human decision")
            continue
        fn = find_function(src, cb, code)
        if fn is None:
            review(f"{cb}() is not defined in {path}; convert it where it is defined")
            continue
        name_node = function_name_node(fn)
        assert name_node is not None
        here = {name_node.start_byte} | {m.value.start_byte for m in by_callback[cb]}
        others = [at for at in word_offsets(code, cb) if at not in here]
        if len(by_callback[cb]) > 1 or others:
            users = [f"{where(path, src, m.pair.start_byte)} ({m.var})"
                     for m in by_callback[cb] if m is not member]
            users += [where(path, src, at) for at in others]
            what = (f"several ops structs ({', '.join(m.var for m in by_callback[cb])})"
                    if len(by_callback[cb]) > 1 else "other code")
            review(f"{cb}() is shared with {what}; the rewrite cannot follow every use",
                   users, at=name_node)
            continue
        try:
            shape = batch_shape(path, src, fn)
        except NeedsReview as exc:
            review(str(exc), exc.evidence, at=name_node)
            continue
        if isinstance(shape, Forward):
            plan.forwards.append((shape, member, path, src))
            continue
        try:
            site, new = _rewrite(path, src, code, shape, member, taken, rule, evidence)
        except NeedsReview as exc:
            review(str(exc), exc.evidence, at=name_node)
            continue
        claimed.add(new)
        plan.sites.append(site)
    return plan


def _rewrite(path: str, src: bytes, code: bytes, shape: Shape, member: OpsMember,
             taken: Callable[[str], bool], rule: str, evidence: list[str]
             ) -> tuple[Site, str]:
    name_node = function_name_node(shape.fn)
    assert name_node is not None
    head = shape.loop.head
    assert head is not None
    evidence = [*evidence, f"{where(path, src, head.start_byte)} (the batch loop)"]
    collapse = _collapse(path, src, code, shape, taken, rule)
    if collapse is not None:
        helper, edits, new = collapse
        edits.append(member_edit(path, src, member, new, rule))
        evidence.extend(stale_mentions(path, src, code, shape.name))
        evidence.extend(stale_mentions(path, src, code, helper))
        return _site(path, src, name_node, shape.name, Outcome.REWRITE,
                     f"per-namespace callback {new}(): {helper}() becomes the .{SINGLE} "
                     f"callback, {shape.name}() goes",
                     rule, [*evidence, f"{helper}() is only called by {shape.name}(), "
                            f"with the namespace and the list"], edits), new
    new = new_name(shape.name, taken)
    if new is None:
        raise NeedsReview(f"the names {shape.name.removesuffix('_exit_batch_rtnl')}_exit_rtnl and "
                     "..._exit_rtnl_net are both taken in this file")
    kill = [p.text for i, p in enumerate(shape.params) if i != shape.batch]
    inner = namespace_edits(src, shape.fn, shape.cursor)
    edits = [signature_edit(path, src, shape.fn, new, [f"{NET_TYPE}{shape.cursor}", *kill],
                            rule)]
    start, end = body_lines(src, shape.body)
    edits.append(Edit(path, start, end, unrolled(src, shape, inner), rule))
    edits.append(member_edit(path, src, member, new, rule))
    for helper, helper_edits in _static_helpers(path, src, code, shape):
        edits.extend(Edit(path, a, b, t, rule) for a, b, t in helper_edits)
        evidence.append(f"{helper}() is only called by {shape.name}() with its namespace: "
                        f"{ASSERT_NET}()/{DEREF_NET}() there too")
    evidence.extend(stale_mentions(path, src, code, shape.name))
    return _site(path, src, name_node, shape.name, Outcome.REWRITE,
                 f"per-namespace callback {new}(): {shape.name}() no longer loops over "
                 "the batch", rule, evidence, edits), new


def stale_mentions(path: str, src: bytes, code: bytes, name: str) -> list[str]:
    """Comments naming a function the rewrite renames or removes: left as they are
    (comments stay byte for byte), listed for the reviewer."""
    in_code = set(word_offsets(code, name))
    return [f"{where(path, src, at)} (a comment still names {name}())"
            for at in word_offsets(src, name) if at not in in_code]


def _static_helpers(path: str, src: bytes, code: bytes, shape: Shape
                    ) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """Static functions the loop body calls with its namespace and that nothing else
    uses: their conversions (ASSERT_RTNL_NET, rtnl_net_dereference) on that parameter."""
    calls: dict[str, list[tuple[Node, int]]] = {}
    for top in shape.loop.body:
        for n in walk(top):
            if n.type != "call_expression" or not callee(src, n):
                continue
            for i, a in enumerate(call_args(n)):
                if a.type == "identifier" and text(src, a) == shape.cursor:
                    calls.setdefault(callee(src, n), []).append((n, i))
    out = []
    for name, found in sorted(calls.items()):
        fn = find_function(src, name, code)
        if fn is None or not is_static(src, fn) or fn == shape.fn:
            continue
        positions = {i for _n, i in found}
        params = parameters(src, fn)
        if len(positions) != 1:
            continue
        pos = positions.pop()
        if pos >= len(params) or params[pos].type != NET_TYPE:
            continue
        all_calls = [n for n in walk(shape.loop.body[0].parent or shape.fn)
                     if n.type == "call_expression" and callee(src, n) == name]
        name_node = function_name_node(fn)
        uses = set(word_offsets(code, name))
        mine = {n.start_byte for n, _i in found} | (
            {name_node.start_byte} if name_node is not None else set())
        if uses != mine or len(all_calls) != len(found):
            continue
        edits = namespace_edits(src, fn, params[pos].name)
        if edits:
            out.append((name, edits))
    return out


def _collapse(path: str, src: bytes, code: bytes, shape: Shape, taken: Callable[[str], bool],
              rule: str) -> tuple[str, list[Edit], str] | None:
    """The loop body is `helper(net, list);` of a static helper nothing else uses: the
    helper becomes the callback, the wrapper goes. None when that does not apply."""
    if len(shape.inner) != 1 or shape.inner[0].kind != "stmt" or len(shape.inner[0].nodes) != 1:
        return None
    stmt = shape.inner[0].nodes[0]
    if stmt.type != "expression_statement" or not stmt.named_children or \
            stmt.named_children[0].type != "call_expression":
        return None
    call = stmt.named_children[0]
    helper = callee(src, call)
    kill = [p for i, p in enumerate(shape.params) if i != shape.batch]
    args = [text(src, a) for a in call_args(call)]
    if not helper or len(kill) != 1 or args != [shape.cursor, kill[0].name]:
        return None
    fn = find_function(src, helper, code)
    if fn is None or not is_static(src, fn) or not returns_void(src, fn) or \
            fn.start_byte > shape.fn.start_byte:
        return None
    params = parameters(src, fn)
    if [p.type for p in params] != [NET_TYPE, LIST_TYPE]:
        return None
    name_node = function_name_node(fn)
    if name_node is None or set(word_offsets(code, helper)) != {name_node.start_byte,
                                                                 call.start_byte}:
        return None
    if any(u.kind == "comment" for u in shape.units) or \
            any(n.type == "comment" for u in shape.units for n in u.nodes):
        return None  # the wrapper's comments would be lost
    above = src[line_start(src, max(0, line_start(src, shape.fn.start_byte) - 1)):
                line_start(src, shape.fn.start_byte)]
    if above.strip().endswith(b"*/"):
        return None  # a comment documents the wrapper
    if [u for u in shape.units if u.kind == "decl"] != [shape.cursor_unit]:
        return None
    new = new_name(shape.name, taken, collapse=True)
    if new is None:
        return None
    net = params[0].name
    has_net_exit = b"__net_exit" in src[fn.start_byte:name_node.start_byte]
    edits = [signature_edit(path, src, fn, new, [p.text for p in params], rule,
                            add_net_exit=not has_net_exit)]
    edits.extend(Edit(path, a, b, t, rule) for a, b, t in namespace_edits(src, fn, net))
    wrapper_asserts = any(_is_assert(src, u) for u in shape.units)
    body = fn.child_by_field_name("body")
    if wrapper_asserts and body is not None and not calls_in(src, body, ASSERT):
        try:
            hunits = units(src, body)
        except NeedsReview:
            return None
        first = next((u for u in hunits if u.kind != "decl"), None)
        if first is None:
            return None
        indent = src[first.start:first.nodes[0].start_byte].decode()
        edits.append(Edit(path, first.start, first.start, f"{indent}{ASSERT_NET}({net});\n",
                          rule))
    start = line_start(src, shape.fn.start_byte)
    end = line_end(src, shape.fn.end_byte - 1)
    if src[end:end + 1] == b"\n":
        end += 1
    elif start >= 2 and src[start - 2:start] == b"\n\n":
        start -= 1
    edits.append(Edit(path, start, end, "", rule))
    return helper, edits, new

