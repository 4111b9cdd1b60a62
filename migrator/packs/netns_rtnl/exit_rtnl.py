"""netns_rtnl stage 1: pernet `.exit_batch_rtnl` callbacks that only loop over the batch
become per-namespace `.exit_rtnl` callbacks.

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

Layout: pure functions over (file bytes, parsed tree) -- `plan_file()` for one file,
`plan_forwards()` for the batch helpers shared across files -- and `exit_rtnl(ctx)`,
the rule analysis wiring them to today's engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from migrator.edit.cwrap import columns
from migrator.index.discover import grep_hits, is_git_tree
from migrator.model import Edit, Site
from migrator.packs.netns_rtnl.csrc import (
    Node,
    Parameter,
    Unit,
    Unsafe,
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
    function_name,
    function_name_node,
    identifiers,
    is_static,
    iterator_head,
    line_end,
    line_of,
    line_start,
    node_at,
    parameters,
    render_head,
    returns_void,
    splice,
    squash,
    text,
    units,
    where,
    word_offsets,
)
from migrator.parse.tree import declarator_name, declared_names, walk

STAGE = 1
TEMPLATE = "exit_rtnl"
STRUCT = "pernet_operations"
BATCH = "exit_batch_rtnl"
SINGLE = "exit_rtnl"
LOOP = "list_for_each_entry"
LOOP_MEMBER = "exit_list"
SUFFIXES = ("_exit_batch_rtnl", "_exit_batch_net", "_exit_batch")
ASSERT = "ASSERT_RTNL"
ASSERT_NET = "ASSERT_RTNL_NET"
DEREF = "rtnl_dereference"
DEREF_NET = "rtnl_net_dereference"
PURE_INITIALIZERS = frozenset({"net_generic"})
NET_TYPE = "struct net *"
LIST_TYPE = "struct list_head *"
_EXPORT = re.compile(r"EXPORT_SYMBOL(?:_GPL)?(?:_NS(?:_GPL)?)?")


# --- the initializers -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpsMember:
    """`.exit_batch_rtnl = value` in a `struct pernet_operations` initializer."""

    var: str  # the ops variable
    pair: Node  # initializer_pair
    designator: Node
    value: Node
    members: tuple[str, ...]  # designators of that initializer, in order


def ops_members(src: bytes, code: bytes | None = None) -> list[OpsMember]:
    """Every `.exit_batch_rtnl = ...` of a struct pernet_operations initializer."""
    code = code_only(src) if code is None else code
    out = []
    for m in re.finditer(rb"\.\s*" + BATCH.encode() + rb"\b", code):
        pair = node_at(src, m.start(), ("initializer_pair",))
        if pair is None or pair.start_byte != m.start():
            continue
        designator = pair.child_by_field_name("designator")
        value = pair.child_by_field_name("value")
        init = pair.parent
        decl = init.parent if init is not None else None
        top = decl.parent if decl is not None else None
        if designator is None or value is None or init is None or decl is None or \
                top is None or decl.type != "init_declarator" or top.type != "declaration":
            continue
        kind = top.child_by_field_name("type")
        name = kind.child_by_field_name("name") if kind is not None else None
        if name is None or text(src, name) != STRUCT:
            continue
        var_node = decl.child_by_field_name("declarator")
        members = tuple(text(src, d).lstrip(".").strip() for c in init.named_children
                        if c.type == "initializer_pair"
                        for d in c.children_by_field_name("designator"))
        out.append(OpsMember(text(src, var_node) if var_node is not None else "", pair,
                             designator, value, members))
    return out


def _struct_type(src: bytes, pair: Node) -> str | None:
    """The struct type of the declaration an initializer pair belongs to, if any."""
    current = pair.parent
    while current is not None and current.type != "declaration":
        current = current.parent
    kind = current.child_by_field_name("type") if current is not None else None
    name = kind.child_by_field_name("name") if kind is not None else None
    return text(src, name) if name is not None else None


def member_edit(path: str, src: bytes, member: OpsMember, new_value: str, rule: str) -> Edit:
    """`.exit_batch_rtnl = old` -> `.exit_rtnl = new`, the whitespace before `=` kept in
    its style: one space stays one space; alignment (tabs or spaces) is redone so `=`
    stays in its column."""
    between = src[member.designator.end_byte:member.value.start_byte].decode()
    eq = between.find("=")
    before, after = (between[:eq], between[eq:]) if eq >= 0 else (between, "")
    new = "." + SINGLE
    if before not in ("", " "):
        lead = src[line_start(src, member.designator.start_byte):
                   member.designator.start_byte].decode()
        target = columns(lead + text(src, member.designator) + before)
        pad = ""
        if "\t" in before:
            while columns(lead + new + pad) < target:
                pad += "\t"
        else:
            pad = " " * max(1, target - columns(lead + new))
        before = pad or " "
    return Edit(path, member.designator.start_byte, member.value.end_byte,
                new + before + after + new_value, rule)


# --- the batch loop -----------------------------------------------------------------------


@dataclass(slots=True)
class Shape:
    """A function whose body is declarations, ASSERT_RTNL() and one loop over the batch
    list parameter (index `batch`)."""

    fn: Node
    name: str
    params: list[Parameter]
    batch: int  # index of the list of namespaces among the parameters
    body: Node
    units: list[Unit]
    loop: Unit
    cursor: str
    cursor_unit: Unit
    inner: list[Unit]  # the loop body's units (one unit for an unbraced body)
    braced: bool


@dataclass(slots=True)
class Forward:
    """A function whose body hands the batch to another function in one call."""

    fn: Node
    name: str
    params: list[Parameter]
    batch: int
    call: Node  # the call passing the batch
    helper: str
    arg: int  # index of the batch among the call's arguments


def _is_assert(src: bytes, unit: Unit) -> bool:
    return unit.kind == "stmt" and len(unit.nodes) >= 1 and \
        squash(text(src, unit.nodes[0])) == f"{ASSERT}();" and \
        all(n.type == "comment" for n in unit.nodes[1:])


def _nested_loop(src: bytes, node: Node, top: Node, outer_body: Node) -> tuple[bool, bool]:
    """(inside an inner loop, inside a switch): from `node` up to `top`, a loop
    statement, a switch, or a statement that is the body of an inner iterator (it
    follows the iterator's head); `outer_body` is the batch loop's own body."""
    loop = switch = False
    current: Node | None = node
    while current is not None:
        if current != node and current.type in ("for_statement", "while_statement",
                                                  "do_statement"):
            loop = True
        if current.type == "switch_statement":
            switch = True
        prev = current.prev_named_sibling
        if current != outer_body and prev is not None and iterator_head(src, prev) is not None:
            loop = True
        if current == top:
            break
        current = current.parent
    return loop, switch


def _flow_out(src: bytes, region: tuple[Node, ...], labels: set[str]) -> Node | None:
    """A return, goto out of the region, or break/continue of the batch loop itself."""
    for top in region:
        for n in walk(top):
            if n.type == "return_statement":
                return n
            if n.type == "goto_statement":
                label = n.child_by_field_name("label")
                if label is None or text(src, label) not in labels:
                    return n
            if n.type in ("break_statement", "continue_statement"):
                loop, switch = _nested_loop(src, n, top, region[0])
                if not loop and not (switch and n.type == "break_statement"):
                    return n
    return None


def batch_shape(path: str, src: bytes, fn: Node, batch: int = 0) -> Shape | Forward:
    """How `fn` uses its list of namespaces (parameter `batch`); Unsafe with the reason
    when it does anything the per-namespace rewrite cannot follow."""
    name = function_name(src, fn)
    params = parameters(src, fn)
    if len(params) <= batch or params[batch].type != LIST_TYPE:
        raise Unsafe(f"{name}() does not take the list of namespaces as parameter "
                     f"{batch + 1}", [where(path, src, fn.start_byte)])
    batch_name = params[batch].name
    body = fn.child_by_field_name("body")
    if body is None:
        raise Unsafe(f"{name}() has no body")
    if any(n.type.startswith("preproc") for n in walk(body)) or \
            re.search(rb"(?m)^[ \t]*#", src[body.start_byte:body.end_byte]):
        raise Unsafe(f"{name}() has preprocessor lines; unrolling its loop is left to a "
                     "human", [where(path, src, body.start_byte)])
    body_lines(src, body)
    us = units(src, body)
    loops = [u for u in us if u.kind == "loop"]
    allowed = [u for u in us if u.kind in ("decl", "comment") or _is_assert(src, u)]
    others = [u for u in us if u not in allowed and u not in loops]
    decl_seen_other = False
    for u in us:
        if u.kind != "decl":
            decl_seen_other = True
        elif decl_seen_other:
            raise Unsafe(f"{name}() has a declaration after a comment or statement; "
                         "the order of its declarations would be a guess",
                         [where(path, src, u.start)])
    if not loops:
        forward = _forward(path, src, fn, name, params, batch, others)
        if forward is not None:
            return forward
        uses = [n for n in walk(body) if n.type == "identifier" and text(src, n) == batch_name]
        if uses:
            raise Unsafe(f"{name}() does not loop over {batch_name} with {LOOP}()",
                         [where(path, src, n.start_byte) for n in uses[:3]])
        raise Unsafe(f"{name}() does not use its list of namespaces {batch_name}",
                     [where(path, src, body.start_byte)])
    loop = loops[0]
    head = loop.head
    assert head is not None
    args = call_args(head)
    head_name = callee(src, head)
    if head_name != LOOP or len(args) != 3:
        raise Unsafe(f"the loop of {name}() is {head_name}(), not {LOOP}() over the "
                     "batch", [where(path, src, head.start_byte)])
    if text(src, args[1]) != batch_name:
        raise Unsafe(f"the loop of {name}() walks {text(src, args[1])}, not its first "
                     f"parameter {batch_name}", [where(path, src, head.start_byte)])
    if text(src, args[2]) != LOOP_MEMBER or args[0].type != "identifier":
        raise Unsafe(f"the loop of {name}() is not {LOOP}(net, {batch_name}, "
                     f"{LOOP_MEMBER})", [where(path, src, head.start_byte)])
    cursor = text(src, args[0])
    after = [u for u in us if u.start > loop.start and u.kind != "comment"]
    for u in after:
        if cursor in {text(src, n) for node in u.nodes for n in walk(node)
                      if n.type == "identifier"}:
            raise Unsafe(f"{name}() uses the loop cursor {cursor} after the loop",
                         [where(path, src, u.start)])
    if len(loops) > 1 or others:
        extra = [u for u in (*loops[1:], *others)]
        raise Unsafe(f"{name}() does more than loop over the batch: it runs code outside "
                     "the loop", [where(path, src, u.start) for u in extra[:3]])
    region = loop.body
    batch_uses = [n for top in region for n in walk(top)
                  if (n.type == "identifier" and text(src, n) == batch_name)
                  or (n.type == "field_identifier" and text(src, n) == LOOP_MEMBER)]
    if batch_uses:
        raise Unsafe(f"the loop body of {name}() uses the batch ({batch_name} or "
                     f"{LOOP_MEMBER}), so it depends on the other namespaces",
                     [where(path, src, n.start_byte) for n in batch_uses[:3]])
    labels = {text(src, lab) for top in region for n in walk(top)
              if n.type == "labeled_statement" and (lab := n.child_by_field_name("label"))}
    out = _flow_out(src, region, labels)
    if out is not None:
        raise Unsafe(f"the loop body of {name}() leaves the loop ({squash(text(src, out))}), "
                     "which would mean something else once it runs per namespace",
                     [where(path, src, out.start_byte)])
    cursor_units = [u for u in us if u.kind == "decl" and cursor in u.names(src)]
    if len(cursor_units) != 1:
        raise Unsafe(f"the loop cursor {cursor} is not a local of {name}()",
                     [where(path, src, head.start_byte)])
    cursor_unit = cursor_units[0]
    decls = [n for n in cursor_unit.nodes if n.type == "declaration"]
    plain = [p for d in decls for p in declared_names(src, d)]
    if len(decls) != 1 or len(plain) != 1 or plain[0].type != NET_TYPE \
            or "=" in text(src, decls[0]):
        raise Unsafe(f"the loop cursor {cursor} is not declared alone as "
                     f"`struct net *{cursor};`", [where(path, src, cursor_unit.start)])
    braced = len(region) == 1 and region[0].type == "compound_statement"
    if braced:
        body_lines(src, region[0])
        inner = units(src, region[0])
    else:
        start = line_start(src, region[0].start_byte)
        last = region[-1]
        end = line_end(src, last.end_byte - 1)
        inner = [Unit(start, end, tuple(region), "stmt", False)]
    seen_other = False
    for u in inner:
        if u.kind != "decl":
            seen_other = True
        elif seen_other:
            raise Unsafe(f"the loop body of {name}() has a declaration after a comment or "
                         "statement; moving it up would be a guess", [where(path, src, u.start)])
        elif any(c.type == "storage_class_specifier" for n in u.nodes for c in n.children):
            raise Unsafe(f"the loop body of {name}() declares a static or extern local",
                         [where(path, src, u.start)])
    shape = Shape(fn, name, params, batch, body, us, loop, cursor, cursor_unit, inner, braced)
    _check_locals(path, src, shape)
    return shape


def _forward(path: str, src: bytes, fn: Node, name: str, params: list[Parameter], batch: int,
             others: list[Unit]) -> Forward | None:
    """The single statement `helper(..., batch, ...);` of a loop-less function."""
    if len(others) != 1 or others[0].kind != "stmt":
        return None
    stmt = others[0].nodes[0]
    if stmt.type != "expression_statement" or not stmt.named_children or \
            stmt.named_children[0].type != "call_expression":
        return None
    call = stmt.named_children[0]
    helper = callee(src, call)
    args = call_args(call)
    batch_name = params[batch].name
    hits = [i for i, a in enumerate(args) if a.type == "identifier"
            and text(src, a) == batch_name]
    uses = [n for n in walk(fn.child_by_field_name("body") or fn)
            if n.type == "identifier" and text(src, n) == batch_name]
    if not helper or len(hits) != 1 or len(uses) != 1:
        return None
    return Forward(fn, name, params, batch, call, helper, hits[0])


def _check_locals(path: str, src: bytes, shape: Shape) -> None:
    """Locals of the function (outside the loop) must not carry a value from one
    namespace to the next; the loop's locals must not clash with the function's."""
    outer = {n: u for u in shape.units if u.kind == "decl" and u is not shape.cursor_unit
             for n in u.names(src)}
    inner_names = [n for u in shape.inner if u.kind == "decl" for n in u.names(src)]
    new_params = {shape.cursor} | {p.name for i, p in enumerate(shape.params)
                                   if i != shape.batch}
    clash = [n for n in inner_names if n in outer or n in new_params]
    if clash:
        raise Unsafe(f"the loop body of {shape.name}() declares {clash[0]}, a name the "
                     "function already has", [where(path, src, shape.loop.start)])
    region = shape.loop.body
    for local, unit in outer.items():
        writes = [n for top in region for n in walk(top) if _writes(src, n, local)]
        if not writes:
            continue
        initialised = any(n.type == "init_declarator" and
                          declarator_name(n.child_by_field_name("declarator"))[0] == local
                          for d in unit.nodes for n in walk(d))
        first_use = next((n for top in region for n in walk(top)
                          if n.type == "identifier" and text(src, n) == local), None)
        ok = not initialised and first_use is not None and _plain_store(src, first_use, region)
        if not ok:
            raise Unsafe(f"{shape.name}() keeps {local} across loop iterations; per "
                         "namespace it would start afresh each call",
                         [where(path, src, w.start_byte) for w in writes[:2]])


def _writes(src: bytes, node: Node, name: str) -> bool:
    if node.type == "assignment_expression":
        left = node.child_by_field_name("left")
        return left is not None and left.type == "identifier" and text(src, left) == name
    if node.type in ("update_expression", "pointer_expression"):
        arg = node.child_by_field_name("argument")
        op = node.child_by_field_name("operator")
        return arg is not None and arg.type == "identifier" and text(src, arg) == name and (
            node.type == "update_expression" or (op is not None and text(src, op) == "&"))
    return False


def _plain_store(src: bytes, ident: Node, region: tuple[Node, ...]) -> bool:
    """`ident = ...;` is a statement at the top level of the loop body."""
    assign = ident.parent
    stmt = assign.parent if assign is not None else None
    if assign is None or stmt is None or assign.type != "assignment_expression" or \
            assign.child_by_field_name("left") != ident or stmt.type != "expression_statement":
        return False
    op = assign.child_by_field_name("operator")
    if op is None or text(src, op) != "=":
        return False
    parent = stmt.parent
    return stmt in region or (parent is not None and parent in region
                              and parent.type == "compound_statement")


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
        raise Unsafe("the function's declarator is not `name(parameters)`")
    lead = src[line_start(src, name_node.start_byte):name_node.start_byte].decode()
    extra = "__net_exit " if add_net_exit else ""
    return Edit(path, name_node.start_byte, plist.end_byte,
                extra + render_head(lead + extra, name, items), rule)


# --- one file -----------------------------------------------------------------------------


@dataclass(slots=True)
class FilePlan:
    sites: list[Site] = field(default_factory=list)
    forwards: list[tuple[Forward, OpsMember, str, bytes]] = field(default_factory=list)


def _site(path: str, src: bytes, at: Node, function: str, outcome: str, reason: str,
          rule: str, evidence: list[str], edits: list[Edit] | None = None) -> Site:
    evidence = list(dict.fromkeys(evidence))
    return Site(stage=STAGE, template=TEMPLATE, outcome=outcome,  # type: ignore[arg-type]
                file=path, function=function, line=line_of(src, at.start_byte),
                start=at.start_byte, end=at.end_byte, rule=rule, reason=reason,
                evidence=evidence, edits=edits or [])


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
            plan.sites.append(_site(path, src, pair, "", "review",
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
            plan.sites.append(_site(path, src, at, cb, "review", reason, rule,
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
        except Unsafe as exc:
            review(str(exc), exc.evidence, at=name_node)
            continue
        if isinstance(shape, Forward):
            plan.forwards.append((shape, member, path, src))
            continue
        try:
            site, new = _rewrite(path, src, code, shape, member, taken, rule, evidence)
        except Unsafe as exc:
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
        return _site(path, src, name_node, shape.name, "rewrite",
                     f"per-namespace callback {new}(): {helper}() becomes the .{SINGLE} "
                     f"callback, {shape.name}() goes",
                     rule, [*evidence, f"{helper}() is only called by {shape.name}(), "
                            f"with the namespace and the list"], edits), new
    new = new_name(shape.name, taken)
    if new is None:
        raise Unsafe(f"the names {shape.name.removesuffix('_exit_batch_rtnl')}_exit_rtnl and "
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
    return _site(path, src, name_node, shape.name, "rewrite",
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
        except Unsafe:
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
        except Unsafe as exc:
            for fwd, member, path, src in items:
                name_node = function_name_node(fwd.fn)
                assert name_node is not None
                sites.append(_site(path, src, name_node, fwd.name, "review", str(exc), rule,
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
        raise Unsafe(f"{lead}, which is defined {len(defs)} times in the tree")
    hpath, hsrc, hfn = defs[0]
    if is_static(hsrc, hfn):
        raise Unsafe(f"{lead}, a static helper of {hpath}; convert it by hand")
    args = {fwd.arg for fwd, *_ in items}
    if len(args) != 1:
        raise Unsafe(f"{lead}, whose callers pass the batch at different positions")
    arg = args.pop()
    try:
        shape = batch_shape(hpath, hsrc, hfn, arg)
    except Unsafe as exc:
        raise Unsafe(f"{lead}, which cannot be split per namespace: {exc}",
                     exc.evidence) from exc
    if isinstance(shape, Forward):
        raise Unsafe(f"{lead}, which hands it on to {shape.helper}()")
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
        raise Unsafe(f"{lead}, which other code uses too ({len(foreign)} more uses); "
                     f"{helper}() needs a per-namespace variant for the callbacks and "
                     "its other users decided by hand", foreign[:6])
    variant = variant_name(helper)
    if search([variant]):
        raise Unsafe(f"{lead}; its per-namespace variant would be {variant}(), a name "
                     "the tree already uses")
    cursor = shape.cursor
    sites = [_variant_site(hpath, hsrc, shape, variant, export, protos, arg, rule, items)]
    for fwd, member, path, src in items:
        try:
            sites.append(_forward_site(path, src, fwd, member, variant, cursor, rule,
                                       hpath))
        except Unsafe as exc:
            name_node = function_name_node(fwd.fn)
            assert name_node is not None
            sites.append(_site(path, src, name_node, fwd.name, "review", str(exc), rule,
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
    return Site(stage=STAGE, template=TEMPLATE, outcome="rewrite", file=hpath,
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
        raise Unsafe(f"{fwd.name}() already uses the name {cursor}")
    new = new_name(fwd.name, lambda n: bool(word_offsets(code, n)))
    if new is None:
        raise Unsafe(f"no free name for the per-namespace callback of {fwd.name}()")
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
    return _site(path, src, name_node, fwd.name, "rewrite",
                 f"per-namespace callback {new}(): calls {variant}() for its namespace "
                 f"instead of handing the batch to {fwd.helper}()", rule,
                 [f"{where(path, src, member.pair.start_byte)} ({member.var})",
                  f"{where(path, src, fwd.call.start_byte)}",
                  f"{variant}() is added to {hpath} by its own patch, before this one"],
                 edits)


# --- the rule analysis ------------------------------------------------------------------


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


def exit_rtnl(ctx: object) -> list[Site]:
    """Rule analysis (`analysis = "migrator.packs.netns_rtnl.exit_rtnl:exit_rtnl"`): needs
    the index to parse the initializers that mention `exit_batch_rtnl`
    (`[options] index_names = ["exit_batch_rtnl"]`)."""
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
    return sorted(sites, key=lambda s: (s.file, s.line))
