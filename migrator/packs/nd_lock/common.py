"""C edit helpers for stages 1, 3-6: statements, indentation, brackets, exits, locals.

Each function body is re-parsed on its own (normalised, offsets = original bytes);
all offsets returned are offsets into the original file.  Kept separate from
cedit.py (stage 2) until that lands; the API is small enough to swap.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import tree_sitter

from migrator.callgraph import Root
from migrator.edit import cedit
from migrator.edit.edits import line_of
from migrator.model import Edit, FunctionDef, StructInit
from migrator.model.srctext import CODEC
from migrator.parse.tree import parse
from migrator.rules.context import Candidate

Node = tree_sitter.Node

STATEMENTS = frozenset({
    "expression_statement", "return_statement", "if_statement", "for_statement",
    "while_statement", "do_statement", "switch_statement", "goto_statement",
    "break_statement", "continue_statement", "compound_statement", "labeled_statement",
    "declaration", "case_statement",
})
LOOPS = frozenset({"for_statement", "while_statement", "do_statement"})
_ITER = re.compile(r"(for_each|foreach|_walk|for_all)\w*$")


class Unsafe(Exception):
    """An edit cannot be made safely: the site becomes review with this reason."""


@dataclass(slots=True)
class FnTree:
    """One function re-parsed; node offsets are shifted by `base` into the file."""

    src: bytes  # whole file
    fn: FunctionDef
    rule: str
    root: Node = field(init=False)
    base: int = field(init=False)

    def __post_init__(self) -> None:
        self.base = self.fn.start
        self.root = parse(self.src[self.fn.start:self.fn.end]).root_node

    # -- positions ---------------------------------------------------------------------------
    def a(self, node: Node) -> int:
        return self.base + node.start_byte

    def b(self, node: Node) -> int:
        return self.base + node.end_byte

    def text(self, node: Node) -> str:
        return self.src[self.a(node):self.b(node)].decode(*CODEC)

    def body(self) -> Node:
        def walk(n: Node) -> Node | None:
            if n.type == "function_definition":
                return n.child_by_field_name("body")
            for c in n.named_children:
                found = walk(c)
                if found is not None:
                    return found
            return None
        body = walk(self.root)
        if body is None:
            raise Unsafe(f"{self.fn.name}: function body not parsed")
        return body

    def call_at(self, start: int, end: int) -> Node:
        node = self.root.descendant_for_byte_range(start - self.base, end - self.base)
        while node is not None and node.type != "call_expression":
            node = node.parent
        if node is None or self.a(node) != start:
            raise Unsafe(f"call at byte {start} not found in the re-parsed function")
        return node

    def calls(self, name: str) -> list[Node]:
        out: list[Node] = []

        def walk(n: Node) -> None:
            if n.type == "call_expression":
                f = n.child_by_field_name("function")
                if f is not None and f.type == "identifier" and self.text(f) == name:
                    out.append(n)
            for c in n.named_children:
                walk(c)
        walk(self.root)
        return out

    def statement_of(self, node: Node) -> Node:
        cur: Node | None = node
        while cur is not None and cur.type not in STATEMENTS - {"compound_statement"}:
            cur = cur.parent
        if cur is None:
            raise Unsafe("no enclosing statement")
        return cur

    def line_start(self, offset: int) -> int:
        return self.src.rfind(b"\n", 0, offset) + 1

    def indent(self, node: Node) -> str:
        start = self.a(node)
        ls = self.line_start(start)
        lead = self.src[ls:start]
        if lead.strip():
            raise Unsafe(f"statement at byte {start} does not start its line")
        return lead.decode()

    def is_unbraced_body(self, stmt: Node) -> bool:
        return cedit.is_unbraced_body(stmt)

    def guarding_if(self, stmt: Node) -> Node | None:
        """The if_statement whose braced consequence holds `stmt`, if any."""
        block = stmt.parent
        check = block.parent if block is not None else None
        if block is None or block.type != "compound_statement" or check is None \
                or check.type != "if_statement" \
                or check.child_by_field_name("consequence") != block:
            return None
        return check

    def preceded_by(self, stmt: Node, needle: str) -> bool:
        """The statement right before `stmt` (same block) contains `needle`: the site was
        converted already."""
        prev = stmt.prev_named_sibling
        while prev is not None and prev.type == "comment":
            prev = prev.prev_named_sibling
        if prev is None and stmt.parent is not None and stmt.parent.type == "compound_statement":
            return False
        return prev is not None and needle in self.text(prev)

    # -- edits -------------------------------------------------------------------------------
    def edit(self, start: int, end: int, text: str) -> Edit:
        return Edit(self.fn.file, start, end, text, self.rule)

    def wrap(self, stmt: Node, before: list[str], after: list[str], shift: str = ""
             ) -> list[Edit]:
        """cedit.wrap(): lines before and after `stmt`, braces added when it is an
        un-braced branch, every comment and preprocessor line kept in place."""
        try:
            return cedit.wrap(self.fn.file, self.src, stmt, before, after, self.rule,
                              shift=shift, base=self.base)
        except cedit.CannotEdit as exc:
            raise Unsafe(str(exc)) from exc

    def guard(self, stmt: Node, cond: str, prologue: list[str], epilogue: list[str],
              failed: str) -> list[Edit]:
        """cedit.guard(): `stmt` runs only when the lock `cond` takes succeeds; its result
        variable gets `failed` otherwise."""
        try:
            return cedit.guard(self.fn.file, self.src, stmt, cond, prologue, epilogue,
                               failed, self.rule, base=self.base)
        except cedit.CannotEdit as exc:
            raise Unsafe(str(exc)) from exc

    def insert_before(self, stmt: Node, line: str) -> list[Edit]:
        if self.is_unbraced_body(stmt):
            return self.wrap(stmt, [line], [])
        ind = self.indent(stmt)
        return [self.edit(self.a(stmt), self.a(stmt), f"{line}\n{ind}")]

    # -- locals ------------------------------------------------------------------------------
    def declares(self, name: str) -> bool:
        return any(p.name == name for p in (*self.fn.params, *self.fn.locals))

    def local_type(self, name: str) -> str | None:
        for p in (*self.fn.params, *self.fn.locals):
            if p.name == name:
                return p.type.strip()
        return None

    def add_local(self, decl: str) -> list[Edit]:
        """Add `decl` to the body's leading declarations (cedit's placement rules:
        reverse-christmas-tree where the function already uses it); [] when present."""
        fn_node = cedit.function_node(self.src, self.fn.body_start)
        if fn_node is None:
            raise Unsafe(f"{self.fn.name}: function not found for a declaration")
        try:
            edit = cedit.add_local_declaration(self.fn.file, self.src, fn_node, decl, self.rule)
        except cedit.CannotEdit as exc:
            raise Unsafe(str(exc)) from exc
        return [edit] if edit is not None else []

    def labels_in(self, region: list[Node]) -> set[str]:
        out: set[str] = set()

        def walk(n: Node) -> None:
            if n.type == "labeled_statement":
                lab = n.child_by_field_name("label")
                if lab is not None:
                    out.add(self.text(lab))
            for c in n.named_children:
                walk(c)
        for n in region:
            walk(n)
        return out

    def exits(self, region: list[Node]) -> list[Node]:
        """Statements leaving the region: return, goto out, break/continue to outside."""
        labels = self.labels_in(region)
        out: list[Node] = []

        def walk(n: Node, in_loop: bool, in_switch: bool) -> None:
            t = n.type
            if t == "return_statement":
                out.append(n)
            elif t == "goto_statement":
                lab = n.child_by_field_name("label")
                if lab is None or self.text(lab) not in labels:
                    out.append(n)
            elif (t == "break_statement" and not (in_loop or in_switch)) or (
                    t == "continue_statement" and not in_loop):
                out.append(n)
            if t in ("function_definition",):
                return
            loop = in_loop or t in LOOPS or self.is_iter_body(n)
            sw = in_switch or t == "switch_statement"
            for c in n.named_children:
                walk(c, loop, sw)
        for n in region:
            walk(n, False, False)
        return out

    def is_iter_body(self, n: Node) -> bool:
        """The `{ ... }` after `list_for_each_entry(...)` (a loop in disguise)."""
        if n.type != "compound_statement":
            return False
        prev = n.prev_named_sibling
        return prev is not None and self.iter_call(prev) is not None

    def iter_call(self, n: Node) -> str | None:
        if n.type != "expression_statement" or not n.named_children:
            return None
        call = n.named_children[0]
        if call.type != "call_expression":
            return None
        f = call.child_by_field_name("function")
        if f is None or f.type != "identifier" or not _ITER.search(self.text(f)):
            return None
        if self.src[self.b(n) - 1:self.b(n)] == b";":
            return None
        return self.text(f)

    def enclosing_loop(self, node: Node) -> list[Node] | None:
        """The innermost loop around node, as its statement nodes."""
        cur: Node | None = node.parent
        while cur is not None and cur.type != "function_definition":
            if cur.type in LOOPS:
                return [cur]
            if self.is_iter_body(cur):
                prev = cur.prev_named_sibling
                assert prev is not None
                return [prev, cur]
            cur = cur.parent
        return None

    def bracket(self, region: list[Node], lock: str, unlock: str) -> list[Edit]:
        """`lock` before the region, `unlock` after it and before every exit from it."""
        first, last = region[0], region[-1]
        if len(region) == 1:
            edits = self.wrap(first, [lock], [unlock])
        else:
            if self.is_unbraced_body(first):
                raise Unsafe("multi-statement region in an unbraced branch")
            ind = self.indent(first)
            edits = [self.edit(self.a(first), self.a(first), f"{lock}\n{ind}"),
                     self.edit(self.b(last), self.b(last), f"\n{ind}{unlock}")]
        for ex in self.exits(region):
            if ex is first or ex == first:
                raise Unsafe("the bracketed statement itself leaves the function")
            edits.extend(self.insert_before(ex, unlock))
        return edits


def arg_is_simple(text: str) -> bool:
    return re.fullmatch(r"[\w.\->\[\]&* ()]+", text) is not None


def in_family(path: str, families: list[str]) -> str | None:
    """The configured directory (e.g. "net/wireless") that contains `path`, if any."""
    for fam in families:
        d = fam.rstrip("/") + "/"
        if path.startswith(d):
            return fam.rstrip("/")
    return None


def real_calls(ctx: object, names: tuple[str, ...] | None = None
               ) -> Iterator[tuple[object, FnTree, Node]]:
    """(candidate, parsed function, call node) for each call of the rule's names.

    Calls are re-located in the re-parsed function rather than taken from the index
    offsets, so each site's line and range are those of the call itself."""
    seen: set[tuple[str, str]] = set()
    for cand in ctx.candidates:  # type: ignore[attr-defined]
        k = (cand.function.file, cand.function.name)
        if k in seen:
            continue
        seen.add(k)
        src = ctx.index.source(cand.function.file)  # type: ignore[attr-defined]
        ft = FnTree(src, cand.function, ctx.rule.id)  # type: ignore[attr-defined]
        for name in names or ctx.rule.calls:  # type: ignore[attr-defined]
            for node in ft.calls(name):
                args = node.child_by_field_name("arguments")
                call = replace(
                    cand.call, callee=name, start=ft.a(node), end=ft.b(node),
                    line=line_of(src, ft.a(node)),
                    args=tuple(ft.text(a) for a in (args.named_children if args else [])
                               if a.type != "comment"))
                yield Candidate(call, cand.function, cand.chain, cand.root), ft, node


