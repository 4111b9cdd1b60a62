"""Lock balance on every path of a function (SPEC §7), from its control-flow graph.

The acquire/release pairs are data (``LockPair``, from the pack's
``data/locks.toml``). A path state is the set of held lock instances plus what
is known about variables that hold an acquire's result (``err =
foo_lock_killable();`` -> on one path held and err == 0, on the other not held
and err != 0); a branch whose condition contradicts what is known is not
followed. States are memoised per node, so every (node, state) pair is visited
once (breadth first: the path given as evidence is a shortest one).

Findings, each with the path (line numbers) that reaches it:

* ``held at exit``   -- a path leaves the function holding what it took (not for
  pairs released only on failure, as attach -> detach);
* ``taken twice``    -- an acquire of an instance already held on that path;
* ``not held``       -- a release of an instance not held on that path.

Like sparse's context tracking and Smatch's check_locking, an acquire whose
result is discarded (or used inside another expression) is assumed to succeed.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import tree_sitter

from migrator.verify.cfg import Cfg, CfgNode
from migrator.verify.model import LockPair

Node = tree_sitter.Node
Lock = tuple[str, str]  # (release name, instance text)
Fact = tuple[str, bool]  # (variable, truth value)
State = tuple[frozenset[Lock], frozenset[Fact]]

HELD_AT_EXIT = "held at exit"
TAKEN_TWICE = "taken twice"
NOT_HELD = "not held"
ENDED_HELD = "ended while held"
FAILED_HELD = "error returned while held"
_ERROR_VALUE = re.compile(r"-\s*E[A-Z0-9]+|-\s*[1-9]\d*|(?:ERR_PTR|ERR_CAST)\s*\(.*", re.DOTALL)
_ZERO = frozenset({"0", "NULL", "false"})
_MAX_STATES = 200_000


@dataclass(frozen=True, slots=True)
class LockFinding:
    kind: str  # HELD_AT_EXIT | TAKEN_TWICE | NOT_HELD
    lock: Lock
    line: int  # where it happens (exit: the last statement of the path)
    path: tuple[int, ...]  # lines of the statements on the path
    detail: str = ""  # ENDED_HELD: the call that ended the instance

    @property
    def key(self) -> tuple[str, Lock]:
        return (self.kind, self.lock)

    def describe(self) -> str:
        release, instance = self.lock
        call = f"{release}({instance})"
        if self.kind == HELD_AT_EXIT:
            return f"a path returns without {call} after taking that lock"
        if self.kind == TAKEN_TWICE:
            return f"a path takes the lock that {call} releases while already holding it"
        if self.kind == FAILED_HELD:
            return f"a path returns an error without {call}"
        if self.kind == ENDED_HELD:
            return f"a path reaches {self.detail}({instance}) without {call} first"
        return f"{call} is reached on a path that never took that lock"


def instance_text(arg: str) -> str:
    """`&lock` -> `lock`; `( dev )` -> `dev`; blanks removed."""
    text = re.sub(r"\s+", "", arg)
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return text.removeprefix("&")


class _Pairs:
    def __init__(self, pairs: Sequence[LockPair]) -> None:
        self.acquires: dict[str, list[LockPair]] = {}
        self.releases: dict[str, list[LockPair]] = {}
        self.failure_only: set[str] = set()
        self.drops: dict[str, list[LockPair]] = {}
        self.ends: dict[str, list[LockPair]] = {}
        for pair in pairs:
            for name in pair.drops:
                self.drops.setdefault(name, []).append(pair)
            for name in pair.ends:
                self.ends.setdefault(name, []).append(pair)
            self.acquires.setdefault(pair.acquire, []).append(pair)
            self.releases.setdefault(pair.release, []).append(pair)
            if pair.on_failure_only:
                self.failure_only.add(pair.release)

    @staticmethod
    def _instance(pair: LockPair, args: list[str], index: int | None,
                  member: str | None) -> str | None:
        if index is None:
            text = ""
        elif index < len(args):
            text = instance_text(args[index])
        else:
            return None
        if member:
            match = re.fullmatch(rf"(.+?)(?:->|\.){re.escape(member)}", text)
            if match is None:
                return None
            text = match.group(1)
        if pair.only is not None and not re.fullmatch(pair.only, text):
            return None
        return text

    def acquire(self, name: str, args: list[str]) -> tuple[LockPair, Lock] | None:
        for pair in self.acquires.get(name, ()):
            inst = self._instance(pair, args, pair.arg, pair.acquire_member)
            if inst is not None:
                return pair, (pair.release, inst)
        return None

    def release(self, name: str, args: list[str], table: str = "releases") -> Lock | None:
        for pair in getattr(self, table).get(name, ()):
            inst = self._instance(pair, args, pair.release_arg, None)
            if inst is not None:
                return (pair.release, inst)
        return None


def _plain_declaration(node: CfgNode) -> bool:
    """`int err;`: nothing happens there, so it is left out of the paths shown."""
    return len(node.effects) == 1 and node.effects[0].type == "declaration" and not any(
        c.type == "init_declarator" for c in node.effects[0].children)


def _strip(node: Node) -> Node:
    while node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    return node


def _calls(root: Node, exclude: tuple[Node, ...]) -> Iterator[Node]:
    """Call expressions under root, inner before outer (evaluation order), skipping
    the excluded sub-trees (statement expressions with nodes of their own)."""
    skip = {(n.start_byte, n.end_byte) for n in exclude}
    out: list[Node] = []

    def walk(node: Node) -> None:
        if (node.start_byte, node.end_byte) in skip and node.type == "compound_statement":
            return
        for child in node.children:
            walk(child)
        if node.type == "call_expression":
            out.append(node)

    walk(root)
    yield from out


class Analysis:
    def __init__(self, cfg: Cfg, src: bytes, pairs: Sequence[LockPair]) -> None:
        self.cfg = cfg
        self.src = src
        self.pairs = _Pairs(pairs)
        self.findings: dict[tuple[str, Lock], LockFinding] = {}
        self.parent: dict[tuple[int, State], tuple[int, State] | None] = {}

    def text(self, node: Node) -> str:
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def call_info(self, call: Node) -> tuple[str, list[str]]:
        fn = call.child_by_field_name("function")
        args = call.child_by_field_name("arguments")
        name = self.text(fn) if fn is not None and fn.type == "identifier" else ""
        texts = [self.text(a) for a in args.named_children if a.type != "comment"] \
            if args is not None else []
        return name, texts

    # --- events ------------------------------------------------------------------------

    def report(self, kind: str, lock: Lock, line: int, at: tuple[int, State],
               detail: str = "") -> None:
        if (kind, lock) in self.findings:
            return
        self.findings[(kind, lock)] = LockFinding(kind, lock, line, self.path_to(at), detail)

    def path_to(self, at: tuple[int, State]) -> tuple[int, ...]:
        lines: list[int] = []
        cur: tuple[int, State] | None = at
        while cur is not None:
            node = self.cfg.node(cur[0])
            if node.line and node.kind in ("stmt", "return", "branch", "choice", "label") and (
                    not lines or lines[-1] != node.line) and not _plain_declaration(node):
                lines.append(node.line)
            cur = self.parent.get(cur)
        return tuple(reversed(lines))

    def take(self, states: list[State], lock: Lock, line: int,
             at: tuple[int, State]) -> list[State]:
        out = []
        for held, facts in states:
            if lock in held:
                self.report(TAKEN_TWICE, lock, line, at)
            out.append((held | {lock}, facts))
        return out

    def drop(self, states: list[State], lock: Lock, line: int,
             at: tuple[int, State]) -> list[State]:
        out = []
        for held, facts in states:
            if lock not in held:
                self.report(NOT_HELD, lock, line, at)
            out.append((held - {lock}, facts))
        return out

    # --- effects of a statement ----------------------------------------------------------

    def assigned_var(self, call: Node) -> str | None:
        """`v = call()` / `T v = call()`: the variable receiving the call's value."""
        node = call
        parent = node.parent
        while parent is not None and parent.type == "parenthesized_expression":
            node, parent = parent, parent.parent
        if parent is None:
            return None
        if parent.type == "assignment_expression":
            left, right = parent.child_by_field_name("left"), parent.child_by_field_name("right")
            op = parent.child_by_field_name("operator")
            if (right is not None and right.id == node.id and left is not None
                    and left.type == "identifier" and (op is None or self.text(op) == "=")):
                return self.text(left)
        if parent.type == "init_declarator":
            value = parent.child_by_field_name("value")
            decl = parent.child_by_field_name("declarator")
            if value is not None and value.id == node.id and decl is not None \
                    and decl.type == "identifier":
                return self.text(decl)
        return None

    def killed(self, root: Node, exclude: tuple[Node, ...]) -> set[str]:
        """Variables assigned anywhere under root."""
        names: set[str] = set()
        skip = {(n.start_byte, n.end_byte) for n in exclude}
        stack = [root]
        while stack:
            node = stack.pop()
            if (node.start_byte, node.end_byte) in skip and node.type == "compound_statement":
                continue
            target = None
            if node.type == "assignment_expression":
                target = node.child_by_field_name("left")
            elif node.type == "update_expression":
                target = node.child_by_field_name("argument")
            elif node.type == "init_declarator":
                target = node.child_by_field_name("declarator")
            elif node.type == "declaration":
                names.update(self.text(d) for d in node.children_by_field_name("declarator")
                             if d.type == "identifier")
            if target is not None and target.type == "identifier":
                names.add(self.text(target))
            stack.extend(node.children)
        return names

    def effects(self, roots: Sequence[Node], exclude: tuple[Node, ...], states: list[State],
                at: tuple[int, State], skip_calls: frozenset[int] = frozenset()
                ) -> list[State]:
        for root in roots:
            killed = self.killed(root, exclude)
            if killed:
                states = [(h, frozenset(f for f in facts if f[0] not in killed))
                          for h, facts in states]
            for call in _calls(root, exclude):
                if call.id in skip_calls:
                    continue
                states = self.call_effect(call, states, at)
        return states

    def call_effect(self, call: Node, states: list[State], at: tuple[int, State]
                    ) -> list[State]:
        name, args = self.call_info(call)
        line = call.start_point.row + 1 + self.line_base
        acquired = self.pairs.acquire(name, args)
        if acquired is not None:
            pair, lock = acquired
            var = self.assigned_var(call) if pair.held_on != "always" else None
            if var is None:
                return self.take(states, lock, line, at)
            success = pair.held_on == "true"  # truth of the variable when held
            held = self.take([(h, f | {(var, success)}) for h, f in states], lock, line, at)
            return held + [(h, f | {(var, not success)}) for h, f in states]
        released = self.pairs.release(name, args)
        if released is not None:
            return self.drop(states, released, line, at)
        dropped = self.pairs.release(name, args, "drops")
        if dropped is not None:
            return [(held - {dropped}, facts) for held, facts in states]
        ended = self.pairs.release(name, args, "ends")
        if ended is not None:
            for held, _ in states:
                if ended in held:
                    self.report(ENDED_HELD, ended, line, at, name)
            return [(held - {ended}, facts) for held, facts in states]
        return states

    @property
    def line_base(self) -> int:
        return self._line_base

    # --- conditions --------------------------------------------------------------------

    def atoms(self, cond: Node) -> set[int]:
        """Acquire calls whose result the condition tests directly."""
        found: set[int] = set()

        def walk(node: Node) -> None:
            node = _strip(node)
            if node.type == "unary_expression" and self.op(node) == "!":
                walk(node.child_by_field_name("argument"))  # type: ignore[arg-type]
            elif node.type == "binary_expression" and self.op(node) in ("&&", "||"):
                walk(node.child_by_field_name("left"))  # type: ignore[arg-type]
                walk(node.child_by_field_name("right"))  # type: ignore[arg-type]
            elif node.type == "binary_expression" and self.zero_compare(node) is not None:
                walk(self.zero_compare(node)[0])  # type: ignore[index]
            elif node.type == "assignment_expression":
                right = node.child_by_field_name("right")
                if right is not None:
                    walk(right)
            elif node.type == "call_expression":
                name, args = self.call_info(node)
                acquired = self.pairs.acquire(name, args)
                if acquired is not None and acquired[0].held_on != "always":
                    found.add(node.id)

        walk(cond)
        return found

    def op(self, node: Node) -> str:
        op = node.child_by_field_name("operator")
        return self.text(op) if op is not None else ""

    def zero_compare(self, node: Node) -> tuple[Node, bool] | None:
        """`x == 0` -> (x, False): the comparison is true when x is false;
        `x != 0`, `x < 0` -> (x, True) (acquires give 0 or a negative errno)."""
        op = self.op(node)
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None or op not in ("==", "!=", "<"):
            return None
        if self.text(right).strip() in _ZERO:
            return left, op != "=="
        if op != "<" and self.text(left).strip() in _ZERO:
            return right, op != "=="
        return None

    def assume(self, cond: Node, value: bool, states: list[State], at: tuple[int, State],
               atoms: set[int]) -> list[State]:
        node = _strip(cond)
        if node.type == "unary_expression" and self.op(node) == "!":
            return self.assume(node.child_by_field_name("argument"),  # type: ignore[arg-type]
                               not value, states, at, atoms)
        if node.type == "binary_expression" and self.op(node) in ("&&", "||"):
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            assert left is not None and right is not None
            short = self.op(node) == "||"  # value of left that decides alone
            if value == short:
                decided = self.assume(left, short, states, at, atoms)
                rest = self.assume(left, not short, states, at, atoms)
                return decided + self.assume(right, short, rest, at, atoms)
            both = self.assume(left, not short, states, at, atoms)
            return self.assume(right, not short, both, at, atoms)
        if node.type == "binary_expression":
            compared = self.zero_compare(node)
            if compared is not None:
                operand, truth = compared
                if self.op(node) == "<" and not value:
                    # `err < 0` false: err is 0 when err is an errno (0 or negative) that
                    # an earlier test already knew about; else nothing is learnt
                    known = _strip(operand)
                    name = self.text(known) if known.type == "identifier" else None
                    return [s for state in states for s in (
                        self.assume(operand, False, [state], at, atoms)
                        if any(f[0] == name for f in state[1]) else [state])]
                return self.assume(operand, truth == value, states, at, atoms)
        if node.type == "assignment_expression":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is not None and left.type == "identifier" and right is not None \
                    and self.op(node) == "=":
                var = self.text(left)
                states = [(h, frozenset(f for f in facts if f[0] != var)) for h, facts in states]
                states = self.assume(right, value, states, at, atoms)
                return [(h, f | {(var, value)}) for h, f in states]
        if node.type == "identifier":
            var = self.text(node)
            return [(h, f | {(var, value)}) for h, f in states if (var, not value) not in f]
        if node.type == "call_expression" and node.id in atoms:
            name, args = self.call_info(node)
            acquired = self.pairs.acquire(name, args)
            assert acquired is not None
            pair, lock = acquired
            held = value if pair.held_on == "true" else not value
            line = node.start_point.row + 1 + self.line_base
            return self.take(states, lock, line, at) if held else states
        return states

    # --- the walk ----------------------------------------------------------------------

    def run(self, line_base: int) -> list[LockFinding]:
        self._line_base = line_base
        start: State = (frozenset(), frozenset())
        first = (self.cfg.entry, start)
        self.parent[first] = None
        queue = deque([first])
        while queue and len(self.parent) < _MAX_STATES:
            at = queue.popleft()
            index, state = at
            node = self.cfg.node(index)
            if index == self.cfg.exit:
                for lock in sorted(state[0]):
                    if lock[0] not in self.pairs.failure_only:
                        self.report(HELD_AT_EXIT, lock, node.line or self.last_line(at), at)
                continue
            outs: list[tuple[int, State]] = []
            if node.kind == "branch" and node.cond is not None:
                atoms = self.atoms(node.cond)
                states = self.effects((node.cond,), node.exclude, [state], at,
                                      frozenset(atoms))
                for target, value in node.succ:
                    if value is None:
                        outs.extend((target, s) for s in states)
                    else:
                        outs.extend((target, s) for s in
                                    self.assume(node.cond, value, states, at, atoms))
            else:
                states = self.effects(node.effects, node.exclude, [state], at) \
                    if node.effects else [state]
                outs = [(target, s) for target, _ in node.succ for s in states]
                if node.kind == "return":
                    for held, facts in states:
                        self.check_failure(node, held, facts, at)
            for nxt in outs:
                if nxt not in self.parent:
                    self.parent[nxt] = at
                    queue.append(nxt)
        return sorted(self.findings.values(), key=lambda f: (f.line, f.kind, f.lock))

    def check_failure(self, node: CfgNode, held: frozenset[Lock], facts: frozenset[Fact],
                      at: tuple[int, State]) -> None:
        """An error returned (`return -ENOMEM;`, `return ERR_PTR(err);`, `return err;`
        from an int function where the path knows err != 0) while an instance released
        only on failure is still held: the failure path lacks its release."""
        kept = [lock for lock in held if lock[0] in self.pairs.failure_only]
        if not kept or not node.effects:
            return
        value = _strip(node.effects[0])
        text = self.text(value).strip()
        failing = _ERROR_VALUE.fullmatch(text) is not None or (
            self.cfg.returns_int and value.type == "identifier" and (text, True) in facts)
        if failing:
            for lock in sorted(kept):
                self.report(FAILED_HELD, lock, node.line, at)

    def last_line(self, at: tuple[int, State]) -> int:
        path = self.path_to(at)
        return path[-1] if path else 0


def check_function(cfg: Cfg, src: bytes, pairs: Sequence[LockPair],
                   line_base: int = 0) -> list[LockFinding]:
    """Lock findings on every path of one function (`src`: the text the CFG's tree was
    parsed from; `line_base` as given to build_cfg)."""
    if not pairs:
        return []
    return Analysis(cfg, src, pairs).run(line_base)
