"""Call resolution and reachability over the tree index, with call chains as evidence."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from migrator.index.tree_index import TreeIndex
from migrator.model import CallSite, FunctionDef, StructInit
from migrator.model.srctext import CODEC

_STRUCT_TYPE = re.compile(r"\bstruct\s+(\w+)\s*\*")

FnKey = tuple[str, str]  # (file, function name)


def key(fn: FunctionDef) -> FnKey:
    return (fn.file, fn.name)


@dataclass(frozen=True, slots=True)
class Root:
    """A callback assigned in an initializer: `.newlink = veth_newlink`."""

    function: FunctionDef
    init: StructInit
    member: str

    def describe(self) -> str:
        return (f"{self.init.struct_type} {self.init.var or '(anonymous)'} "
                f"({self.init.file}:{self.init.line}) .{self.member} = {self.function.name}")


class CallGraph:
    def __init__(self, index: TreeIndex) -> None:
        self.index = index
        self._members: dict[str, list[tuple[StructInit, str]]] = {}
        for init in index.inits:
            for member, value in init.members:
                if value.isidentifier():
                    self._members.setdefault(member.rsplit(".", 1)[-1], []).append((init, value))
        self._callers: dict[FnKey, list[CallSite]] | None = None
        self._types: dict[tuple[str, str, str], str | None] = {}

    def resolve_name(self, file: str, name: str) -> list[FunctionDef]:
        """A static definition in the same file wins; else every global definition."""
        defs = self.index.functions_by_name.get(name, [])
        same_file = [f for f in defs if f.file == file and f.is_static]
        if same_file:
            return same_file
        return [f for f in defs if not f.is_static]

    def resolve(self, call: CallSite) -> list[FunctionDef]:
        if not call.via_member:
            return self.resolve_name(call.file, call.callee)
        struct_type = self._receiver_type(call)
        out: list[FunctionDef] = []
        for init, value in self._members.get(call.callee, []):
            if struct_type and init.struct_type != struct_type:
                continue
            out.extend(self.resolve_name(init.file, value))
        return out

    def _receiver_type(self, call: CallSite) -> str | None:
        """`struct X` of a plain identifier receiver declared in the caller, or of a field
        receiver (`wwandev->ops`) whose field is declared with one struct type in the
        caller's file (`const struct wwan_ops *ops;`, looked up in the struct of the base
        variable when that struct is defined there), else None."""
        memo = (call.file, call.caller, call.receiver)
        if memo not in self._types:
            self._types[memo] = self._receiver_type_uncached(call)
        return self._types[memo]

    def _receiver_type_uncached(self, call: CallSite) -> str | None:
        if not call.receiver.isidentifier():
            field = re.search(r"(?:->|\.)\s*(\w+)$", call.receiver)
            if field is None:
                return None
            src = self.index.source(call.file).decode(*CODEC)
            decl = r"\bstruct\s+(\w+)\s*\*\s*" + field.group(1) + r"\s*;"
            base = re.match(r"(\w+)\s*->\s*\w+$", call.receiver)
            owner = self._declared_type(call, base.group(1)) if base else None
            body = re.search(r"\bstruct\s+" + owner + r"\s*\{(.*?)\n\};", src, re.S) \
                if owner else None
            types = set(re.findall(decl, body.group(1) if body else src))
            return types.pop() if len(types) == 1 else None
        return self._declared_type(call, call.receiver)

    def _declared_type(self, call: CallSite, name: str) -> str | None:
        fn = self.index.function(call.file, call.caller)
        if fn is None:
            return None
        for decl in (*fn.params, *fn.locals):
            if decl.name == name:
                match = _STRUCT_TYPE.search(decl.type)
                return match.group(1) if match else None
        return None

    def roots(self, members: Iterable[str]) -> list[Root]:
        """Functions assigned to `struct_type.member` in initializers, e.g.
        "foo_ops.create"."""
        out = []
        for spec in members:
            struct_type, member = spec.split(".", 1)
            for init in self.index.inits_of(struct_type):
                for name, value in init.members:
                    if name == member and value.isidentifier():
                        for fn in self.resolve_name(init.file, value):
                            out.append(Root(fn, init, member))
        return out

    def reach(self, roots: list[Root]) -> dict[FnKey, list[str]]:
        """Every function reachable from the roots, with the shortest call chain to it."""
        chains: dict[FnKey, list[str]] = {}
        queue: deque[FunctionDef] = deque()
        for root in sorted(roots, key=lambda r: (r.function.file, r.function.name)):
            k = key(root.function)
            if k not in chains:
                chains[k] = [root.function.name]
                queue.append(root.function)
        while queue:
            fn = queue.popleft()
            for call in self.index.calls_in(fn):
                for callee in self.resolve(call) or self._through_macro(call):
                    k = key(callee)
                    if k not in chains:
                        chains[k] = [*chains[key(fn)], callee.name]
                        queue.append(callee)
        return chains

    def _through_macro(self, call: CallSite) -> list[FunctionDef]:
        """Functions a use of a function-like macro calls in its text (macros inside it
        expanded): reached from the function using the macro. (Only reachability follows
        them; callers() does not list the use as a call of those functions.)"""
        if call.via_member or self.index.macro(call.file, call.callee) is None:
            return []
        out: list[FunctionDef] = []
        for name, chain in self.index.expand_macro(call.file, call.callee):
            out.extend(self.resolve_name(chain[-1].file, name))
        return out

    def callers(self, fn: FunctionDef) -> list[CallSite]:
        """Calls in the index that resolve to `fn`."""
        if self._callers is None:
            self._callers = {}
            for call in self.index.calls():
                for callee in self.resolve(call):
                    self._callers.setdefault(key(callee), []).append(call)
        return self._callers.get(key(fn), [])