# --- netdevice notifiers ------------------------------------------------------------------

# Registration function -> position of the notifier_block argument.
NOTIFIER_REGISTER: dict[str, int] = {
    "register_netdevice_notifier": 0,
    "register_netdevice_notifier_net": 1,
    "register_netdevice_notifier_dev_net": 1,
}


def notifier_arg(call: object) -> str | None:
    """The notifier_block expression a register_netdevice_notifier*() call passes."""
    pos = NOTIFIER_REGISTER.get(call.callee)  # type: ignore[attr-defined]
    args = call.args  # type: ignore[attr-defined]
    if pos is None or pos >= len(args):
        return None
    return re.sub(r"\s+", "", args[pos])


def netdev_notifier_roots(ctx: object) -> list[object]:
    """Roots (`.notifier_call` handlers) of the notifier_blocks that are passed to a
    register_netdevice_notifier*() call: static initializers (`static struct
    notifier_block x = { .notifier_call = f }`, matched by variable name, same file
    first) and run-time assignments in the registering file (`priv->nb.notifier_call =
    f;` for `&priv->nb`)."""
    index, graph = ctx.index, ctx.graph  # type: ignore[attr-defined]
    inits_by_var: dict[str, list[StructInit]] = {}
    for init in index.inits_of("notifier_block"):
        if init.var:
            inits_by_var.setdefault(init.var, []).append(init)
    out: list[Root] = []
    seen: set[tuple[str, str, str]] = set()

    def add(fn: FunctionDef, init: StructInit) -> None:
        k = (fn.file, fn.name, init.var)
        if k not in seen:
            seen.add(k)
            out.append(Root(fn, init, "notifier_call"))

    for call in index.calls():
        expr = notifier_arg(call)
        if not expr:
            continue
        var = expr.lstrip("&")
        if var.isidentifier() and var in inits_by_var:
            inits = inits_by_var[var]
            same = [i for i in inits if i.file == call.file]
            for init in same or inits:
                value = init.member("notifier_call")
                if value and value.isidentifier():
                    for fn in graph.resolve_name(init.file, value):
                        add(fn, init)
            continue
        field = re.split(r"->|\.", var)[-1]
        if not field.isidentifier():
            continue
        src = index.source(call.file).decode(*CODEC)
        pats = (rf"(?:->|\.|\b){re.escape(field)}\s*\.\s*notifier_call\s*=\s*(\w+)\s*;",
                rf"\.{re.escape(field)}\s*=\s*\{{\s*\.notifier_call\s*=\s*(\w+)")
        for pat in pats:
            for m in re.finditer(pat, src):
                line = src.count("\n", 0, m.start()) + 1
                init = StructInit(call.file, var, "notifier_block", m.start(), m.end(),
                                  m.start(), m.end(), line, False,
                                  (("notifier_call", m.group(1)),))
                for fn in graph.resolve_name(call.file, m.group(1)):
                    add(fn, init)
    out.sort(key=lambda r: (r.function.file, r.function.name))
    return out


