"""Parse C with tree-sitter and extract the facts the index needs.

Files are parsed chunk by chunk (see chunks.py): only the top-level chunks that
mention a name of interest are parsed, each on its own, after same-length
normalisation (normalize.py). Offsets of every record are offsets into the
original file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache

import tree_sitter
import tree_sitter_c

from migrator.model import CallSite, FunctionDef, MacroDef, Param, ParseStats, StructInit
from migrator.model.srctext import CODEC
from migrator.parse.chunks import define_spans, split_top_level
from migrator.parse.normalize import normalize, normalize_dropping

LANGUAGE = tree_sitter.Language(tree_sitter_c.language())

_FACTS_QUERY = """
(function_definition) @function
(call_expression arguments: (argument_list)) @call
(declaration type: (struct_specifier name: (type_identifier) @struct_type)
             declarator: (init_declarator value: (initializer_list))) @struct_decl
"""
_DECLARATION_QUERY = "(declaration) @decl"
_WRAPPER_DECLARATORS = frozenset(
    {"pointer_declarator", "parenthesized_declarator", "attributed_declarator",
     "array_declarator", "init_declarator"}
)


@cache
def parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(LANGUAGE)


@cache
def _query(source: str) -> tree_sitter.Query:
    return tree_sitter.Query(LANGUAGE, source)


def parse(src: bytes, *, normalised: bool = True) -> tree_sitter.Tree:
    """Parse text (normalised by default); node offsets are offsets into `src`."""
    return parser().parse(normalize(src) if normalised else src)


@lru_cache(maxsize=256)
def parse_chunk(src: bytes, start: int, end: int) -> tree_sitter.Tree:
    """Parse the top-level chunk src[start:end] of a file with everything before it
    blanked (newlines kept): node offsets and rows are those of the whole file, while
    only the chunk is really parsed."""
    return parse(re.sub(rb"[^\n]", b" ", src[:start]) + src[start:end])


def chunk_trees(src: bytes, word: str) -> Iterator[tree_sitter.Tree]:
    """Parse trees of the top-level chunks of `src` mentioning `word` (a cheap text
    pre-filter only)."""
    pattern = re.compile(rb"\b" + re.escape(word.encode()) + rb"\b")
    for start, end in split_top_level(src):
        if pattern.search(src, start, end):
            yield parse_chunk(src, start, end)


def is_function_declarator(decl: tree_sitter.Node) -> bool:
    """`f(...)`, `*f(...)`: a function declarator under pointer/attribute wrappers."""
    while decl.type in ("pointer_declarator", "attributed_declarator"):
        inner = decl.child_by_field_name("declarator")
        if inner is None:
            return False
        decl = inner
    return decl.type == "function_declarator"


def walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    """`node` and every node under it, in source order (pre-order)."""
    yield node
    for child in node.children:
        yield from walk(child)


def text(src: bytes, node: tree_sitter.Node) -> str:
    return src[node.start_byte : node.end_byte].decode(*CODEC)


def count_errors(src: bytes) -> int:
    """ERROR and MISSING nodes over all chunks of a file, after normalisation."""
    return sum(_chunk_errors(src[start:end]) for start, end in split_top_level(src))


@lru_cache(maxsize=8192)
def _chunk_errors(chunk: bytes) -> int:
    """count_errors() of one top-level chunk, a function of its bytes alone: a rewritten
    file is compared with its original chunk by chunk, and only the chunks the edits
    changed are parsed again."""
    root = parse(chunk).root_node
    return sum(1 for _ in iter_error_nodes(root)) if root.has_error else 0


def iter_error_nodes(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    if node.is_error or node.is_missing:
        yield node
        return
    if node.has_error:
        for child in node.children:
            yield from iter_error_nodes(child)


# --- declarators ------------------------------------------------------------------------


def declarator_name(node: tree_sitter.Node | None) -> tuple[str, int]:
    """(identifier, pointer depth) of a declarator; ("", depth) when it has none."""
    stars = 0
    while node is not None and node.type != "identifier":
        if node.type == "pointer_declarator":
            stars += 1
        if node.type == "function_declarator" or node.type in _WRAPPER_DECLARATORS:
            inner = node.child_by_field_name("declarator")
            if inner is None:
                inner = next((c for c in node.named_children if c.type != "type_qualifier"), None)
            node = inner
        elif node.type in ("field_identifier", "type_identifier"):
            break
        else:
            return "", stars
    if node is None:
        return "", stars
    return (node.text or b"").decode("ascii", "replace"), stars


def _type_text(src: bytes, decl: tree_sitter.Node) -> str:
    type_node = decl.child_by_field_name("type")
    return text(src, type_node) if type_node is not None else ""


def declared_names(src: bytes, decl: tree_sitter.Node) -> list[Param]:
    """`struct net_device *dev, *peer;` -> [Param("struct net_device *", "dev"), ...]."""
    base = _type_text(src, decl)
    out = []
    for child in decl.children_by_field_name("declarator"):
        name, stars = declarator_name(child)
        if name:
            out.append(Param(base + (" " + "*" * stars if stars else ""), name))
    return out


def _function_declarator(node: tree_sitter.Node) -> tree_sitter.Node | None:
    current: tree_sitter.Node | None = node.child_by_field_name("declarator")
    while current is not None and current.type != "function_declarator":
        current = current.child_by_field_name("declarator")
    return current


# --- per-chunk extraction ---------------------------------------------------------------


@dataclass(slots=True)
class ChunkFacts:
    """Facts of one chunk, offsets relative to the chunk, lines 0-based within it."""

    functions: list[FunctionDef] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    inits: list[StructInit] = field(default_factory=list)
    macros: list[MacroDef] = field(default_factory=list)
    masked_calls: list[CallSite] = field(default_factory=list)  # masked_arm: chunk row + 1

    def shifted(self, path: str, offset: int, line_base: int) -> ChunkFacts:
        return ChunkFacts(
            [replace(f, file=path, start=f.start + offset, end=f.end + offset,
                     body_start=f.body_start + offset, body_end=f.body_end + offset,
                     line=f.line + line_base) for f in self.functions],
            [replace(c, file=path, start=c.start + offset, end=c.end + offset,
                     line=c.line + line_base) for c in self.calls],
            [replace(s, file=path, start=s.start + offset, end=s.end + offset,
                     body_start=s.body_start + offset, body_end=s.body_end + offset,
                     line=s.line + line_base) for s in self.inits],
            [replace(m, file=path, start=m.start + offset, end=m.end + offset,
                     line=m.line + line_base) for m in self.macros],
            [replace(c, file=path, start=c.start + offset, end=c.end + offset,
                     line=c.line + line_base, masked_arm=c.masked_arm + line_base - 1)
             for c in self.masked_calls],
        )


def extract_chunk(chunk: bytes) -> ChunkFacts:
    """Functions, calls and struct initializers of one chunk (relative offsets)."""
    normalised, dropped = normalize_dropping(chunk)
    root = parser().parse(normalised).root_node
    captures = tree_sitter.QueryCursor(_query(_FACTS_QUERY)).captures(root)
    facts = ChunkFacts()
    functions = [function_def(chunk, node) for node in
                 sorted(captures.get("function", []), key=lambda n: n.start_byte)]
    facts.functions = [f for f in functions if f is not None]
    spans = sorted((f.body_start, f.body_end, f.name) for f in facts.functions)

    def enclosing(offset: int) -> str:
        for start, end, name in spans:
            if start <= offset < end:
                return name
        return ""

    # Each capture name has its own list, and tree-sitter does not keep the lists of
    # different names aligned (nor in one stable order for nested matches): take the
    # callee and arguments from the call node itself, and sort every list by position.
    for call in sorted(captures.get("call", []), key=lambda n: (n.start_byte, n.end_byte)):
        caller = enclosing(call.start_byte)
        callee = call.child_by_field_name("function")
        args = call.child_by_field_name("arguments")
        if not caller or callee is None or args is None:
            continue
        site = _call_site(chunk, call, callee, args, caller)
        if site is not None:
            facts.calls.append(site)
    for decl in sorted(captures.get("struct_decl", []), key=lambda n: n.start_byte):
        facts.inits.extend(_struct_inits(chunk, decl))
    facts.macros = macro_defs(chunk)
    facts.masked_calls = _masked_calls(chunk, dropped, enclosing)
    return facts


def _masked_calls(chunk: bytes, dropped: list[tuple[int, int]],
                  enclosing: Callable[[int], str]) -> list[CallSite]:
    """Calls written in `#if` arms the normaliser had to blank, found by their text (as
    in a macro body): `name(` outside comments and strings, in a function's body."""
    out = []
    for start, end in dropped:
        caller = enclosing(start)
        if not caller:
            continue
        arm = _MACRO_NOISE.sub(lambda m: b" " * len(m.group()), chunk[start:end])
        arm_row = chunk.count(b"\n", 0, start)
        for m in _MACRO_CALL.finditer(arm):
            name = m.group(1).decode("ascii")
            if name in _NOT_CALLS:
                continue
            at = start + m.start(1)
            out.append(CallSite(caller=caller, file="", callee=name, via_member=False,
                                receiver="", start=at, end=start + m.end(),
                                line=chunk.count(b"\n", 0, at), args=(),
                                masked_arm=arm_row + 1))
    return out


