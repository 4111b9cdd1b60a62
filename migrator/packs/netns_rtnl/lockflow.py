"""Where a function holds RTNL: a walk of its statements with the state "held" or "free".

Stage 2 renames rtnl_lock()/rtnl_unlock() to the per-namespace calls only in a function
that takes RTNL and gives it back by itself: the lock is free on entry, taken and
released by calls of this function, and free again at every return, at the end of the
body, at a `goto` to a label reached with the lock free, and at a `break`/`continue`
out of a loop entered with the lock free. The walk follows the structure (blocks, if/
else, loops, labels) and refuses, with NeedsReview and the line, every shape it cannot
follow: an RTNL call inside an expression other than the trylock tests
`if (!rtnl_trylock())` / `if (rtnl_trylock())`, inside a loop condition, a declaration
or an `#if` with an `#else`; branches (or switch cases) that leave the lock in
different states; a label reached both ways; a lock taken twice or released while free.
A switch is followed case by case (each entered from the switch or by falling
through; its breaks leave it); an `#if` block without `#else` may or may not be
compiled, so the state after it is the same either way.

Statements with no RTNL call keep the state; the jumps inside them are checked with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator.edit.cedit import NeedsReview
from migrator.edit.edits import line_of
from migrator.edit.fntree import LOOPS, FnTree, Node
from migrator.parse.tree import walk

FREE, HELD = 0, 1
LOCK, TRYLOCK, UNLOCK = "rtnl_lock", "rtnl_trylock", "rtnl_unlock"
RTNL_CALLS = frozenset({LOCK, TRYLOCK, UNLOCK})
# Calls that take or drop RTNL some other way: a function making one is review.
OTHER_RTNL = frozenset({"rtnl_lock_killable", "rtnl_lock_interruptible", "__rtnl_unlock",
                        "rtnl_net_lock", "rtnl_net_unlock", "rtnl_net_trylock",
                        "__rtnl_net_lock", "__rtnl_net_unlock"})
# The RTNL API itself (include/linux/rtnetlink.h, net/core/rtnetlink.c): its own
# definitions are neither stage 2 sites nor counted by the census.
API = frozenset({"rtnl_lock", "rtnl_unlock", "rtnl_trylock", "rtnl_lock_killable",
                 "rtnl_net_lock", "rtnl_net_unlock", "rtnl_net_trylock", "__rtnl_net_lock",
                 "__rtnl_net_unlock"})
JUMPS = frozenset({"return_statement", "goto_statement", "break_statement",
                   "continue_statement"})
_PREPROC = ("preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef")
_BLOCKS = ("preproc_if", "preproc_ifdef")

State = int | None  # None: the path ended (a jump)


def callee(node: Node, ft: FnTree) -> str:
    f = node.child_by_field_name("function")
    return ft.text(f) if f is not None and f.type == "identifier" else ""


def else_body(alternative: Node) -> list[Node]:
    """The statements of an `else` (tree-sitter-c wraps them in an else_clause)."""
    return list(alternative.named_children) if alternative.type == "else_clause" \
        else [alternative]


@dataclass(slots=True)
class Flow:
    """One function's RTNL calls, checked by `run()`: afterwards `calls` holds each
    rtnl_lock()/rtnl_trylock()/rtnl_unlock() call node the walk went through, `held`
    the statements and conditions that run with RTNL held (the locked region)."""

    ft: FnTree
    calls: list[Node] = field(default_factory=list)
    held: list[Node] = field(default_factory=list)
    _rtnl: list[Node] = field(default_factory=list)
    _labels: dict[str, int] = field(default_factory=dict)  # state at the label
    _gotos: dict[str, tuple[int, int]] = field(default_factory=dict)  # (state, line)
    # The loops and switches around the statement walked, innermost last: ("loop", state
    # on entry) or ("switch", the states its breaks leave it with).
    _outer: list[tuple[str, list[State]]] = field(default_factory=list)

    def line(self, node: Node) -> int:
        return line_of(self.ft.src, self.ft.start(node))

    def where(self, node: Node) -> str:
        return f"{self.ft.fn.file}:{self.line(node)}"

    def run(self) -> None:
        body = self.ft.body()
        for node in walk(body):
            if node.type == "call_expression":
                name = callee(node, self.ft)
                if name in OTHER_RTNL:
                    raise NeedsReview(f"{name}() is called too ({self.where(node)}): the "
                                      "function takes or drops RTNL another way")
                if name in RTNL_CALLS:
                    self._rtnl.append(node)
        end = self.walk(body, FREE)
        if end == HELD:
            raise NeedsReview("RTNL is still held when the function returns at its end "
                              f"({self.ft.fn.file}:{line_of(self.ft.src, self.ft.fn.end)}): "
                              "the caller releases it")
        missed = [n for n in self._rtnl if n not in self.calls]
        if missed:
            raise NeedsReview(f"{callee(missed[0], self.ft)}() at {self.where(missed[0])} is "
                              "in code the walk does not reach")

    # -- helpers ---------------------------------------------------------------------------
    def has_rtnl(self, node: Node) -> bool:
        return any(node.start_byte <= n.start_byte and n.end_byte <= node.end_byte
                   for n in self._rtnl)

    def rtnl_call(self, expr: Node | None) -> Node | None:
        """`expr` (parentheses stripped) when it is exactly an RTNL call."""
        while expr is not None and expr.type == "parenthesized_expression" \
                and expr.named_child_count == 1:
            expr = expr.named_children[0]
        if expr is not None and expr.type == "call_expression" \
                and callee(expr, self.ft) in RTNL_CALLS:
            return expr
        return None

    def refuse(self, node: Node, what: str) -> NeedsReview:
        return NeedsReview(f"{what} ({self.where(node)})")

    def merge(self, a: State, b: State, node: Node) -> State:
        if a is None:
            return b
        if b is None or a == b:
            return a
        raise self.refuse(node, "RTNL is held after this statement on some paths only")

    # -- statements --------------------------------------------------------------------------
    def walk(self, node: Node, state: State) -> State:
        t = node.type
        if t == "labeled_statement":
            return self.label(node, state)
        if state is None:  # only a label makes what follows a jump reachable
            if t in ("compound_statement", *_BLOCKS):
                return self.sequence(self.inside(node), None)
            if self.has_rtnl(node) or any(n.type == "labeled_statement" for n in walk(node)):
                raise self.refuse(node, "a label or an RTNL call inside a statement that "
                                  "follows a jump")
            return None
        if t == "comment":
            return state
        if not self.has_rtnl(node):
            self.jumps(node, state)
            if state == HELD:
                self.held.append(node)
            return None if self.terminates(node) else state
        if t == "compound_statement":
            return self.sequence(node.named_children, state)
        if t in _BLOCKS:
            return self.conditional(node, state)
        assert state is not None
        if t == "expression_statement":
            return self.statement(node, state)
        if t == "if_statement":
            return self.branch(node, state)
        if t in LOOPS:
            return self.loop(node, state)
        if t == "switch_statement":
            return self.switch(node, state)
        if t in _PREPROC:
            raise self.refuse(node, "RTNL is taken or released inside an #if block")
        raise self.refuse(node, f"an RTNL call in a {t.replace('_', ' ')}")

    def sequence(self, nodes: list[Node], state: State) -> State:
        i = 0
        while i < len(nodes):
            node = nodes[i]
            if self.ft.iter_call(node) is not None and i + 1 < len(nodes):
                # `list_for_each_entry(...) stmt`: the macro is a loop over the next statement
                if self.has_rtnl(node):
                    raise self.refuse(node, "an RTNL call in a loop macro's arguments")
                if state == HELD:
                    self.held.append(node)
                if state is not None:
                    state = self.loop_body(nodes[i + 1], state)
                elif self.has_rtnl(nodes[i + 1]):
                    raise self.refuse(nodes[i + 1], "an RTNL call follows a jump")
                i += 2
                continue
            state = self.walk(node, state)
            i += 1
        return state

    def statement(self, node: Node, state: int) -> State:
        expr = node.named_children[0] if node.named_children else None
        call = self.rtnl_call(expr)
        if call is None:
            raise self.refuse(node, "an RTNL call inside an expression")
        name = callee(call, self.ft)
        self.calls.append(call)
        if name == LOCK:
            if state == HELD:
                raise self.refuse(node, "rtnl_lock() while RTNL is held on this path")
            return HELD
        if name == UNLOCK:
            if state == FREE:
                raise self.refuse(node, "rtnl_unlock() of RTNL this function did not take "
                                  "(its caller's)")
            return FREE
        raise self.refuse(node, "the result of rtnl_trylock() is not tested")

    def branch(self, node: Node, state: int) -> State:
        cond = node.child_by_field_name("condition")
        then, other = state, state
        if cond is not None and self.has_rtnl(cond):
            inner = cond.named_children[0] if cond.named_children else None
            negated = inner is not None and inner.type == "unary_expression" \
                and self.ft.text(inner).lstrip().startswith("!")
            call = self.rtnl_call(inner.named_children[0] if negated and inner else inner)
            if call is None or callee(call, self.ft) != TRYLOCK:
                raise self.refuse(node, "an RTNL call in a condition other than "
                                  "`if (rtnl_trylock())` or `if (!rtnl_trylock())`")
            if state == HELD:
                raise self.refuse(node, "rtnl_trylock() while RTNL is held on this path")
            self.calls.append(call)
            then, other = (FREE, HELD) if negated else (HELD, FREE)
        elif cond is not None and state == HELD:
            self.held.append(cond)
        consequence = node.child_by_field_name("consequence")
        alternative = node.child_by_field_name("alternative")
        a = self.walk(consequence, then) if consequence is not None else then
        b: State = other
        if alternative is not None:
            b = self.sequence(else_body(alternative), other)
        return self.merge(a, b, node)

    def loop(self, node: Node, state: int) -> State:
        body = node.child_by_field_name("body")
        heads = [c for c in node.named_children if c != body]
        if body is None or any(self.has_rtnl(h) for h in heads):
            raise self.refuse(node, "an RTNL call in a loop's condition")
        if state == HELD:
            self.held.extend(heads)
        return self.loop_body(body, state)

    def loop_body(self, body: Node, state: int) -> State:
        self._outer.append(("loop", [state]))
        try:
            end = self.walk(body, state)
        finally:
            self._outer.pop()
        if end not in (None, state):
            raise self.refuse(body, "RTNL is taken in a loop and not released in the same "
                              "iteration")
        return state

    def switch(self, node: Node, state: int) -> State:
        cond = node.child_by_field_name("condition")
        body = node.child_by_field_name("body")
        if body is None or (cond is not None and self.has_rtnl(cond)):
            raise self.refuse(node, "an RTNL call in a switch's condition")
        if cond is not None and state == HELD:
            self.held.append(cond)
        breaks: list[State] = []
        self._outer.append(("switch", breaks))
        current: State = None  # falling through from the case before
        default = False
        try:
            for child in self.cases(body):
                if child.type != "case_statement":
                    current = self.walk(child, current)
                    continue
                value = child.child_by_field_name("value")
                default = default or value is None
                entry = self.merge(current, state, child)
                current = self.sequence([c for c in child.named_children if c != value], entry)
        finally:
            self._outer.pop()
        out: State = None
        for end in (*breaks, current, *(() if default else (state,))):
            out = self.merge(out, end, node)
        return out

    def cases(self, body: Node) -> list[Node]:
        """A switch body's statements, the cases inside `#ifdef X ... #endif` (no #else)
        in line with the others: every case falling through has the state of the switch,
        so a case that is not compiled changes nothing."""
        out = []
        for child in body.named_children:
            if child.type in _BLOCKS and child.child_by_field_name("alternative") is None:
                out.extend(self.cases_of_block(child))
            else:
                out.append(child)
        return out

    def cases_of_block(self, node: Node) -> list[Node]:
        out = []
        for child in self.inside(node):
            if child.type in _BLOCKS and child.child_by_field_name("alternative") is None:
                out.extend(self.cases_of_block(child))
            else:
                out.append(child)
        return out

    def conditional(self, node: Node, state: State) -> State:
        """`#ifdef X ... #endif`: compiled or not, the state after it is one."""
        if node.child_by_field_name("alternative") is not None:
            raise self.refuse(node, "RTNL is taken or released inside an #if with an #else")
        out = self.sequence(self.inside(node), state)
        return self.merge(state, out, node)

    def inside(self, node: Node) -> list[Node]:
        """The statements of a block or of an `#if` block."""
        head = node.child_by_field_name("name") or node.child_by_field_name("condition")
        return [c for c in node.named_children if c != head]

    def label(self, node: Node, state: State) -> State:
        lab = node.child_by_field_name("label")
        name = self.ft.text(lab) if lab is not None else ""
        came = [s for s in (state, self._gotos.get(name, (None, 0))[0]) if s is not None]
        if len(set(came)) > 1:
            raise self.refuse(node, f"label {name} is reached with RTNL held and with RTNL "
                              "free")
        entry = came[0] if came else FREE  # only reached by a later (backward) goto
        self._labels[name] = entry
        inner = [c for c in node.named_children if c != lab]
        return self.sequence(inner, entry)

    # -- jumps in statements without RTNL calls ------------------------------------------
    def jumps(self, node: Node, state: int) -> None:
        for n in walk(node):
            t = n.type
            if t == "labeled_statement" and n != node:  # a label inside: reached with `state`
                lab = n.child_by_field_name("label")
                name = self.ft.text(lab) if lab is not None else ""
                seen = self._gotos.get(name)
                if seen is not None and seen[0] != state:
                    raise self.refuse(n, f"label {name} is reached with RTNL held and with "
                                      "RTNL free")
                self._labels[name] = state
            elif t == "return_statement":
                if state == HELD:
                    raise self.refuse(n, "returns with RTNL held")
            elif t == "goto_statement":
                lab = n.child_by_field_name("label")
                self.goto(self.ft.text(lab) if lab is not None else "", state, n)
            elif t in ("break_statement", "continue_statement") and not self.inner(n, node):
                self.leave(n, state)

    def leave(self, jump: Node, state: int) -> None:
        """A break (of the innermost loop or switch) or a continue (of the innermost
        loop) out of the statement being walked."""
        kinds = ("loop", "switch") if jump.type == "break_statement" else ("loop",)
        owner = next((o for o in reversed(self._outer) if o[0] in kinds), None)
        word = jump.type.split("_")[0]
        if owner is None:
            raise self.refuse(jump, f"a {word} the walk cannot place")
        kind, states = owner
        if kind == "switch":
            states.append(state)
        elif state != states[0]:
            raise self.refuse(jump, f"a {word} leaves a loop with RTNL in another state than "
                              "on entry")

    def goto(self, label: str, state: int, node: Node) -> None:
        if label in self._labels and self._labels[label] != state:
            raise self.refuse(node, f"goto {label} with RTNL "
                              f"{'held' if state == HELD else 'free'}, the other way at the "
                              "label")
        seen = self._gotos.get(label)
        if seen is not None and seen[0] != state:
            raise self.refuse(node, f"goto {label} is reached with RTNL held and free "
                              f"(also line {seen[1]})")
        self._gotos[label] = (state, self.line(node))

    def inner(self, jump: Node, within: Node) -> bool:
        """The loop (or switch, for break) a break/continue leaves is inside `within`."""
        cur = jump.parent
        while cur is not None and cur != within.parent:
            if cur.type in LOOPS or self.ft.is_iter_body(cur) or (
                    jump.type == "break_statement" and cur.type == "switch_statement"):
                return True
            prev = cur.prev_named_sibling
            if prev is not None and self.ft.iter_call(prev) is not None:
                return True  # the un-braced body of a loop macro
            if cur == within:
                break
            cur = cur.parent
        return False

    def terminates(self, node: Node) -> bool:
        """Every path through `node` ends in a jump."""
        t = node.type
        if t in JUMPS:
            return True
        if t == "compound_statement":
            last = [c for c in node.named_children if c.type != "comment"]
            return bool(last) and self.terminates(last[-1])
        if t == "if_statement":
            alternative = node.child_by_field_name("alternative")
            consequence = node.child_by_field_name("consequence")
            if alternative is None or consequence is None:
                return False
            rest = [c for c in else_body(alternative) if c.type != "comment"]
            return self.terminates(consequence) and bool(rest) and self.terminates(rest[-1])
        return False
