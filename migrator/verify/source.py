"""Source-level checks of one rewritten file: lock balance and preserved bytes.

Interface used by the series writer (refuse a rewrite) and by ``migrate
verify`` (check a written series). Reads only the original and the patched
text and the declared acquire/release pairs (rules/pairs/locks.toml).

Every function whose text changed (functions are matched by name, and by order
among same-named definitions) is checked: it must still parse, its lock balance
on every path must have no finding the original function does not already have
(kernel functions may legitimately return holding a lock their caller drops),
and its comments and preprocessor lines must survive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import tree_sitter

from migrator.model.errors import MigratorError, read_toml
from migrator.parse.chunks import split_top_level
from migrator.parse.tree import declarator_name, parse
from migrator.verify import preserve
from migrator.verify.cfg import build_cfg
from migrator.verify.locks import check_function
from migrator.verify.model import LockPair, Violation

_HELD_ON = ("always", "true", "zero")
_PATH_SHOWN = 60  # lines of a path given in evidence


def load_pairs(path: Path) -> tuple[LockPair, ...]:
    """The acquire/release pairs a pack declares (its data/locks.toml: [[pair]] tables);
    none when there is no such file."""
    if not path.is_file():
        return ()
    data = read_toml(path, "lock pairs")
    entries = data.get("pair", [])
    if not isinstance(entries, list):
        raise MigratorError(f"{path}: 'pair' must be an array of tables ([[pair]])")
    pairs = []
    for index, entry in enumerate(entries):
        where = f"{path}: pair[{index}]"
        if not isinstance(entry, dict):
            raise MigratorError(f"{where} must be a table")
        unknown = set(entry) - {"acquire", "release", "held_on", "arg", "release_arg",
                                "on_failure_only", "only", "acquire_member", "drops", "ends"}
        if unknown:
            raise MigratorError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        for name in ("acquire", "release"):
            if not isinstance(entry.get(name), str) or not entry[name]:
                raise MigratorError(f"{where}: field '{name}' must be a non-empty string")
        held_on = entry.get("held_on", "always")
        if held_on not in _HELD_ON:
            raise MigratorError(f"{where}: field 'held_on' must be one of {', '.join(_HELD_ON)}")
        for name in ("arg", "release_arg"):
            value = entry.get(name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or value < 0):
                raise MigratorError(f"{where}: field '{name}' must be an argument index")
        for name in ("only", "acquire_member"):
            if entry.get(name) is not None and not isinstance(entry[name], str):
                raise MigratorError(f"{where}: field '{name}' must be a string")
        for name in ("drops", "ends"):
            value = entry.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise MigratorError(f"{where}: field '{name}' must be a list of names")
        if not isinstance(entry.get("on_failure_only", False), bool):
            raise MigratorError(f"{where}: field 'on_failure_only' must be true or false")
        pairs.append(LockPair(
            acquire=entry["acquire"], release=entry["release"], held_on=held_on,
            arg=entry.get("arg"), release_arg=entry.get("release_arg"),
            on_failure_only=entry.get("on_failure_only", False), only=entry.get("only"),
            acquire_member=entry.get("acquire_member"), drops=tuple(entry.get("drops", [])),
            ends=tuple(entry.get("ends", [])),
        ))
    return tuple(pairs)


# --- functions of a file ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Function:
    """One function definition of a file, with the tree of its (normalised) chunk."""

    name: str
    start: int  # byte range in the file
    end: int
    line: int  # 1-based line of the definition's first byte
    chunk: bytes  # the top-level chunk it was parsed from
    line_base: int  # lines before the chunk
    node: tree_sitter.Node  # function_definition, offsets relative to the chunk
    has_error: bool

    @property
    def text(self) -> bytes:
        return self.chunk[self.node.start_byte:self.node.end_byte]


def _definitions(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    for child in node.children:
        if child.type == "function_definition":
            yield child
        elif child.type.startswith("preproc_") or child.type in ("linkage_specification",
                                                                   "declaration_list"):
            yield from _definitions(child)


def _name(node: tree_sitter.Node) -> str:
    declarator = node.child_by_field_name("declarator")
    while declarator is not None and declarator.type != "function_declarator":
        declarator = declarator.child_by_field_name("declarator")
    if declarator is None:
        return ""
    name, _ = declarator_name(declarator.child_by_field_name("declarator"))
    return name


def functions(src: bytes, skip: frozenset[bytes] = frozenset()) -> list[Function]:
    """Every function definition of a C file, in order (not those of the top-level
    chunks whose text is in `skip`)."""
    out: list[Function] = []
    for start, end in split_top_level(src):
        chunk = src[start:end]
        if b"(" not in chunk or b"{" not in chunk or chunk in skip:
            continue
        line_base = src.count(b"\n", 0, start)
        root = parse(chunk).root_node
        for node in _definitions(root):
            name = _name(node)
            if name:
                out.append(Function(name, start + node.start_byte, start + node.end_byte,
                                    line_base + node.start_point.row + 1, chunk, line_base,
                                    node, node.has_error))
    return out


def _chunks(src: bytes) -> set[bytes]:
    return {src[start:end] for start, end in split_top_level(src)}


def function_spans(src: bytes) -> list[tuple[str, int, int]]:
    """(name, start, end) of every function definition of `src`."""
    return [(f.name, f.start, f.end) for f in functions(src)]


def _keyed(found: list[Function]) -> dict[tuple[str, int], Function]:
    counts: dict[str, int] = {}
    out: dict[tuple[str, int], Function] = {}
    for function in found:
        index = counts.get(function.name, 0)
        counts[function.name] = index + 1
        out[(function.name, index)] = function
    return out


def _renamed(old: dict[tuple[str, int], Function], new: dict[tuple[str, int], Function]
             ) -> dict[tuple[str, int], tuple[str, int]]:
    """New key -> old key for functions a rewrite renamed: the functions that vanished
    and those that appeared, paired in source order (a migration may rename a
    callback, e.g. to the name of the hook it now implements)."""
    gone = sorted((k for k in old if k not in new), key=lambda k: old[k].line)
    added = sorted((k for k in new if k not in old), key=lambda k: new[k].line)
    return dict(zip(added, gone, strict=False))


def _path_text(path: tuple[int, ...]) -> str:
    shown = ", ".join(str(line) for line in path[:_PATH_SHOWN])
    more = f", ... ({len(path) - _PATH_SHOWN} more)" if len(path) > _PATH_SHOWN else ""
    return f"path (lines of the rewritten file): {shown}{more}"


def _short(text: str, width: int = 60) -> str:
    first = " ".join(text.split("\n", 1)[0].split())
    return f"`{first if len(first) <= width else first[:width - 3] + '...'}`"


def _line_text(src: bytes, line: int) -> str:
    lines = src.split(b"\n")
    if 1 <= line <= len(lines):
        return lines[line - 1].decode("utf-8", "replace").strip()
    return ""


def _lock_violations(path: str, patched: bytes, new: Function, old: Function | None,
                     pairs: Sequence[LockPair]) -> list[Violation]:
    cfg = build_cfg(new.chunk, new.node, new.line_base, new.name)
    found = check_function(cfg, new.chunk, pairs, new.line_base)
    if not found:
        return []
    before: set[object] = set()
    if old is not None:
        old_cfg = build_cfg(old.chunk, old.node, old.line_base, old.name)
        before = {f.key for f in check_function(old_cfg, old.chunk, pairs, old.line_base)}
    out = []
    for finding in found:
        if finding.key in before:
            continue
        where = _line_text(patched, finding.line)
        out.append(Violation(
            check="lock-balance", file=path, function=new.name, line=finding.line,
            message=f"{new.name}(): {finding.describe()} (line {finding.line})",
            evidence=(_path_text(finding.path),
                      f"{path}:{finding.line}: {where}" if where else f"{path}:{finding.line}"),
        ))
    return out


def _without(src: bytes, parsed: Iterable[Function]) -> bytes:
    """`src` with the parsed functions' text blanked (newlines kept: same lines)."""
    out = bytearray(src)
    for function in parsed:
        out[function.start:function.end] = bytes(
            0x0A if byte == 0x0A else 0x20 for byte in src[function.start:function.end])
    return bytes(out)


