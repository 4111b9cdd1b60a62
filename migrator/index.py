"""Tree index: which functions, calls and struct initializers matter, found fast.

Build steps (one way): discover candidate files with git grep for the names the
rules care about -> split them into top-level chunks -> parse only chunks that
mention a name of interest (in parallel, cached by chunk content) -> close the
set backwards: functions that call a name of interest become names of interest
themselves, and files mentioning them join, until nothing new appears.
"""

from __future__ import annotations

import bisect
import hashlib
import multiprocessing
import multiprocessing.pool
import os
import pickle
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from migrator import __version__
from migrator.chunks import split_top_level
from migrator.discover import grep_hits, is_git_tree, tree_fingerprint
from migrator.model import CallSite, FunctionDef, ParsedFile, ParseStats, StructInit
from migrator.parse import ChunkFacts, chunk_stats, extract_chunk
from migrator.progress import Progress

# Bump when extraction changes: cached chunk facts of older versions are ignored.
FACTS_VERSION = f"{__version__}-3"
MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class IndexRequest:
    """What the rules need indexed."""

    names: frozenset[str]  # call targets and other identifiers that select chunks
    root_members: frozenset[str] = frozenset()  # "rtnl_link_ops.newlink": parse the callbacks
    stats_targets: frozenset[str] = frozenset()  # calls that make a function a "target function"
    # A function calling one of these (rtnl_lock...) is a boundary: the paths the rules
    # follow run under RTNL, so they cannot pass through it; its callers are not searched.
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
    stats: ParseStats = field(default_factory=ParseStats)
    skipped: list[str] = field(default_factory=list)  # "path: reason"
    rounds: int = 0
    _sources: dict[str, bytes] = field(default_factory=dict, repr=False)

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

    # -- construction ----------------------------------------------------------------------

    def _add(self, parsed: ParsedFile) -> None:
        self.files[parsed.path] = parsed
        for fn in parsed.functions:
            self.functions_by_name.setdefault(fn.name, []).append(fn)
        for call in parsed.calls:
            self.calls_by_function.setdefault((parsed.path, call.caller), []).append(call)
        self.inits.extend(parsed.inits)
        self.stats = self.stats + parsed.stats


# --- building -------------------------------------------------------------------------------


@dataclass(slots=True)
class _FileState:
    chunks: list[tuple[int, int]]
    line_bases: list[int]  # 0-based line number at which each chunk starts
    keys: list[bytes]  # content key of each chunk
    parsed: set[int] = field(default_factory=set)  # chunk indexes parsed (or being parsed)
    facts: dict[int, ChunkFacts] = field(default_factory=dict)

    def chunk_of_line(self, line: int) -> int:
        return bisect.bisect_right(self.line_bases, line - 1) - 1


def _chunk_key(chunk: bytes) -> bytes:
    return hashlib.blake2b(chunk, digest_size=16, person=FACTS_VERSION.encode()[:16]).digest()


def read_source(root: Path, path: str) -> tuple[bytes | None, str]:
    """The file's bytes, or None and why it is skipped."""
    full = root / path
    try:
        if full.is_symlink():
            target = full.resolve()
            if not target.is_relative_to(root):
                return None, "symlink to outside the tree"
            if not target.exists():
                return None, "dangling symlink"
        size = full.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, f"larger than {MAX_FILE_BYTES >> 20} MB"
        src = full.read_bytes()
    except OSError as exc:
        return None, f"cannot read ({exc.strerror or exc})"
    except RuntimeError as exc:  # symlink loop
        return None, f"cannot read ({exc})"
    if b"\0" in src[:8192]:
        return None, "binary file"
    return src, ""


