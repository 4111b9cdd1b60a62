"""Completeness of a series (SPEC §7): what added lines use is declared, what they
declare `extern` is defined.

Reads only the tree after the series and the added lines, and the API's names as data
(rules/data/api.toml); never the code that made the edits. Declarations are found in
tree-sitter parse trees of the files (chunk by chunk, see migrator/chunks.py), not by
searching their text: a member belongs to a struct when it is a field of that struct's
own body, so a member added to the struct that follows is caught.

Checks, per added line (comments and string literals ignored):

* an API function, object or macro it names is declared in the file itself or in a
  header under include/ (the API's own header first);
* a `struct X` of the API it names is defined in full (its members are used);
* `->m`, `.m` or `.m =` for a member the migration adds to a kernel struct
  (`struct_type.member`, as the pack's API declares them) is a field of that struct;
  `obj.m` / `obj->m` on an API object is a field of the object's struct;
* an object it declares `extern` has a file-scope definition (neither `extern` nor
  `static`) in a .c file of the tree.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter

from migrator.model.errors import read_toml
from migrator.parse.tree import (
    chunk_trees,
    declarator_name,
    is_function_declarator,
    parse,
    walk,
)
from migrator.verify.model import Violation

CHECK = "complete"
Node = tree_sitter.Node

# --- the API, as data ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Api:
    name: str = ""  # whose API: the pack's name
    functions: dict[str, str] = field(default_factory=dict)  # name -> header
    objects: dict[str, tuple[str, str]] = field(default_factory=dict)  # -> (struct, header)
    macros: dict[str, str] = field(default_factory=dict)
    structs: dict[str, str] = field(default_factory=dict)
    members: dict[str, tuple[str, str]] = field(default_factory=dict)  # member -> (struct, hdr)


def load_api(path: Path, name: str = "") -> Api:
    """The API names a pack declares (its data/api.toml: [[header]] tables with path,
    functions, objects, macros, structs, members). Raises MigratorError naming the file
    when it cannot be read."""
    data = read_toml(path, "the API names")
    api = Api(name=name)
    for header in data.get("header", []):
        where = str(header["path"])
        api.functions.update(dict.fromkeys(header.get("functions", []), where))
        api.objects.update({n: (t, where) for n, t in header.get("objects", {}).items()})
        api.macros.update(dict.fromkeys(header.get("macros", []), where))
        api.structs.update(dict.fromkeys(header.get("structs", []), where))
        for struct, names in header.get("members", {}).items():
            api.members.update({n: (struct, where) for n in names})
    return api


# --- reading and parsing the tree after the series ----------------------------------------------


class _Tree:
    """Files of the tree after the series, parsed on demand, chunk by chunk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._src: dict[str, bytes | None] = {}
        self._headers: list[str] | None = None
        self._grep: dict[str, list[str]] = {}

    def source(self, path: str) -> bytes | None:
        if path not in self._src:
            try:
                self._src[path] = (self.root / path).read_bytes()
            except OSError:
                self._src[path] = None
        return self._src[path]

    def trees(self, path: str, word: str) -> Iterator[tree_sitter.Tree]:
        src = self.source(path)
        if src is None or word.encode() not in src:
            return
        yield from chunk_trees(src, word)

    def files_naming(self, word: str, suffix: str, under: str = "") -> list[str]:
        """Files (relative paths) under `under` ending in `suffix` that contain `word`."""
        cache_key = f"{under}\0{suffix}\0{word}"
        if cache_key not in self._grep:
            self._grep[cache_key] = self._git_grep(word, suffix, under)
        return self._grep[cache_key]

    def _git_grep(self, word: str, suffix: str, under: str) -> list[str]:
        spec = f"{under}*{suffix}" if under else f"*{suffix}"
        try:
            out = subprocess.run(
                ["git", "-C", str(self.root), "grep", "-l", "-w", "-F", "--untracked",
                 "-e", word, "--", spec],
                capture_output=True, text=True, check=False)
        except OSError:
            out = None
        if out is not None and out.returncode in (0, 1) and not out.stderr.strip():
            return sorted(out.stdout.split())
        base = self.root / under if under else self.root
        found = []
        for path in sorted(base.rglob(f"*{suffix}")):
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if re.search(rb"\b" + re.escape(word.encode()) + rb"\b", data):
                found.append(path.relative_to(self.root).as_posix())
        return found


def _text(node: Node | None) -> str:
    return (node.text or b"").decode("utf-8", "replace") if node is not None else ""


_LOCAL = frozenset({"compound_statement", "field_declaration_list", "parameter_list",
                    "initializer_list", "argument_list"})