def _outside_functions(path: str, original: bytes, patched: bytes,
                       old: Iterable[Function], new: Iterable[Function]) -> list[Violation]:
    """Comments and directives lost outside the functions checked one by one
    (initializers, declarations, headers): reported for the file (function None)."""
    out = []
    for loss in preserve.check(_without(original, old), _without(patched, new)):
        out.append(Violation(
            check="preserve", file=path, function=None, line=loss.item.line,
            message=f"{path}: {loss.what} {_short(loss.item.text)} (line {loss.item.line}) "
                    f"{loss.problem} by the rewrite",
            evidence=(f"original {path}:{loss.item.line}: {_short(loss.item.text, 100)}",)))
    return out


def check_rewrite(path: str, original: bytes, patched: bytes,
                  pairs: Sequence[LockPair]) -> list[Violation]:
    """Violations the rewrite of `path` (original -> patched bytes) introduces,
    in every function whose text changed."""
    if original == patched:
        return []
    same = frozenset(_chunks(original) & _chunks(patched))  # untouched: not parsed
    old_functions = _keyed(functions(original, same))
    new_functions = _keyed(functions(patched, same))
    renamed = _renamed(old_functions, new_functions)
    violations: list[Violation] = []
    for key, new in new_functions.items():
        old = old_functions.get(renamed.get(key, key))
        if old is not None and old.text == new.text:
            continue
        if new.has_error and (old is None or not old.has_error):
            violations.append(Violation(
                check="parse", file=path, function=new.name, line=new.line,
                message=f"{new.name}(): the rewritten function no longer parses",
                evidence=(f"{path}:{new.line}: {_line_text(patched, new.line)}",)))
        if old is not None:
            for loss in preserve.check(old.text, new.text, old.line - 1):
                violations.append(Violation(
                    check="preserve", file=path, function=new.name, line=new.line,
                    message=f"{new.name}(): {loss.what} {_short(loss.item.text)} "
                            f"(line {loss.item.line}) {loss.problem} by the rewrite",
                    evidence=(f"original {path}:{loss.item.line}: "
                              f"{loss.item.text.splitlines()[0] if loss.item.text else ''}",
                              f"rewritten function starts at {path}:{new.line}")))
        if not new.has_error:
            violations.extend(_lock_violations(path, patched, new, old, pairs))
    violations.extend(_outside_functions(path, original, patched, old_functions.values(),
                                         new_functions.values()))
    for key, old in old_functions.items():
        if key not in new_functions and key not in renamed.values():
            if not preserve.items(old.text) and not re.search(
                    rb"\b%s\b" % re.escape(old.name.encode()), patched):
                continue  # removed whole: nothing names it any more, no comment lost
            violations.append(Violation(
                check="parse", file=path, function=old.name, line=old.line,
                message=f"{old.name}(): no longer found as a function after the rewrite",
                evidence=(f"original {path}:{old.line}: {_line_text(original, old.line)}",)))
    return violations