# --- stage 3 helpers (wrappers around stage 2 / cedit, which other sessions own) ----------

ND_LOCK_DECL = "struct nd_lock *nd_lock;"
_NON_RTNL_ASSERT = re.compile(r"\blockdep_assert_held\s*\(\s*&?\s*([^)]+?)\s*\)")
_LOCK_CALL = re.compile(r"\b(mutex_lock\w*|spin_lock\w*|down_write|down_read|wiphy_lock|"
                        r"rtnl_net_lock|read_lock\w*|write_lock\w*)\s*\(\s*([^;]*?)\s*\)\s*;")
_UNLOCK_FOR = {"mutex_lock": "mutex_unlock", "spin_lock": "spin_unlock",
               "down_write": "up_write", "down_read": "up_read", "wiphy_lock": "wiphy_unlock",
               "read_lock": "read_unlock", "write_lock": "write_unlock"}


def other_rule_calls(ctx: object) -> dict[str, str]:
    """Selected call name -> id of the rule selecting it, for every rule but this one: a
    function so named *is* an API another rule migrates the callers of."""
    out: dict[str, str] = {}
    for rule in ctx.view.rules:  # type: ignore[attr-defined]
        if rule.id == ctx.rule.id:  # type: ignore[attr-defined]
            continue
        for name in rule.calls:
            out.setdefault(name, rule.id)
    return out


