"""The tree index the rules query: which functions, calls, struct initializers and
macros matter (built by migrator.index.build).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from migrator.model import CallSite, FunctionDef, MacroDef, ParsedFile, ParseStats, StructInit


@dataclass(frozen=True, slots=True)
class IndexRequest:
    """What the rules need indexed."""

    names: frozenset[str]  # call targets and other identifiers that select chunks
    root_members: frozenset[str] = frozenset()  # "foo_ops.create": parse the callbacks
    stats_targets: frozenset[str] = frozenset()  # calls that make a function a "target function"
    # A function calling one of these (the pack's lock calls) is a boundary: the paths the
    # rules follow run under that lock, so they cannot pass through it; its callers are
    # not searched.
    boundaries: frozenset[str] = frozenset()
    # Requested names whose callers are searched in the same file only (wide APIs such
    # as device lookups, whose interesting callers are local helpers of a callback).
    local_names: frozenset[str] = frozenset()
    # Callers of the functions found are searched in the files that mention one of these
    # (e.g. "net_device"): a caller elsewhere cannot be on a path the rules follow in
    # practice, and searching the whole tree for hundreds of names costs seconds a round.
    scope_names: frozenset[str] = frozenset()


@dataclass(slots=True)
class TreeIndex:
    root: Path
    files: dict[str, ParsedFile] = field(default_factory=dict)
    functions_by_name: dict[str, list[FunctionDef]] = field(default_factory=dict)
    calls_by_function: dict[tuple[str, str], list[CallSite]] = field(default_factory=dict)
    inits: list[StructInit] = field(default_factory=list)
    macros_by_name: dict[str, list[MacroDef]] = field(default_factory=dict)
    stats: ParseStats = field(default_factory=ParseStats)
    skipped: list[str] = field(default_factory=list)  # "path: reason"
    rounds: int = 0
    _sources: dict[str, bytes] = field(default_factory=dict, repr=False)
    _macro_calls: list[CallSite] | None = field(default=None, repr=False)

    # -- queries ---------------------------------------------------------------------------

    def source(self, path: str) -> bytes:
        if path not in self._sources:
            self._sources[path] = (self.root / path).read_bytes()
        return self._sources[path]

    def functions(self) -> Iterator[FunctionDef]:
        for defs in self.functions_by_name.values():
            yield from defs

    def calls(self) -> Iterator[CallSite]:
        for calls in self.calls_by_function.values():
            yield from calls

    def masked_calls(self) -> Iterator[CallSite]:
        """Calls in `#if` arms the parse could not read (CallSite.masked_arm): never in
        calls(), never edited; the engine lists those a rule selects for review."""
        for parsed in self.files.values():
            yield from parsed.masked_calls

    def calls_in(self, fn: FunctionDef) -> list[CallSite]:
        return self.calls_by_function.get((fn.file, fn.name), [])

    def function(self, file: str, name: str) -> FunctionDef | None:
        for fn in self.functions_by_name.get(name, []):
            if fn.file == file:
                return fn
        return None

    def containing(self, file: str, offset: int) -> FunctionDef | None:
        for fn in self.files[file].functions if file in self.files else []:
            if fn.start <= offset < fn.end:
                return fn
        return None

    def inits_of(self, struct_type: str) -> list[StructInit]:
        return [s for s in self.inits if s.struct_type == struct_type]

    def macro(self, file: str, name: str) -> MacroDef | None:
        """The function-like macro `name` a use in `file` expands: the file's own
        definition, else a header's (the first by path when several headers define it)."""
        defs = self.macros_by_name.get(name, [])
        own = [m for m in defs if m.file == file]
        if own:
            return own[0]
        return next((m for m in defs if m.file.endswith(".h")), None)

    def macro_calls(self) -> list[CallSite]:
        """Calls hidden in macros: for each use `NAME(...)` in a function of a macro whose
        body calls `f` (directly or through other macros), a CallSite of `f` at the use,
        with the macros as `via_macro`. Function calls made in the body are not followed
        further here (CallGraph.reach follows them): the macro's text is shared, such a
        use is a site for a human."""
        if self._macro_calls is None:
            out = []
            for call in self.calls():
                if call.via_member or call.callee not in self.macros_by_name:
                    continue
                for callee, chain in self.expand_macro(call.file, call.callee):
                    out.append(replace(call, callee=callee,
                                       via_macro=tuple(m.describe() for m in chain)))
            self._macro_calls = out
        return self._macro_calls

    def expand_macro(self, file: str, name: str, chain: tuple[MacroDef, ...] = ()
                     ) -> list[tuple[str, tuple[MacroDef, ...]]]:
        """(name called, macros from the use to the call) for each call in the text of the
        macro `name` used in `file`, macros it uses expanded (cycles and depth bounded)."""
        macro = self.macro(file, name)
        if macro is None or macro in chain or len(chain) > 8:
            return []
        chain = (*chain, macro)
        out: list[tuple[str, tuple[MacroDef, ...]]] = []
        for callee in macro.calls:
            out.append((callee, chain))
            if callee in self.macros_by_name:
                out.extend(self.expand_macro(macro.file, callee, chain))
        return out

    # -- construction ----------------------------------------------------------------------

    def _add(self, parsed: ParsedFile) -> None:
        self.files[parsed.path] = parsed
        for fn in parsed.functions:
            self.functions_by_name.setdefault(fn.name, []).append(fn)
        for call in parsed.calls:
            self.calls_by_function.setdefault((parsed.path, call.caller), []).append(call)
        self.inits.extend(parsed.inits)
        for macro in parsed.macros:
            self.macros_by_name.setdefault(macro.name, []).append(macro)
        self.stats = self.stats + parsed.stats