# --- function-like macros -----------------------------------------------------------------

_MACRO_HEAD = re.compile(rb"[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)\(([^)]*)\)")
_MACRO_NOISE = re.compile(rb"/\*.*?\*/|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'",
                          re.DOTALL)
_MACRO_CALL = re.compile(rb"(?<![\w.>#])([A-Za-z_]\w*)\s*\(")
_NOT_CALLS = frozenset({"if", "while", "for", "switch", "return", "sizeof", "typeof",
                        "__typeof__", "_Alignof", "__alignof__", "defined", "do", "case",
                        "__builtin_expect", "likely", "unlikely"})


def macro_defs(chunk: bytes) -> list[MacroDef]:
    """Function-like `#define NAME(params) body` of a chunk (relative offsets, 0-based
    lines) with the identifiers their body calls, and object-like aliases of a function,
    `#define NAME other` (a use `NAME(x)` calls `other`: calls = (other,), no params).
    Other object-like macros are left out (a use is not a call). Comments and literals
    of the body are ignored."""
    out = []
    for start, end in define_spans(chunk):
        text = chunk[start:end]
        head = _MACRO_HEAD.match(text)
        if head is None:
            alias = _alias(text)
            if alias is not None:
                out.append(MacroDef(name=alias[0], file="", start=start, end=end,
                                    line=chunk.count(b"\n", 0, start), params=(),
                                    calls=(alias[1],)))
            continue
        params = tuple(p.strip().decode(*CODEC) for p in head.group(2).split(b",")
                       if p.strip())
        body = _MACRO_NOISE.sub(b" ", re.sub(rb"\\\r?\n", b" ", text[head.end():]))
        calls: list[str] = []
        for m in _MACRO_CALL.finditer(body):
            name = m.group(1).decode(*CODEC)
            if name not in _NOT_CALLS and name not in params and name not in calls:
                calls.append(name)
        out.append(MacroDef(name=head.group(1).decode(*CODEC), file="", start=start, end=end,
                            line=chunk.count(b"\n", 0, start), params=params,
                            calls=tuple(calls)))
    return out