def asserted_locks(src: bytes, fn: FunctionDef) -> list[str]:
    """Locks other than RTNL the function asserts held (`lockdep_assert_held(&x->mtx)`):
    its callers hold them at the call."""
    body = src[fn.body_start:fn.body_end].decode(*CODEC)
    return [m.group(1) for m in _NON_RTNL_ASSERT.finditer(body) if "rtnl" not in m.group(1)]


def held_locks_before(src: bytes, fn: FunctionDef, offset: int) -> list[str]:
    """Locks taken in `fn` before `offset` and not released in between (textual: a
    `mutex_lock(&x)` without a later `mutex_unlock(&x)` before the offset)."""
    text = src[fn.body_start:offset].decode(*CODEC)
    held: list[str] = []
    for m in _LOCK_CALL.finditer(text):
        name, arg = m.group(1), re.sub(r"\s+", "", m.group(2))
        if name.startswith("rtnl") or "rtnl" in arg:
            continue
        base = re.sub(r"_(nested|interruptible|killable|irqsave|irq|bh|io)$", "", name)
        unlock = _UNLOCK_FOR.get(base, base.replace("lock", "unlock"))
        rest = text[m.end():]
        if not re.search(rf"\b{re.escape(unlock)}\w*\s*\(\s*{re.escape(m.group(2).strip())}",
                         rest):
            held.append(f"{name}({m.group(2).strip()})")
    return held
