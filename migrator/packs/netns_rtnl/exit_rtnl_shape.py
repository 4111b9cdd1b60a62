"""netns_rtnl stage 1, the batch loop: how an `.exit_batch_rtnl` callback uses its list
of namespaces -- one list_for_each_entry() loop the per-namespace rewrite can follow
(Shape), or one call handing the batch to a helper (Forward); NeedsReview with the reason
when it does anything else."""

from __future__ import annotations

import re
from dataclasses import dataclass

from migrator.edit.cedit import NeedsReview
from migrator.packs.netns_rtnl.csrc import (
    Node,
    Parameter,
    Unit,
    body_lines,
    call_args,
    callee,
    function_name,
    iterator_head,
    line_end,
    line_start,
    parameters,
    squash,
    text,
    units,
    where,
)
from migrator.parse.tree import declarator_name, declared_names, walk

LOOP = "list_for_each_entry"
LOOP_MEMBER = "exit_list"
ASSERT = "ASSERT_RTNL"
NET_TYPE = "struct net *"
LIST_TYPE = "struct list_head *"


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
    """How `fn` uses its list of namespaces (parameter `batch`); NeedsReview with the reason
    when it does anything the per-namespace rewrite cannot follow."""
    name = function_name(src, fn)
    params = parameters(src, fn)
    if len(params) <= batch or params[batch].type != LIST_TYPE:
        raise NeedsReview(f"{name}() does not take the list of namespaces as parameter "
                     f"{batch + 1}", [where(path, src, fn.start_byte)])
    batch_name = params[batch].name
    body = fn.child_by_field_name("body")
    if body is None:
        raise NeedsReview(f"{name}() has no body")
    if any(n.type.startswith("preproc") for n in walk(body)) or \
            re.search(rb"(?m)^[ \t]*#", src[body.start_byte:body.end_byte]):
        raise NeedsReview(f"{name}() has preprocessor lines; unrolling its loop is left to a "
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
            raise NeedsReview(f"{name}() has a declaration after a comment or statement; "
                         "the order of its declarations would be a guess",
                         [where(path, src, u.start)])
    if not loops:
        forward = _forward(path, src, fn, name, params, batch, others)
        if forward is not None:
            return forward
        uses = [n for n in walk(body) if n.type == "identifier" and text(src, n) == batch_name]
        if uses:
            raise NeedsReview(f"{name}() does not loop over {batch_name} with {LOOP}()",
                         [where(path, src, n.start_byte) for n in uses[:3]])
        raise NeedsReview(f"{name}() does not use its list of namespaces {batch_name}",
                     [where(path, src, body.start_byte)])
    loop = loops[0]
    head = loop.head
    assert head is not None
    args = call_args(head)
    head_name = callee(src, head)
    if head_name != LOOP or len(args) != 3:
        raise NeedsReview(f"the loop of {name}() is {head_name}(), not {LOOP}() over the "
                     "batch", [where(path, src, head.start_byte)])
    if text(src, args[1]) != batch_name:
        raise NeedsReview(f"the loop of {name}() walks {text(src, args[1])}, not its first "
                     f"parameter {batch_name}", [where(path, src, head.start_byte)])
    if text(src, args[2]) != LOOP_MEMBER or args[0].type != "identifier":
        raise NeedsReview(f"the loop of {name}() is not {LOOP}(net, {batch_name}, "
                     f"{LOOP_MEMBER})", [where(path, src, head.start_byte)])
    cursor = text(src, args[0])
    after = [u for u in us if u.start > loop.start and u.kind != "comment"]
    for u in after:
        if cursor in {text(src, n) for node in u.nodes for n in walk(node)
                      if n.type == "identifier"}:
            raise NeedsReview(f"{name}() uses the loop cursor {cursor} after the loop",
                         [where(path, src, u.start)])
    if len(loops) > 1 or others:
        extra = [u for u in (*loops[1:], *others)]
        raise NeedsReview(f"{name}() does more than loop over the batch: it runs code outside "
                     "the loop", [where(path, src, u.start) for u in extra[:3]])
    region = loop.body
    batch_uses = [n for top in region for n in walk(top)
                  if (n.type == "identifier" and text(src, n) == batch_name)
                  or (n.type == "field_identifier" and text(src, n) == LOOP_MEMBER)]
    if batch_uses:
        raise NeedsReview(f"the loop body of {name}() uses the batch ({batch_name} or "
                     f"{LOOP_MEMBER}), so it depends on the other namespaces",
                     [where(path, src, n.start_byte) for n in batch_uses[:3]])
    labels = {text(src, lab) for top in region for n in walk(top)
              if n.type == "labeled_statement" and (lab := n.child_by_field_name("label"))}
    out = _flow_out(src, region, labels)
    if out is not None:
        raise NeedsReview(f"the loop body of {name}() leaves the loop ({squash(text(src, out))}), "
                     "which would mean something else once it runs per namespace",
                     [where(path, src, out.start_byte)])
    cursor_units = [u for u in us if u.kind == "decl" and cursor in u.names(src)]
    if len(cursor_units) != 1:
        raise NeedsReview(f"the loop cursor {cursor} is not a local of {name}()",
                     [where(path, src, head.start_byte)])
    cursor_unit = cursor_units[0]
    decls = [n for n in cursor_unit.nodes if n.type == "declaration"]
    plain = [p for d in decls for p in declared_names(src, d)]
    if len(decls) != 1 or len(plain) != 1 or plain[0].type != NET_TYPE \
            or "=" in text(src, decls[0]):
        raise NeedsReview(f"the loop cursor {cursor} is not declared alone as "
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
            raise NeedsReview(f"the loop body of {name}() has a declaration after a comment or "
                         "statement; moving it up would be a guess", [where(path, src, u.start)])
        elif any(c.type == "storage_class_specifier" for n in u.nodes for c in n.children):
            raise NeedsReview(f"the loop body of {name}() declares a static or extern local",
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
        raise NeedsReview(f"the loop body of {shape.name}() declares {clash[0]}, a name the "
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
            raise NeedsReview(f"{shape.name}() keeps {local} across loop iterations; per "
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