def _file_scope(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in _LOCAL:
            return False
        parent = parent.parent
    return True


def _declarators(node: Node) -> Iterator[Node]:
    for decl in node.children_by_field_name("declarator"):
        inner = decl.child_by_field_name("declarator") if decl.type == "init_declarator" \
            else None
        yield inner if inner is not None else decl



def _storage(node: Node) -> set[str]:
    return {_text(c) for c in node.named_children if c.type == "storage_class_specifier"}


def _declares(tree: tree_sitter.Tree, name: str, kind: str) -> Node | None:
    """A file-scope declaration of `name` as a function, object, macro or full struct."""
    for node in walk(tree.root_node):
        if node.type in ("preproc_def", "preproc_function_def") and kind != "struct":
            if _text(node.child_by_field_name("name")) == name:
                return node
        elif kind == "struct" and node.type == "struct_specifier":
            if _text(node.child_by_field_name("name")) == name and \
                    node.child_by_field_name("body") is not None:
                return node
        elif kind == "function" and node.type == "function_definition":
            if declarator_name(node.child_by_field_name("declarator"))[0] == name and \
                    _file_scope(node):
                return node
        elif kind in ("function", "object") and node.type == "declaration" and \
                _file_scope(node):
            for decl in _declarators(node):
                if declarator_name(decl)[0] != name:
                    continue
                if is_function_declarator(decl) == (kind == "function"):
                    return node
    return None


def _definition(tree: tree_sitter.Tree, name: str) -> Node | None:
    """A file-scope definition of object `name`: neither `extern` nor `static`."""
    for node in walk(tree.root_node):
        if node.type != "declaration" or not _file_scope(node) or \
                _storage(node) & {"extern", "static"}:
            continue
        for decl in _declarators(node):
            if not is_function_declarator(decl) and declarator_name(decl)[0] == name:
                return node
    return None


def _fields(body: Node) -> Iterator[tuple[str, Node]]:
    """(name, field_declaration) of a struct body, through preprocessor groups and
    anonymous struct/union members, never into named nested structs' own bodies."""
    for child in body.named_children:
        if child.type == "field_declaration":
            names = [declarator_name(d)[0] for d in child.children_by_field_name("declarator")]
            for name in names:
                if name:
                    yield name, child
            kind = child.child_by_field_name("type")
            if not any(names) and kind is not None and kind.type in ("struct_specifier",
                                                                      "union_specifier"):
                inner = kind.child_by_field_name("body")
                if inner is not None:
                    yield from _fields(inner)
        elif child.type.startswith("preproc_") or child.type == "ERROR":
            yield from _fields(child)


def _struct_bodies(tree: tree_sitter.Tree) -> Iterator[tuple[str, Node, Node]]:
    for node in walk(tree.root_node):
        if node.type in ("struct_specifier", "union_specifier"):
            body = node.child_by_field_name("body")
            if body is not None:
                yield _text(node.child_by_field_name("name")), node, body


# --- the added lines ----------------------------------------------------------------------------

_NOISE = re.compile(r'/\*.*?(?:\*/|$)|//.*$|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
_IDENT = re.compile(r"(?<![\w.>])(?<!->)([A-Za-z_]\w*)")
_STRUCT = re.compile(r"\bstruct\s+([A-Za-z_]\w*)")
_MEMBER = re.compile(r"(?:(\b[A-Za-z_]\w*)\s*)?(->|\.)\s*([A-Za-z_]\w*)")


_COMMENT_LINE = re.compile(r"^\s*\*(?:[ \t/]|$)")


def _code(line: str) -> str:
    """The line without comments and literals (a ` * ...` line continues a comment)."""
    if _COMMENT_LINE.match(line):
        return ""
    return _NOISE.sub(lambda m: " " * len(m.group(0)), line)


def _extern_objects(line: str) -> list[str]:
    if not re.search(r"\bextern\b", line):
        return []
    tree = parse(line.encode())
    names = []
    for node in walk(tree.root_node):
        if node.type == "declaration" and "extern" in _storage(node):
            names += [declarator_name(d)[0] for d in _declarators(node)
                      if not is_function_declarator(d)]
    return [n for n in names if n]


# --- the check ----------------------------------------------------------------------------------


class _Checker:
    def __init__(self, root: Path, api: Api) -> None:
        self.tree = _Tree(root)
        self.api = api
        self._declared: dict[tuple[str, str, str], str | None] = {}
        self._structs: dict[tuple[str, str], tuple[str, Node] | None] = {}

    def declared(self, file: str, name: str, kind: str, header: str) -> str | None:
        """Where `name` is declared (path:line) for a use in `file`, else None."""
        cache_key = (file, name, kind)
        if cache_key not in self._declared:
            self._declared[cache_key] = self._find(file, name, kind, header)
        return self._declared[cache_key]

    def _find(self, file: str, name: str, kind: str, header: str) -> str | None:
        places = [file, header]
        places += [p for p in self.tree.files_naming(name, ".h", "include/")
                   if p not in places]
        for path in places:
            for tree in self.tree.trees(path, name):
                node = _declares(tree, name, kind)
                if node is not None:
                    return f"{path}:{node.start_point[0] + 1}"
        return None

    def struct(self, name: str, header: str) -> tuple[str, Node] | None:
        """(path, body) of the full definition of `struct name`."""
        cache_key = (name, header)
        if cache_key not in self._structs:
            self._structs[cache_key] = None
            places = [header, *[p for p in self.tree.files_naming(name, ".h", "include/")
                                if p != header]]
            for path in places:
                for tree in self.tree.trees(path, name):
                    for found, _, body in _struct_bodies(tree):
                        if found == name:
                            self._structs[cache_key] = (path, body)
                            break
                    if self._structs[cache_key] is not None:
                        break
                if self._structs[cache_key] is not None:
                    break
        return self._structs[cache_key]

    def member_owners(self, path: str, member: str) -> list[str]:
        """Structs of `path` that do have `member` (evidence for a misplaced member)."""
        out = []
        for tree in self.tree.trees(path, member):
            for name, node, body in _struct_bodies(tree):
                if any(n == member for n, _ in _fields(body)):
                    out.append(f"{path}:{node.start_point[0] + 1} struct {name or '<anon>'} "
                               f"has {member}")
        return out

    def check_member(self, file: str, line: int, struct: str, member: str, header: str,
                     use: str) -> Violation | None:
        found = self.struct(struct, header)
        if found is None:
            return Violation(CHECK, file, None, line,
                             f"{use}: struct {struct} is not defined under include/",
                             (f"expected in {header}",))
        path, body = found
        if any(n == member for n, _ in _fields(body)):
            return None
        return Violation(
            CHECK, file, None, line,
            f"{use}: struct {struct} has no member {member} after the series",
            (f"{path}:{body.start_point[0] + 1} struct {struct} defined here, without "
             f"{member}", *self.member_owners(path, member)))

    def defined_in_c(self, name: str) -> str | None:
        for path in self.tree.files_naming(name, ".c"):
            for tree in self.tree.trees(path, name):
                node = _definition(tree, name)
                if node is not None:
                    return f"{path}:{node.start_point[0] + 1}"
        return None

    def line(self, file: str, number: int, text: str) -> Iterator[Violation]:
        api = self.api
        code = _code(text)
        seen: set[str] = set()
        for m in _IDENT.finditer(code):
            name = m.group(1)
            if name in seen:
                continue
            seen.add(name)
            for kind, table in (("function", api.functions), ("object", api.objects),
                                ("macro", api.macros)):
                if name not in table:
                    continue
                value = table[name]
                header = value[1] if isinstance(value, tuple) else value
                if self.declared(file, name, kind, header) is None:
                    yield Violation(CHECK, file, None, number,
                                    f"{name} ({kind} of the {api.name} API) is used but not "
                                    "declared after the series",
                                    (f"expected in {header} or {file}", text.strip()))
        structs: set[str] = set()
        for m in _STRUCT.finditer(code):
            name = m.group(1)
            if name in api.structs and name not in structs:
                structs.add(name)
                if self.struct(name, api.structs[name]) is None:
                    yield Violation(CHECK, file, None, number,
                                    f"struct {name} is used but not defined in full after "
                                    "the series",
                                    (f"expected in {api.structs[name]}", text.strip()))
        for m in _MEMBER.finditer(code):
            base, op, member = m.group(1), m.group(2), m.group(3)
            if base in api.objects:
                struct, header = api.objects[base]
                if struct in api.structs:
                    header = api.structs[struct]
                bad = self.check_member(file, number, struct, member, header,
                                        f"{base}{op}{member}")
            elif member in api.members:
                struct, header = api.members[member]
                bad = self.check_member(file, number, struct, member, header,
                                        f"{op}{member}")
            else:
                continue
            if bad is not None:
                yield bad
        for name in _extern_objects(code):
            if self.defined_in_c(name) is None:
                yield Violation(CHECK, file, None, number,
                                f"extern object {name} is declared but never defined in "
                                "the tree's .c files after the series",
                                ("a file-scope definition (neither extern nor static) "
                                 "is needed, exported when modules use it", text.strip()))


def check_completeness(tree_after: Path,
                       added: Mapping[str, Sequence[tuple[int, str]]],
                       api: Api) -> list[Violation]:
    """`added` maps each file the series touches (relative path) to its added lines
    as (1-based line in the patched file, text); `api` the pack's names (load_api).
    Returns the violations."""
    checker = _Checker(tree_after, api)
    out: list[Violation] = []
    for file in sorted(added):
        reported: set[str] = set()  # one finding per file and fault: its first line
        for number, text in added[file]:
            for violation in checker.line(file, number, text):
                if violation.message not in reported:
                    reported.add(violation.message)
                    out.append(violation)
    return out
