"""Small pure helpers over (file bytes, parsed tree) for the netns_rtnl rewrites.

Everything works on the original file bytes and absolute byte offsets: a top-level
chunk is parsed (normalised, migrator.parse.tree) with the text before it blanked, so node
offsets are offsets of the whole file. Nothing here knows about pernet_operations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import tree_sitter

from migrator.edit.cedit import NeedsReview, line_end, line_start
from migrator.edit.cwrap import columns, indentation
from migrator.edit.edits import line_of
from migrator.model.srctext import CODEC
from migrator.parse.chunks import split_top_level
from migrator.parse.tree import declarator_name, declared_names, parse, walk

Node = tree_sitter.Node

WIDTH = 80
# Iterator macros written as loop heads: `list_for_each_entry(pos, head, member) BODY`.
ITERATOR = re.compile(r"(for_each|foreach|_walk|for_all)\w*$")
_NOISE = re.compile(rb"/\*.*?(?:\*/|\Z)|//(?:\\\r?\n|[^\n])*|\"(?:\\.|[^\"\\\n])*\"|"
                    rb"'(?:\\.|[^'\\\n])*'", re.DOTALL)


# --- text -------------------------------------------------------------------------------


def text(src: bytes, node: Node) -> str:
    return src[node.start_byte:node.end_byte].decode(*CODEC)


def squash(s: str) -> str:
    return " ".join(s.split())


def line_text(src: bytes, offset: int) -> str:
    start = line_start(src, offset)
    return src[start:line_end(src, offset)].decode(*CODEC).rstrip("\n")


def where(path: str, src: bytes, offset: int) -> str:
    """`path:line: the line` for evidence."""
    return f"{path}:{line_of(src, offset)}: {line_text(src, offset).strip()}"


def code_only(src: bytes) -> bytes:
    """`src` with comments and string/char literals blanked (same length, newlines
    kept): what is left is code, for counting the uses of a name."""
    return _NOISE.sub(lambda m: re.sub(rb"[^\n]", b" ", m.group()), src)


def word_offsets(code: bytes, name: str) -> list[int]:
    return [m.start() for m in re.finditer(rb"(?<![\w])" + re.escape(name.encode())
                                           + rb"(?![\w])", code)]


def dedent(block: str) -> str:
    """One indentation level less on every line that has one (a tab, or eight spaces);
    other lines (column-0 directives, blank lines) stay as they are."""
    out = []
    for line in block.splitlines(keepends=True):
        if line.startswith("\t"):
            line = line[1:]
        elif line.startswith(" " * 8):
            line = line[8:]
        out.append(line)
    return "".join(out)


def splice(src: bytes, start: int, end: int, inner: Iterable[tuple[int, int, str]]) -> str:
    """src[start:end] decoded, with the replacements `inner` (absolute ranges inside it,
    not overlapping) applied."""
    out, pos = [], start
    for a, b, new in sorted(r for r in inner if start <= r[0] and r[1] <= end):
        out.append(src[pos:a].decode(*CODEC))
        out.append(new)
        pos = b
    out.append(src[pos:end].decode(*CODEC))
    return "".join(out)


def render_head(lead: str, name: str, items: list[str], close: str = ")") -> str:
    """`name(item, item...)` + `close`, broken after commas to stay within 80 columns,
    continuation lines aligned under the opening parenthesis (tabs, then spaces) as
    kernel style wants; `lead` is what precedes `name` on its line."""
    col = columns(lead + name + "(")
    out = name + "("
    width = col
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else close)
        if i == 0:
            out += piece
            width += len(piece)
        elif width + 1 + len(piece) <= WIDTH:
            out += " " + piece
            width += 1 + len(piece)
        else:
            out += "\n" + indentation(col) + piece
            width = col + len(piece)
    if not items:
        out += close
    return out


# --- parsing ----------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _chunk_tree(src: bytes, start: int, end: int) -> tree_sitter.Tree:
    padding = re.sub(rb"[^\n]", b" ", src[:start])
    return parse(padding + src[start:end])


def chunk_root(src: bytes, offset: int) -> Node | None:
    """Root node of the top-level chunk holding `offset` (absolute offsets)."""
    for start, end in split_top_level(src):
        if start <= offset < end:
            return _chunk_tree(src, start, end).root_node
    return None


def node_at(src: bytes, offset: int, kinds: Iterable[str]) -> Node | None:
    """The innermost node of one of `kinds` holding `offset`."""
    root = chunk_root(src, offset)
    node = root.descendant_for_byte_range(offset, offset) if root is not None else None
    wanted = set(kinds)
    while node is not None and node.type not in wanted:
        node = node.parent
    return node


def function_declarator(fn: Node) -> Node | None:
    current = fn.child_by_field_name("declarator")
    while current is not None and current.type != "function_declarator":
        current = current.child_by_field_name("declarator")
    return current


def function_name_node(fn: Node) -> Node | None:
    decl = function_declarator(fn)
    name = decl.child_by_field_name("declarator") if decl is not None else None
    return name if name is not None and name.type == "identifier" else None


def function_name(src: bytes, fn: Node) -> str:
    node = function_name_node(fn)
    return text(src, node) if node is not None else ""


@dataclass(frozen=True, slots=True)
class Parameter:
    type: str  # "struct net *"
    name: str
    text: str  # as written, whitespace squashed: "struct net *net"
    node: Node


def parameters(src: bytes, fn: Node) -> list[Parameter]:
    decl = function_declarator(fn)
    plist = decl.child_by_field_name("parameters") if decl is not None else None
    out = []
    for p in plist.named_children if plist is not None else ():
        if p.type != "parameter_declaration":
            continue
        type_node = p.child_by_field_name("type")
        name, stars = declarator_name(p.child_by_field_name("declarator"))
        base = squash(text(src, type_node)) if type_node is not None else ""
        out.append(Parameter(base + (" " + "*" * stars if stars else ""), name,
                             squash(text(src, p)), p))
    return out


def is_static(src: bytes, fn: Node) -> bool:
    return any(c.type == "storage_class_specifier" and text(src, c) == "static"
               for c in fn.children)


def returns_void(src: bytes, fn: Node) -> bool:
    t = fn.child_by_field_name("type")
    decl = fn.child_by_field_name("declarator")
    return t is not None and text(src, t) == "void" and decl is not None \
        and decl.type == "function_declarator"


def find_function(src: bytes, name: str, code: bytes | None = None) -> Node | None:
    """The definition of `name` in the file, or None."""
    code = code_only(src) if code is None else code
    for at in word_offsets(code, name):
        fn = node_at(src, at, ("function_definition",))
        if fn is not None and (n := function_name_node(fn)) is not None \
                and n.start_byte == at:
            return fn
    return None


def calls_in(src: bytes, node: Node, name: str) -> list[Node]:
    out = []
    for n in walk(node):
        if n.type == "call_expression":
            f = n.child_by_field_name("function")
            if f is not None and f.type == "identifier" and text(src, f) == name:
                out.append(n)
    return out


def call_args(call: Node) -> list[Node]:
    args = call.child_by_field_name("arguments")
    return [a for a in (args.named_children if args is not None else ()) if a.type != "comment"]


def callee(src: bytes, call: Node) -> str:
    f = call.child_by_field_name("function")
    return text(src, f) if f is not None and f.type == "identifier" else ""


def iterator_head(src: bytes, node: Node) -> Node | None:
    """The call of `list_for_each_entry(...)`-like loop heads: an expression statement
    the normaliser terminated (the original has no `;` after it)."""
    if node.type != "expression_statement" or not node.named_children:
        return None
    call = node.named_children[0]
    if call.type != "call_expression" or not ITERATOR.search(callee(src, call)):
        return None
    if src[call.end_byte:node.end_byte].strip() not in (b"", b";") or \
            src[node.end_byte - 1:node.end_byte] == b";":
        return None
    return call


# --- statements as lines ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unit:
    """Whole lines of a block holding one statement (a loop head with its body), one
    declaration or one comment, plus comments sharing its lines."""

    start: int  # start of its first line
    end: int  # after the newline of its last line
    nodes: tuple[Node, ...]
    kind: str  # "decl" | "comment" | "loop" | "stmt"
    gap_before: bool  # a blank line separates it from what precedes it in its block
    head: Node | None = None  # loop: the iterator call
    body: tuple[Node, ...] = ()  # loop: its body (a compound statement, or statements)

    def names(self, src: bytes) -> list[str]:
        return [p.name for n in self.nodes if n.type == "declaration"
                for p in declared_names(src, n)]


def _extent(src: bytes, node: Node) -> tuple[int, int]:
    head = iterator_head(src, node)
    return (node.start_byte, head.end_byte) if head is not None else (
        node.start_byte, node.end_byte)


def units(src: bytes, block: Node) -> list[Unit]:
    """The statements of a compound statement as whole-line units, in order. Raises
    NeedsReview when two statements share a line or something the parse did not read (a
    preprocessor line) sits between them."""
    children = [c for c in block.named_children]
    groups: list[tuple[list[Node], str, Node | None, tuple[Node, ...]]] = []
    i = 0
    while i < len(children):
        node = children[i]
        head = iterator_head(src, node)
        if head is None:
            kind = {"declaration": "decl", "comment": "comment"}.get(node.type, "stmt")
            groups.append(([node], kind, None, ()))
            i += 1
            continue
        j = i + 1
        members = [node]
        body: list[Node] = []
        while True:  # the body: the next statement; an unbraced inner loop takes its own
            while j < len(children) and children[j].type == "comment":
                members.append(children[j])
                body.append(children[j])
                j += 1
            if j >= len(children):
                raise NeedsReview("a loop head without a body",
                             [line_text(src, node.start_byte).strip()])
            members.append(children[j])
            body.append(children[j])
            j += 1
            if iterator_head(src, children[j - 1]) is None:
                break
        groups.append((members, "loop", head, tuple(body)))
        i = j
    out: list[Unit] = []
    prev_end = line_end(src, block.start_byte)
    for members, kind, head, body in groups:
        start = line_start(src, members[0].start_byte)
        end = line_end(src, _extent(src, members[-1])[1] - 1)
        if out and start < out[-1].end:
            last = out[-1]
            if kind == "comment" or last.kind == "comment":  # a comment sharing a line
                merged_kind = last.kind if kind == "comment" else kind
                out[-1] = Unit(last.start, max(end, last.end), (*last.nodes, *members),
                               merged_kind, last.gap_before, last.head or head,
                               last.body or body)
                prev_end = out[-1].end
                continue
            raise NeedsReview("two statements share a line", [line_text(src, start).strip()])
        between = src[prev_end:start]
        if between.strip():
            raise NeedsReview("a line the parse did not read sits between statements",
                         [between.decode(*CODEC).strip().splitlines()[0]])
        out.append(Unit(start, end, tuple(members), kind, b"\n" in between, head, body))
        prev_end = end
    rest = src[prev_end:line_start(src, block.end_byte - 1)]
    if rest.strip():
        raise NeedsReview("a line the parse did not read ends the block",
                     [rest.decode(*CODEC).strip().splitlines()[0]])
    return out


def body_lines(src: bytes, block: Node) -> tuple[int, int]:
    """(after the `{` line, start of the `}` line) of a compound statement whose braces
    end and start their lines."""
    open_end = line_end(src, block.start_byte)
    close = line_start(src, block.end_byte - 1)
    if src[block.start_byte + 1:open_end].strip() or src[close:block.end_byte - 1].strip():
        raise NeedsReview("a statement shares a line with a brace of the block",
                     [line_text(src, block.start_byte).strip()])
    return open_end, close


# --- expressions ----------------------------------------------------------------------------


def expression_root(node: Node) -> Node | None:
    """The identifier an lvalue-ish expression hangs off: `a` in `a->b[i].c`, `*a`,
    `(a)->b`; None for anything else (calls, casts)."""
    current: Node | None = node
    while current is not None:
        if current.type == "identifier":
            return current
        if current.type in ("field_expression", "subscript_expression", "pointer_expression"):
            current = current.child_by_field_name("argument")
        elif current.type == "parenthesized_expression" and current.named_children:
            current = current.named_children[0]
        else:
            return None
    return None


def identifiers(src: bytes, node: Node) -> set[str]:
    return {text(src, n) for n in walk(node) if n.type == "identifier"}


def assignments(src: bytes, scope: Node, name: str) -> Iterator[Node | None]:
    """Every value written to the local `name` in `scope`: initializer values and the
    right side of `name = ...`; None for a write the caller cannot see the value of
    (compound assignment, ++/--, address taken)."""
    for n in walk(scope):
        if n.type == "init_declarator":
            target, _ = declarator_name(n.child_by_field_name("declarator"))
            if target == name:
                yield n.child_by_field_name("value")
        elif n.type == "assignment_expression":
            left = n.child_by_field_name("left")
            if left is not None and left.type == "identifier" and text(src, left) == name:
                op = n.child_by_field_name("operator")
                yield n.child_by_field_name("right") if op is not None and \
                    text(src, op) == "=" else None
        elif n.type in ("update_expression", "pointer_expression"):
            arg = n.child_by_field_name("argument")
            op = n.child_by_field_name("operator")
            if arg is not None and arg.type == "identifier" and text(src, arg) == name and \
                    (n.type == "update_expression" or (op is not None and text(src, op) == "&")):
                yield None


def declarations_of(src: bytes, scope: Node, name: str) -> int:
    return sum(1 for n in walk(scope) if n.type in ("declaration", "parameter_declaration")
               for p in _declared(src, n) if p == name)


def _declared(src: bytes, decl: Node) -> list[str]:
    if decl.type == "parameter_declaration":
        name, _ = declarator_name(decl.child_by_field_name("declarator"))
        return [name] if name else []
    return [p.name for p in declared_names(src, decl)]
