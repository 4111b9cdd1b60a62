"""Releases on error paths.

A release inserted on an error path (`detach_foo(peer);` before `free_foo(peer);`
at an error label) is right only when every path into it comes from a point where the
acquire (inserted just before the statement `acquired`) has happened.  The paths are
found on the function's control flow, backwards from the insertion point: the gotos to
the labels in front of it and the fall-through from the statement before it.  Each
path's status is "held" (the acquire happened), "free" (it did not) or "unknown"
(loops, labels inside statements, a statement that may or may not run the acquire).
"""

from __future__ import annotations

from migrator.edit.cedit.brackets import is_unbraced_body, wrap
from migrator.edit.cedit.statements import (
    NeedsReview,
    Node,
    _starts_line,
    body,
    insert_before_statement,
    labels,
    line_indent,
    line_start,
    text,
)
from migrator.model import Edit
from migrator.parse.tree import walk

HELD, FREE, UNKNOWN = "held", "free", "unknown"
_JUMPS = ("return_statement", "goto_statement", "break_statement", "continue_statement")
_LOOP_TYPES = ("for_statement", "while_statement", "do_statement")


def _inside(node: Node, outer: Node) -> bool:
    return outer.start_byte <= node.start_byte and node.end_byte <= outer.end_byte


def _has_label(node: Node) -> bool:
    return any(n.type == "labeled_statement" for n in walk(node))


class _Paths:
    """Which paths reach a point of the function holding what `acquired` takes."""

    def __init__(self, src: bytes, fn_node: Node, acquired: Node) -> None:
        self.src, self.acquired, self.body = src, acquired, body(fn_node)
        self.gotos: dict[str, list[Node]] = {}
        for n in walk(self.body):
            if n.type == "goto_statement":
                lab = n.child_by_field_name("label")
                if lab is not None:
                    self.gotos.setdefault(text(src, lab), []).append(n)
        self.memo: dict[tuple[int, int, str], set[str]] = {}
        self.followed: dict[int, tuple[Node, set[str]]] = {}  # gotos met on the way

    def evidence(self) -> list[str]:
        return [f"{_line(self.src, g)} ({'/'.join(sorted(s))})"
                for _, (g, s) in sorted(self.followed.items())]

    def label_chain(self, stmt: Node) -> tuple[Node, list[str]]:
        """(outermost labeled_statement around `stmt`, or `stmt`; its label names)."""
        node, names = stmt, []
        while node.parent is not None and node.parent.type == "labeled_statement":
            node = node.parent
            lab = node.child_by_field_name("label")
            if lab is not None:
                names.append(text(self.src, lab))
        return node, names

    def reach(self, stmt: Node) -> set[str]:
        """Statuses of the paths reaching the point right before `stmt` runs."""
        k = (stmt.start_byte, stmt.end_byte, stmt.type)
        if k in self.memo:
            return self.memo[k]
        self.memo[k] = {UNKNOWN}  # a cycle (backward goto, loop) is not followed
        if _inside(stmt, self.acquired) and stmt != self.acquired:
            out = {HELD}
        else:
            out = set()
            outer, names = self.label_chain(stmt)
            for name in names:
                for g in self.gotos.get(name, []):
                    found = self.reach(g)
                    self.followed[g.start_byte] = (g, found)
                    out |= found
            out |= self.fall_into(outer)
        self.memo[k] = out
        return out

    def fall_into(self, outer: Node) -> set[str]:
        """Statuses of the normal flow arriving at `outer` (labels not counted)."""
        parent = outer.parent
        if parent is None:
            return {UNKNOWN}
        if parent.type == "compound_statement":
            prev = outer.prev_named_sibling
            while prev is not None and prev.type == "comment":
                prev = prev.prev_named_sibling
            return self.after(prev) if prev is not None else self.enter(parent)
        return self.enter(outer)

    def enter(self, block: Node) -> set[str]:
        """Statuses on entering `block` (a compound statement or an un-braced body)."""
        if block == self.body:
            return {FREE}
        owner = block.parent
        if owner is not None and owner.type == "else_clause":
            owner = owner.parent
        if owner is None:
            return {UNKNOWN}
        if owner.type == "compound_statement":  # a bare { ... } block
            return self.reach(block)
        if owner == self.acquired:
            return {HELD}  # the branch of `if (<acquired call>)`
        if owner.type == "if_statement":
            return self.reach(owner)
        if owner.type in _LOOP_TYPES and not _inside(self.acquired, owner) \
                and not _has_label(owner):
            return self.reach(owner)
        return {UNKNOWN}

    def after(self, stmt: Node) -> set[str]:
        """Statuses of the paths completing `stmt` normally."""
        inner = stmt
        while inner.type == "labeled_statement" and inner.named_children:
            inner = inner.named_children[-1]
        if inner == self.acquired:
            return {HELD}
        if inner.type in _JUMPS:
            return set()
        if _inside(self.acquired, inner) or _has_label(inner):
            return {UNKNOWN}
        return self.reach(inner)


