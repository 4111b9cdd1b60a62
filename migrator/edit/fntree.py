"""One function re-parsed for editing: statements, indentation, brackets, exits, locals.

The function's text is parsed on its own; every offset returned (`start()`, `end()`,
the edits) is an offset into the original file. A refusal is NeedsReview: the site
becomes review with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import tree_sitter

from migrator.edit import cedit
from migrator.edit.cedit import NeedsReview
from migrator.model import Edit, FunctionDef
from migrator.model.srctext import CODEC
from migrator.parse.tree import parse

Node = tree_sitter.Node

STATEMENTS = frozenset({
    "expression_statement", "return_statement", "if_statement", "for_statement",
    "while_statement", "do_statement", "switch_statement", "goto_statement",
    "break_statement", "continue_statement", "compound_statement", "labeled_statement",
    "declaration", "case_statement",
})
LOOPS = frozenset({"for_statement", "while_statement", "do_statement"})
_ITER = re.compile(r"(for_each|foreach|_walk|for_all)\w*$")


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
    def start(self, node: Node) -> int:
        return self.base + node.start_byte

    def end(self, node: Node) -> int:
        return self.base + node.end_byte

    def text(self, node: Node) -> str:
        return self.src[self.start(node):self.end(node)].decode(*CODEC)

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
            raise NeedsReview(f"{self.fn.name}: function body not parsed")
        return body

    def call_at(self, start: int, end: int) -> Node:
        node = self.root.descendant_for_byte_range(start - self.base, end - self.base)
        while node is not None and node.type != "call_expression":
            node = node.parent
        if node is None or self.start(node) != start:
            raise NeedsReview(f"call at byte {start} not found in the re-parsed function")
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
            raise NeedsReview("no enclosing statement")
        return cur

    def line_start(self, offset: int) -> int:
        return self.src.rfind(b"\n", 0, offset) + 1

    def indent(self, node: Node) -> str:
        start = self.start(node)
        ls = self.line_start(start)
        lead = self.src[ls:start]
        if lead.strip():
            raise NeedsReview(f"statement at byte {start} does not start its line")
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
        return cedit.wrap(self.fn.file, self.src, stmt, before, after, self.rule,
                          shift=shift, base=self.base)

    def guard(self, stmt: Node, cond: str, prologue: list[str], epilogue: list[str],
              failed: str) -> list[Edit]:
        """cedit.guard(): `stmt` runs only when the lock `cond` takes succeeds; its result
        variable gets `failed` otherwise."""
        return cedit.guard(self.fn.file, self.src, stmt, cond, prologue, epilogue,
                           failed, self.rule, base=self.base)

    def insert_before(self, stmt: Node, line: str | Sequence[str]) -> list[Edit]:
        lines = [line] if isinstance(line, str) else list(line)
        if self.is_unbraced_body(stmt):
            return self.wrap(stmt, lines, [])
        ind = self.indent(stmt)
        return [self.edit(self.start(stmt), self.start(stmt),
                          "".join(f"{x}\n{ind}" for x in lines))]

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
            raise NeedsReview(f"{self.fn.name}: function not found for a declaration")
        edit = cedit.add_local_declaration(self.fn.file, self.src, fn_node, decl, self.rule)
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
        """The `{ ... }` after `list_for_each_entry(...)` (a loop in disguise), or the one
        statement after it when the body has no braces."""
        if n.type not in STATEMENTS:
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
        if self.src[self.end(n) - 1:self.end(n)] == b";":
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

    def bracket(self, region: list[Node], lock: str | Sequence[str],
                unlock: str | Sequence[str]) -> list[Edit]:
        """`lock` (a line or lines) before the region, `unlock` after it and before every
        exit from it. The exits' edits come first: an exit ending the region (`if (x)
        goto out;`) gets its closing brace before the region's unlock at the same
        offset (edits at one offset apply in list order)."""
        first, last = region[0], region[-1]
        before = [lock] if isinstance(lock, str) else list(lock)
        after = [unlock] if isinstance(unlock, str) else list(unlock)
        edits: list[Edit] = []
        for ex in self.exits(region):
            if ex is first or ex == first:
                raise NeedsReview("the bracketed statement itself leaves the function")
            edits.extend(self.insert_before(ex, after))
        if len(region) == 1:
            return [*edits, *self.wrap(first, before, after)]
        if self.is_unbraced_body(first):
            raise NeedsReview("multi-statement region in an unbraced branch")
        ind = self.indent(first)
        return [*edits,
                self.edit(self.start(first), self.start(first),
                          "".join(f"{x}\n{ind}" for x in before)),
                self.edit(self.end(last), self.end(last),
                          "".join(f"\n{ind}{x}" for x in after))]
