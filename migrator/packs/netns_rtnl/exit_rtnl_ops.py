"""netns_rtnl stage 1, the initializers: the `.exit_batch_rtnl` members of struct
pernet_operations initializers, and the edit that makes one `.exit_rtnl = ...`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from migrator.edit.cwrap import columns
from migrator.model import Edit
from migrator.packs.netns_rtnl.csrc import Node, code_only, line_start, node_at, text

STRUCT = "pernet_operations"
BATCH = "exit_batch_rtnl"
SINGLE = "exit_rtnl"


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