def _worker_init() -> None:
    """Pool workers die on SIGTERM and ignore ^C: the parent handles both (a handler
    inherited through fork, e.g. gitops.cleanup_on_signals, would make
    Pool.terminate() hang on a worker raising KeyboardInterrupt)."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _prepare_job(job: tuple[Path, str]) -> tuple[str, _FileState | None, str]:
    """Worker: read and split one file."""
    root, path = job
    src, reason = read_source(root, path)
    if src is None:
        return path, None, reason
    chunks = split_top_level(src)
    bases, keys, line = [], [], 0
    for start, end in chunks:
        bases.append(line)
        keys.append(_chunk_key(src[start:end]))
        line += src.count(b"\n", start, end)
    return path, _FileState(chunks, bases, keys), ""


def _parse_job(job: tuple[Path, str, list[tuple[int, int]]]
               ) -> list[tuple[int, ChunkFacts]] | str:
    """Worker: parse the given chunks of one file. Returns (chunk start, facts), or why
    the file could not be parsed (the other files' results are kept)."""
    root, path, spans = job
    try:
        src = (root / path).read_bytes()
        return [(start, extract_chunk(src[start:end])) for start, end in spans]
    except Exception as exc:  # a parser bug on one file must not lose the others
        return f"parser failed ({type(exc).__name__}: {exc})"


def _stats_job(job: tuple[Path, str, list[tuple[int, int]], str]) -> ParseStats:
    root, path, spans, pattern = job
    src = (root / path).read_bytes()
    target = re.compile(pattern.encode())
    total = ParseStats()
    for start, end in spans:
        total = total + chunk_stats(src[start:end], target)
    return total


class IndexBuilder:
    def __init__(
        self, root: Path, request: IndexRequest, *, jobs: int = 0,
        cache_dir: Path | None = None, progress: bool = False, stats: bool = False,
    ) -> None:
        self.root = root
        self.request = request
        self.jobs = jobs or os.cpu_count() or 1
        self.cache_dir = cache_dir
        self.progress = Progress(enabled=progress)
        self.stats = stats
        self.git = is_git_tree(root)
        self.index = TreeIndex(root=root)
        self._states: dict[str, _FileState] = {}
        self._chunk_cache: dict[bytes, ChunkFacts] = {}
        self._used_keys: set[bytes] = set()
        self._pool: multiprocessing.pool.Pool | None = None

    def _map(self, func, jobs: list) -> Iterable:  # type: ignore[no-untyped-def]
        if self._pool is not None and len(jobs) > 8:
            return self._pool.imap(func, jobs, chunksize=4)
        return map(func, jobs)

    # cache files: one per tree, pruned to the chunks this tree uses
    def _cache_path(self, kind: str) -> Path | None:
        if self.cache_dir is None:
            return None
        tag = hashlib.blake2b(str(self.root).encode(), digest_size=8).hexdigest()
        return self.cache_dir / f"{kind}-{tag}.pickle"

    def _load(self, kind: str) -> object | None:
        path = self._cache_path(kind)
        if path is None or not path.exists():
            return None
        try:
            with path.open("rb") as fh:
                data = pickle.load(fh)
            if not isinstance(data, dict) or data.get("version") != FACTS_VERSION:
                return None
            return data.get("payload")
        except Exception as exc:  # a corrupt or foreign cache file is rebuilt, not fatal
            print(f"migrate: warning: {path}: unreadable cache ({exc}), rebuilding",
                  file=sys.stderr)
            return None

    def _store(self, kind: str, payload: object) -> None:
        path = self._cache_path(kind)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            with tmp.open("wb") as fh:
                pickle.dump({"version": FACTS_VERSION, "payload": payload}, fh,
                            protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError as exc:
            print(f"migrate: warning: {path}: cannot write cache ({exc})", file=sys.stderr)

    def build(self) -> TreeIndex:
        started = time.monotonic()
        fingerprint = tree_fingerprint(self.root) if self.cache_dir else None
        request_key = (fingerprint, sorted(self.request.names), sorted(self.request.root_members),
                       self.stats)
        if fingerprint is not None:
            cached = self._load("index")
            if isinstance(cached, tuple) and cached[0] == request_key:
                index: TreeIndex = cached[1]
                index.root = self.root
                return index
        cached_chunks = self._load("chunks")
        if isinstance(cached_chunks, dict):
            self._chunk_cache = cached_chunks
        try:
            if self.jobs > 1:
                self._pool = multiprocessing.get_context("fork").Pool(
                    self.jobs, initializer=_worker_init)
            self._closure()
            if self.stats:
                self._collect_stats()
        finally:
            if self._pool is not None:
                self._pool.terminate()
                self._pool.join()
                self._pool = None
        self.progress.done(f"indexed {len(self._states)} files in "
                           f"{time.monotonic() - started:.1f}s")
        for path in sorted(self._states):
            self.index._add(self._parsed_file(path))
        self._store("chunks", {k: self._chunk_cache[k] for k in self._used_keys
                               if k in self._chunk_cache})
        if fingerprint is not None:
            self._store("index", (request_key, self.index))
        return self.index

    # -- closure -----------------------------------------------------------------------------

    def _closure(self) -> None:
        """Parse what mentions the requested names, then, round after round, what mentions
        the functions found to call them, until no new function appears."""
        searched_global: set[str] = set(self.request.names)
        searched_static: set[tuple[str, str]] = set()
        with ThreadPoolExecutor(2) as executor:  # two greps at once: they wait on I/O
            first = executor.submit(grep_hits, self.root, searched_global, git=self.git)
            scope_job = (executor.submit(grep_hits, self.root, self.request.scope_names,
                                         git=self.git, files_only=True)
                         if self.request.scope_names else None)
            hits = first.result()
            scope = set(scope_job.result()) if scope_job is not None else None
        self._parse_hits(hits)
        while True:
            self.index.rounds += 1
            global_names, static_defs = self._interesting()
            new_global = global_names - searched_global
            new_static = static_defs - searched_static
            if not new_global and not new_static:
                break
            if new_static:  # same-file callers first: no tree-wide search needed
                new_global = set()
            searched_global |= new_global
            searched_static |= new_static
            hits = (grep_hits(self.root, new_global, git=self.git,
                              paths=None if scope is None else scope | set(self._states))
                    if new_global else {})
            for path, name in new_static:
                hits.setdefault(path, []).extend(self._hits_in_file(path, name))
            if os.environ.get("MIGRATOR_DEBUG"):
                print(f"round {self.index.rounds}: +{len(new_global)} global names, "
                      f"+{len(new_static)} static, {len(hits)} files", file=sys.stderr)
            self._parse_hits(hits)

    def _hits_in_file(self, path: str, name: str) -> list[tuple[int, str]]:
        src = self.index.source(path)
        pattern = re.compile(rb"\b" + re.escape(name.encode()) + rb"\b")
        return [(src.count(b"\n", 0, m.start()) + 1, name) for m in pattern.finditer(src)]

    def _parse_hits(self, hits: dict[str, list[tuple[int, str]]]) -> None:
        new_paths = sorted(p for p in hits if p not in self._states)
        for path, state, reason in self._map(_prepare_job, [(self.root, p) for p in new_paths]):
            if state is None:
                self.index.skipped.append(f"{path}: {reason}")
                print(f"migrate: warning: {path}: {reason}; file not examined", file=sys.stderr)
                state = _FileState([], [], [])
            self._states[path] = state
        jobs: list[tuple[Path, str, list[tuple[int, int]]]] = []
        for path, lines in hits.items():
            state = self._states[path]
            if not state.chunks:
                continue
            todo = []
            for chunk_i in sorted({state.chunk_of_line(line) for line, _name in lines}):
                if chunk_i in state.parsed:
                    continue
                state.parsed.add(chunk_i)
                key = state.keys[chunk_i]
                self._used_keys.add(key)
                if key in self._chunk_cache:
                    state.facts[chunk_i] = self._chunk_cache[key]
                else:
                    todo.append(state.chunks[chunk_i])
            if todo:
                jobs.append((self.root, path, todo))
        self.progress.total += len(jobs)
        for (_root, path, _spans), results in zip(jobs, self._map(_parse_job, jobs), strict=True):
            state = self._states[path]
            if isinstance(results, str):
                self.index.skipped.append(f"{path}: {results}")
                print(f"migrate: warning: {path}: {results}; file not examined",
                      file=sys.stderr)
                for chunk_i in range(len(state.chunks)):
                    state.facts.pop(chunk_i, None)
                state.chunks = []  # not examined: no partial facts, no further rounds
                continue
            index_of = {start: i for i, (start, _end) in enumerate(state.chunks)}
            for start, facts in results:
                chunk_i = index_of[start]
                state.facts[chunk_i] = facts
                self._chunk_cache[state.keys[chunk_i]] = facts
            self.progress.step(path)

    def _interesting(self) -> tuple[set[str], set[tuple[str, str]]]:
        """Functions to look for callers of next: (global names, static (file, name)).

        The fixpoint of definitions that call a requested name or an interesting
        definition (a call resolves to the static function of the same file when there
        is one, else to every global definition), plus the callbacks named by the
        request's root members. Calls through a struct member (`ops->newlink(...)`)
        reach every function assigned to that member; such edges are followed from root
        callbacks only, and member names are never searched tree-wide ("probe" or
        "open" would pull in the whole kernel).
        """
        definitions: dict[str, list[tuple[str, bool]]] = defaultdict(list)
        calls: dict[tuple[str, str], set[tuple[str, bool]]] = defaultdict(set)
        member_values: dict[str, set[str]] = defaultdict(set)
        roots: set[str] = set()
        wanted_roots = {tuple(r.split(".", 1)) for r in self.request.root_members}
        for path, state in self._states.items():
            for facts in state.facts.values():
                for fn in facts.functions:
                    definitions[fn.name].append((path, fn.is_static))
                for call in facts.calls:
                    calls[(path, call.caller)].add((call.callee, call.via_member))
                for init in facts.inits:
                    for member, value in init.members:
                        if value.isidentifier():
                            member_values[value].add(member.rsplit(".", 1)[-1])
                            if (init.struct_type, member) in wanted_roots:
                                roots.add(value)

        def resolve(path: str, name: str) -> list[tuple[str, str]]:
            defs = definitions.get(name, [])
            if (path, True) in defs:
                return [(path, name)]
            return [(p, name) for p, is_static in defs if not is_static]

        requested = self.request.names - self.request.local_names
        local = self.request.local_names
        boundaries = self.request.boundaries
        interesting: set[tuple[str, str]] = set()
        local_only: set[tuple[str, str]] = set()  # reach only a local name
        members: set[str] = set()
        changed = True
        while changed:
            changed = False
            for (path, fn), callees in calls.items():
                if ((path, fn) in interesting and (path, fn) not in local_only) or (
                        fn in boundaries or any(c in boundaries for c, _ in callees)):
                    continue
                reached = None
                for callee, via_member in callees:
                    if via_member:
                        # framework dispatch (`ops->newlink(...)`) is followed from root
                        # callbacks only: from anywhere, "open" or "probe" reach everything
                        if fn in roots and callee in members:
                            reached = "global"
                    elif callee in requested:
                        reached = "global"
                    elif callee in local:
                        reached = reached or "local"
                    else:
                        for target in resolve(path, callee):
                            if target not in interesting:
                                continue
                            if target not in local_only:
                                reached = "global"
                            elif target[0] == path:  # local reach stays in its file
                                reached = reached or "local"
                    if reached == "global":
                        break
                if reached is None or (reached == "local" and (path, fn) in interesting):
                    continue
                interesting.add((path, fn))
                if reached == "local":
                    local_only.add((path, fn))
                else:
                    local_only.discard((path, fn))
                members |= member_values.get(fn, set())
                changed = True
        static_defs = {(p, n) for p, n in interesting
                       if (p, n) in local_only or (p, True) in definitions.get(n, [])}
        global_names = {n for p, n in interesting if (p, n) not in static_defs}
        return global_names | roots | set(requested), static_defs

    # -- statistics and results ----------------------------------------------------------------

    def _collect_stats(self) -> None:
        names = sorted(self.request.stats_targets)
        pattern = r"\b(?:" + "|".join(map(re.escape, names)) + r")\s*\("
        jobs = [(self.root, path, state.chunks, pattern)
                for path, state in self._states.items() if state.chunks]
        results = self._map(_stats_job, jobs)
        self._stats_by_file = dict(zip((j[1] for j in jobs), results, strict=True))

    def _parsed_file(self, path: str) -> ParsedFile:
        state = self._states[path]
        parsed = ParsedFile(path=path)
        for i in sorted(state.facts):
            start = state.chunks[i][0]
            facts = state.facts[i].shifted(path, start, state.line_bases[i] + 1)
            parsed.functions.extend(facts.functions)
            parsed.calls.extend(facts.calls)
            parsed.inits.extend(facts.inits)
        if self.stats:
            parsed.stats = getattr(self, "_stats_by_file", {}).get(path, ParseStats())
        return parsed


def build_index(
    root: Path, request: IndexRequest, *, jobs: int = 0, cache_dir: Path | None = None,
    progress: bool = False, stats: bool = False,
) -> TreeIndex:
    return IndexBuilder(root, request, jobs=jobs, cache_dir=cache_dir, progress=progress,
                        stats=stats).build()
