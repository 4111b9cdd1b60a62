"""Control-flow graph of one C function, from its tree-sitter tree.

Nodes are statements (with their 1-based line in the file) and branch points;
edges carry the value of the condition when it matters (True/False), or None.
Built backwards: every statement is given the node that follows it and
returns its own entry node, so break/continue/goto/return need no patching
(labels are created before the body is walked).

Handled: compound statements, if/else, switch with case/default and
fall-through, while/do/for with break and continue, goto and labels, return,
GNU statement expressions `({ ... })` (their statements come before the
statement holding them), `#if`/`#ifdef` arms kept by normalisation (either arm
may run), and the iterator macros normalisation turns into `macro(...);{...}`
(a loop: body zero or more times; `scoped_guard()` bodies run once).

The tree is the one of the *normalised* text (migrator.parse.tree), whose offsets are
offsets of the original text; `src` is the original text, used to tell a
normaliser-inserted `;` (iterator macro) from a real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import tree_sitter

Node = tree_sitter.Node

ONCE_MACROS = frozenset({"scoped_guard", "scoped_cond_guard"})
_SKIP = frozenset({"comment", "{", "}", ";"})
_PREPROC = frozenset({"preproc_if", "preproc_ifdef", "preproc_elif", "preproc_else",
                      "preproc_elifdef"})


@dataclass(slots=True)
class CfgNode:
    """One node. ``kind``: entry, exit, stmt (effects), return (effects: the value),
    branch (``cond`` decides the True/False edges), choice (any successor may follow),
    label, join."""

    id: int
    kind: str
    line: int
    effects: tuple[Node, ...] = ()  # expressions evaluated here, in order
    cond: Node | None = None  # for branch nodes
    succ: list[tuple[int, bool | None]] = field(default_factory=list)
    exclude: tuple[Node, ...] = ()  # sub-trees evaluated by other nodes (statement exprs)


@dataclass(slots=True)
class Cfg:
    nodes: list[CfgNode]
    entry: int
    exit: int
    name: str = ""
    returns_int: bool = False  # `int f(...)`: a non-zero return value is an error

    def node(self, index: int) -> CfgNode:
        return self.nodes[index]


class _Builder:
    def __init__(self, src: bytes, line_base: int) -> None:
        self.src = src
        self.line_base = line_base
        self.nodes: list[CfgNode] = []
        self.labels: dict[str, int] = {}
        self.exit = self.new("exit", None)

    def new(self, kind: str, ts: Node | None, **kw: object) -> int:
        line = ts.start_point.row + 1 + self.line_base if ts is not None else 0
        node = CfgNode(len(self.nodes), kind, line, **kw)  # type: ignore[arg-type]
        self.nodes.append(node)
        return node.id

    def link(self, node: int, *succ: tuple[int, bool | None]) -> int:
        self.nodes[node].succ.extend(succ)
        return node

    # --- statement expressions -------------------------------------------------

    def _stmt_exprs(self, root: Node | None) -> list[Node]:
        """Outermost `({ ... })` bodies inside an expression, in source order."""
        found: list[Node] = []
        if root is None:
            return found
        stack = [root]
        while stack:
            node = stack.pop()
            if node.type == "compound_statement":
                found.append(node)
                continue
            stack.extend(reversed(node.children))
        return sorted(found, key=lambda n: n.start_byte)

    def simple(self, stmt: Node, exprs: tuple[Node, ...], nxt: int, kind: str = "stmt",
               cond: Node | None = None, succ: tuple[tuple[int, bool | None], ...] | None = None,
               brk: int | None = None, cont: int | None = None) -> int:
        """A node evaluating `exprs` (or deciding on `cond`), preceded by the statement
        expressions inside them."""
        inner = [c for e in (*exprs, *((cond,) if cond is not None else ()))
                 for c in self._stmt_exprs(e)]
        node = self.new(kind, stmt, effects=exprs, cond=cond, exclude=tuple(inner))
        self.link(node, *(succ if succ is not None else ((nxt, None),)))
        entry = node
        for body in reversed(inner):
            entry = self.block(body, entry, brk, cont)
        return entry

    # --- statements ------------------------------------------------------------

    def body_children(self, node: Node) -> list[Node]:
        return [c for c in node.children if c.type not in _SKIP and c.is_named]

    def block(self, node: Node, nxt: int, brk: int | None, cont: int | None) -> int:
        return self.sequence(self.body_children(node), nxt, brk, cont)

    def _is_macro_head(self, stmt: Node) -> bool:
        """`list_for_each_entry(...)` whose `;` the normaliser inserted."""
        if stmt.type != "expression_statement" or not stmt.named_children:
            return False
        call = stmt.named_children[0]
        if call.type != "call_expression":
            return False
        last = stmt.end_byte - 1
        return 0 <= last < len(self.src) and self.src[last:last + 1] != b";"

    def sequence(self, stmts: list[Node], nxt: int, brk: int | None, cont: int | None) -> int:
        # Pair macro heads with the statement they govern, then build backwards.
        units: list[tuple[Node, Node | None]] = []
        i = 0
        while i < len(stmts):
            stmt = stmts[i]
            if self._is_macro_head(stmt) and i + 1 < len(stmts):
                units.append((stmt, stmts[i + 1]))
                i += 2
            else:
                units.append((stmt, None))
                i += 1
        for head, body in reversed(units):
            if body is None:
                nxt = self.stmt(head, nxt, brk, cont)
            else:
                nxt = self.macro_loop(head, body, nxt, brk, cont)
        return nxt

    def macro_loop(self, head: Node, body: Node, nxt: int, brk: int | None,
                   cont: int | None) -> int:
        call = head.named_children[0]
        fn = call.child_by_field_name("function")
        name = self.src[fn.start_byte:fn.end_byte].decode("utf-8", "replace") if fn else ""
        if name in ONCE_MACROS:
            body_entry = self.stmt(body, nxt, nxt, cont)
            return self.simple(head, (call,), body_entry, brk=brk, cont=cont)
        node = self.new("choice", head, effects=(call,))
        body_entry = self.stmt(body, node, nxt, node)
        self.link(node, (body_entry, None), (nxt, None))
        return node

    def stmt(self, stmt: Node, nxt: int, brk: int | None, cont: int | None) -> int:
        kind = stmt.type
        if kind == "compound_statement":
            return self.block(stmt, nxt, brk, cont)
        if kind == "if_statement":
            cond = stmt.child_by_field_name("condition")
            then = stmt.child_by_field_name("consequence")
            alt = stmt.child_by_field_name("alternative")
            then_entry = self.stmt(then, nxt, brk, cont) if then is not None else nxt
            else_entry = nxt
            if alt is not None:
                inner = [c for c in alt.named_children if c.type != "comment"]
                else_entry = self.sequence(inner, nxt, brk, cont) if inner else nxt
            return self.simple(stmt, (), nxt, "branch", cond,
                               ((then_entry, True), (else_entry, False)), brk, cont)
        if kind == "while_statement":
            cond = stmt.child_by_field_name("condition")
            node = self.new("branch", stmt, cond=cond)
            body = stmt.child_by_field_name("body")
            body_entry = self.stmt(body, node, nxt, node) if body is not None else node
            return self.link(node, (body_entry, True), (nxt, False))
        if kind == "do_statement":
            cond = stmt.child_by_field_name("condition")
            node = self.new("branch", cond if cond is not None else stmt, cond=cond)
            body = stmt.child_by_field_name("body")
            body_entry = self.stmt(body, node, nxt, node) if body is not None else node
            self.link(node, (body_entry, True), (nxt, False))
            return body_entry
        if kind == "for_statement":
            return self.for_loop(stmt, nxt)
        if kind == "switch_statement":
            return self.switch(stmt, nxt, cont)
        if kind == "goto_statement":
            label = stmt.child_by_field_name("label")
            name = self.text(label) if label is not None else ""
            target = self.labels.get(name, self.exit)
            return self.simple(stmt, (), target)
        if kind == "labeled_statement":
            label = stmt.child_by_field_name("label")
            name = self.text(label) if label is not None else ""
            node = self.labels.get(name)
            if node is None:
                node = self.labels[name] = self.new("label", stmt)
            inner = [c for c in stmt.named_children
                     if c.type not in ("statement_identifier", "comment")]
            self.link(node, (self.sequence(inner, nxt, brk, cont), None))
            return node
        if kind == "return_statement":
            return self.simple(stmt, tuple(stmt.named_children), self.exit, "return",
                               brk=brk, cont=cont)
        if kind == "break_statement":
            return self.simple(stmt, (), brk if brk is not None else nxt)
        if kind == "continue_statement":
            return self.simple(stmt, (), cont if cont is not None else nxt)
        if kind in _PREPROC:
            return self.preproc(stmt, nxt, brk, cont)
        if kind == "case_statement":  # outside a switch body walk: just its statements
            return self.sequence(self.case_body(stmt), nxt, brk, cont)
        # expression statements, declarations, anything else: evaluated in place
        return self.simple(stmt, (stmt,), nxt, brk=brk, cont=cont)

    def for_loop(self, stmt: Node, nxt: int) -> int:
        init = stmt.child_by_field_name("initializer")
        cond = stmt.child_by_field_name("condition")
        update = stmt.child_by_field_name("update")
        head = self.new("branch" if cond is not None else "join", cond or stmt, cond=cond)
        step = self.new("stmt", update, effects=(update,)) if update is not None else head
        body = stmt.child_by_field_name("body")
        body_entry = self.stmt(body, step, nxt, step) if body is not None else step
        if step != head:
            self.link(step, (head, None))
        if cond is not None:
            self.link(head, (body_entry, True), (nxt, False))
        else:
            self.link(head, (body_entry, None))
        if init is not None:
            return self.simple(init, (init,), head)
        return head

    def case_body(self, case: Node) -> list[Node]:
        value = case.child_by_field_name("value")
        return [c for c in case.children if c.is_named and c.type not in _SKIP
                and (value is None or c.id != value.id)]

    def switch(self, stmt: Node, nxt: int, cont: int | None) -> int:
        cond = stmt.child_by_field_name("condition")
        body = stmt.child_by_field_name("body")
        children = self.body_children(body) if body is not None else []
        entries: list[int] = []
        has_default = False
        follow = nxt
        # Build backwards: each case falls through into the next one.
        pending: list[Node] = []
        for child in reversed(children):
            if child.type == "case_statement":
                follow = self.sequence([*self.case_body(child), *pending], follow, nxt, cont)
                pending = []
                label = self.new("label", child)
                self.link(label, (follow, None))
                follow = label
                entries.append(label)
                if child.child_by_field_name("value") is None:
                    has_default = True
            else:
                pending.insert(0, child)
        succ = [(entry, None) for entry in reversed(entries)]
        if not has_default:
            succ.append((nxt, None))
        return self.simple(stmt, (cond,) if cond is not None else (), nxt, "choice",
                           succ=tuple(succ), cont=cont)

    def preproc(self, node: Node, nxt: int, brk: int | None, cont: int | None) -> int:
        """One arm of an #if group runs; without #else, possibly none."""
        alt = node.child_by_field_name("alternative")
        skip = {n.id for n in (node.child_by_field_name("name"),
                               node.child_by_field_name("condition"), alt) if n is not None}
        arm = [c for c in node.children if c.is_named and c.id not in skip
               and c.type not in _SKIP and c.type != "preproc_arg"]
        choice = self.new("choice", node)
        arm_entry = self.sequence(arm, nxt, brk, cont)
        alt_entry = self.preproc(alt, nxt, brk, cont) if alt is not None else nxt
        return self.link(choice, (arm_entry, None), (alt_entry, None))

    def text(self, node: Node) -> str:
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _labels(body: Node) -> Iterator[Node]:
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type == "labeled_statement":
            yield node
        stack.extend(node.children)


def build_cfg(src: bytes, function: Node, line_base: int = 0, name: str = "") -> Cfg:
    """CFG of a `function_definition` node parsed from (normalised) `src`;
    `line_base` is added to 0-based rows to give the file's 1-based lines."""
    builder = _Builder(src, line_base)
    body = function.child_by_field_name("body")
    for labeled in _labels(body) if body is not None else ():
        label = labeled.child_by_field_name("label")
        if label is not None:
            builder.labels.setdefault(builder.text(label), builder.new("label", labeled))
    start = builder.block(body, builder.exit, None, None) if body is not None else builder.exit
    entry = builder.new("entry", function)
    builder.link(entry, (start, None))
    kind = function.child_by_field_name("type")
    declarator = function.child_by_field_name("declarator")
    returns_int = (kind is not None and builder.text(kind) == "int" and declarator is not None
                   and declarator.type == "function_declarator")
    return Cfg(builder.nodes, entry, builder.exit, name, returns_int)