def _line(src: bytes, node: Node) -> str:
    first = text(src, node).split("\n", 1)[0].strip()
    return f"line {node.start_point[0] + 1}: {first}"


def release_before(file: str, src: bytes, fn_node: Node, acquired: Node, at: Node,
                   lines: list[str], rule: str, *, label: str,
                   notes: list[str] | None = None) -> list[Edit]:
    """`lines` (a release) right before the statement `at`, on the failure path of an
    acquire inserted just before the statement `acquired`.

    When every path into `at` holds what the lines release, they simply go before it.
    When some do not (an error label also reached from before the acquire), the paths
    that hold it get a label of their own, `label`, placed with the lines just above
    the existing label, and only their gotos are retargeted:

        label:
                <lines>
        old_label:
                <at>

    NeedsReview, with every path into `at` as evidence, when that cannot be done without
    reordering other cleanups (the mix arrives through the statement before `at`, or a
    path does not always hold or not hold the lock)."""
    paths = _Paths(src, fn_node, acquired)
    outer, names = paths.label_chain(at)
    gotos = [(g, paths.reach(g)) for name in names for g in paths.gotos.get(name, [])]
    falls = paths.fall_into(outer)
    statuses = set(falls).union(*(s for _, s in gotos))
    for g, s in gotos:
        paths.followed[g.start_byte] = (g, s)
    evidence = [f"paths into {_line(src, at)} ({HELD}: after the acquire):",
                *paths.evidence()]
    if falls:
        evidence.append(f"fall-through into line {at.start_point[0] + 1} "
                        f"({'/'.join(sorted(falls))})")
    where = f"line {at.start_point[0] + 1}"
    if statuses == {HELD}:
        if is_unbraced_body(at):
            return wrap(file, src, at, lines, [], rule)
        return [insert_before_statement(file, src, at, lines, rule)]
    if UNKNOWN in statuses:
        raise NeedsReview(f"the paths into {where} cannot all be followed: whether they hold "
                         "the lock is not known", evidence)
    if HELD not in statuses:
        raise NeedsReview(f"no path into {where} comes from after the acquire", evidence)
    if FREE in falls:
        raise NeedsReview(f"{where} is reached both with and without the lock through the "
                         "statement before it: a separate release needs the cleanups "
                         "reordered", evidence)
    if any(s == {HELD, FREE} for _, s in gotos):
        raise NeedsReview(f"a goto into {where} is reached both with and without the lock",
                         evidence)
    held_gotos = [g for g, s in gotos if s == {HELD}]
    if label in labels(src, fn_node) and held_gotos:
        raise NeedsReview(f"label {label} already exists", evidence)
    label_indent = src[line_start(src, outer.start_byte):outer.start_byte]
    if label_indent.strip() or at == outer or not _starts_line(src, at):
        raise NeedsReview(f"the label before {where} does not start its line", evidence)
    # Above the comment lines that belong to the old label, if any.
    top = outer
    prev = top.prev_sibling
    while prev is not None and prev.type == "comment" and _starts_line(src, prev) and \
            prev.end_point[0] + 1 == top.start_point[0]:
        top, prev = prev, prev.prev_sibling
    head = line_start(src, top.start_byte)
    ind = line_indent(src, at.start_byte)
    body = "".join(f"{ind}{line}\n" for line in lines)
    if not held_gotos:
        # The paths that hold it arrive by falling through the statement before the
        # label: the release goes above the label, which the gotos from before the
        # acquire still reach (a label no goto names would be -Wunused-label).
        if notes is not None:
            notes.append(f"{names[-1]}: is also reached before the acquire (goto at line "
                         f"{', '.join(str(g.start_point[0] + 1) for g, _ in gotos)}); the "
                         "path after it falls through and releases just above the label")
        return [Edit(file, head, head, body, rule)]
    edits = [Edit(file, head, head, label_indent.decode() + f"{label}:\n" + body, rule)]
    moved = []
    for g in held_gotos:
        lab = g.child_by_field_name("label")
        assert lab is not None
        edits.append(Edit(file, lab.start_byte, lab.end_byte, label, rule))
        moved.append(str(g.start_point[0] + 1))
    if notes is not None:
        notes.append(f"{names[-1]}: is also reached before the acquire; the paths after it "
                     f"(goto at line {', '.join(moved)}) go to the new label {label}:, "
                     "which releases and falls through to it")
    return edits