_ALIAS_HEAD = re.compile(rb"[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(?![\w(])")
_ALIAS_BODY = re.compile(rb"\s*\(?\s*([A-Za-z_]\w*)\s*\)?\s*")
# A cheap first look (most object-like macros are constants or expressions): after the
# name, an identifier (maybe in parentheses) then only a line end, comment or backslash.
_ALIAS_SHAPE = re.compile(rb"[ \t]*#[ \t]*define[ \t]+[A-Za-z_]\w*(?:[ \t]|\\\r?\n)+\(?"
                          rb"[ \t]*[A-Za-z_]\w*[ \t]*\)?[ \t]*(?:[/\\\r\n]|\Z)")


def _alias(text: bytes) -> tuple[str, str] | None:
    """(name, aliased identifier) of an object-like `#define name ident` (or `(ident)`)."""
    head = _ALIAS_HEAD.match(text) if _ALIAS_SHAPE.match(text) else None
    if head is None:
        return None
    body = _MACRO_NOISE.sub(b" ", re.sub(rb"\\\r?\n", b" ", text[head.end():]))
    m = _ALIAS_BODY.fullmatch(body)
    if m is None or m.group(1).decode(*CODEC) in _NOT_CALLS:
        return None
    name, target = head.group(1).decode(*CODEC), m.group(1).decode(*CODEC)
    return (name, target) if name != target else None


def function_def(src: bytes, node: tree_sitter.Node) -> FunctionDef | None:
    fdecl = _function_declarator(node)
    body = node.child_by_field_name("body")
    if fdecl is None or body is None:
        return None
    name, _ = declarator_name(fdecl.child_by_field_name("declarator"))
    if not name:
        return None
    params: list[Param] = []
    plist = fdecl.child_by_field_name("parameters")
    for param in plist.named_children if plist is not None else ():
        if param.type != "parameter_declaration":
            continue
        pname, stars = declarator_name(param.child_by_field_name("declarator"))
        ptype = _type_text(src, param) + (" " + "*" * stars if stars else "")
        params.append(Param(ptype, pname))
    local_decls = tree_sitter.QueryCursor(_query(_DECLARATION_QUERY)).captures(body)
    locals_ = [p for d in sorted(local_decls.get("decl", []), key=lambda n: n.start_byte)
               for p in declared_names(src, d)]
    is_static = any(
        c.type == "storage_class_specifier" and c.text == b"static" for c in node.children
    )
    name_node = fdecl.child_by_field_name("declarator")
    return FunctionDef(
        name=name, file="", start=node.start_byte, end=node.end_byte,
        body_start=body.start_byte, body_end=body.end_byte,
        line=(name_node or node).start_point.row, is_static=is_static,
        params=tuple(params), locals=tuple(locals_), has_error=node.has_error,
    )


def _call_site(
    src: bytes, call: tree_sitter.Node, callee: tree_sitter.Node, args: tree_sitter.Node,
    caller: str,
) -> CallSite | None:
    if callee.type == "identifier":
        name, via_member, receiver = text(src, callee), False, ""
    elif callee.type == "field_expression":
        field_node = callee.child_by_field_name("field")
        object_node = callee.child_by_field_name("argument")
        if field_node is None or object_node is None:
            return None
        name, via_member, receiver = text(src, field_node), True, text(src, object_node)
    else:
        return None
    arg_texts = tuple(
        text(src, a) for a in args.named_children if a.type != "comment"
    )
    return CallSite(
        caller=caller, file="", callee=name, via_member=via_member, receiver=receiver,
        start=call.start_byte, end=call.end_byte, line=call.start_point.row, args=arg_texts,
    )


def _struct_inits(src: bytes, decl: tree_sitter.Node) -> Iterable[StructInit]:
    type_node = decl.child_by_field_name("type")
    name_node = type_node.child_by_field_name("name") if type_node is not None else None
    if name_node is None:
        return []
    out = []
    for init_decl in decl.children_by_field_name("declarator"):
        value = init_decl.child_by_field_name("value")
        if init_decl.type != "init_declarator" or value is None:
            continue
        target = init_decl.child_by_field_name("declarator")
        var, _ = declarator_name(target)
        is_array = target is not None and target.type == "array_declarator"
        members: list[tuple[str, str]] = []
        _flatten_initializer(src, value, "", members, depth=0 if not is_array else -1)
        out.append(StructInit(
            file="", var=var, struct_type=text(src, name_node), start=decl.start_byte,
            end=decl.end_byte, body_start=value.start_byte, body_end=value.end_byte,
            line=decl.start_point.row, is_array=is_array, members=tuple(members),
        ))
    return out


def _flatten_initializer(
    src: bytes, node: tree_sitter.Node, prefix: str, out: list[tuple[str, str]], depth: int
) -> None:
    for child in node.named_children:
        if child.type == "initializer_pair":
            keys = [
                text(src, d.named_children[0]) if d.named_children else ""
                for d in child.children_by_field_name("designator")
                if d.type == "field_designator"
            ]
            value = child.child_by_field_name("value")
            if value is None or not keys:
                continue
            key = prefix + ".".join(keys)
            if value.type == "initializer_list" and _has_designators(value):
                _flatten_initializer(src, value, key + ".", out, depth + 1)
            else:
                out.append((key, text(src, value)))
        elif child.type == "initializer_list" and depth < 0:
            # element of an array of structs: a "[]" marker, then its members
            out.append(("[]", ""))
            _flatten_initializer(src, child, prefix, out, depth + 1)


def _has_designators(node: tree_sitter.Node) -> bool:
    return any(c.type == "initializer_pair" for c in node.named_children)


# --- parse statistics -------------------------------------------------------------------

_FUNCTION_OPEN = re.compile(rb"^\{", re.MULTILINE)
_HEADER_BREAK = re.compile(rb"(?:\n[ \t]*\n|;[ \t]*\n|\*/[ \t]*\n|\n#[^\n]*\n|}[^\n]*\n)")


def chunk_stats(chunk: bytes, target_call: re.Pattern[bytes]) -> ParseStats:
    """Count the chunk's functions (a `{` at column 0 opens a kernel function body) and how
    many parse with no ERROR/MISSING node in their range, raw and normalised."""
    opens = [m.start() for m in _FUNCTION_OPEN.finditer(chunk)]
    if not opens:
        return ParseStats()
    raw_root = parse(chunk, normalised=False).root_node
    norm_root = parse(chunk).root_node
    raw_errors = [(n.start_byte, n.end_byte) for n in iter_error_nodes(raw_root)]
    norm_errors = [(n.start_byte, n.end_byte) for n in iter_error_nodes(norm_root)]
    totals = [0, 0, 0, 0, 0, 0]
    for i, brace in enumerate(opens):
        header_start = 0
        for m in _HEADER_BREAK.finditer(chunk, 0, brace):
            header_start = m.end()
        end = opens[i + 1] if i + 1 < len(opens) else len(chunk)
        clean_raw = not any(s < end and e > header_start for s, e in raw_errors)
        clean = not any(s < end and e > header_start for s, e in norm_errors)
        is_target = target_call.search(chunk, brace, end) is not None
        totals[0] += 1
        totals[1] += clean_raw
        totals[2] += clean
        if is_target:
            totals[3] += 1
            totals[4] += clean_raw
            totals[5] += clean
    return ParseStats(*totals)
