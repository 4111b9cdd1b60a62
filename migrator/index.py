"""Tree index: which functions, calls and struct initializers matter, found fast.

Build steps (one way): discover candidate files with git grep for the names the
rules care about -> split them into top-level chunks -> parse only chunks that
mention a name of interest (in parallel, cached by chunk content) -> close the
set backwards: functions that call a name of interest become names of interest
themselves, and files mentioning them join, until nothing new appears.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from migrator import __version__
from migrator.chunks import split_top_level
from migrator.discover import grep_files, is_git_tree, tree_fingerprint
from migrator.model import CallSite, FunctionDef, ParsedFile, ParseStats, StructInit
from migrator.parse import ChunkFacts, chunk_stats, extract_chunk
from migrator.progress import Progress

# Bump when extraction changes: cached chunk facts of older versions are ignored.
FACTS_VERSION = f"{__version__}-1"
MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class IndexRequest:
    """What the rules need indexed."""

    names: frozenset[str]  # call targets and other identifiers that select chunks
    root_members: frozenset[str] = frozenset()  # "rtnl_link_ops.newlink": parse the callbacks
    stats_targets: frozenset[str] = frozenset()  # calls that make a function a "target function"


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
    line_bases: list[int]
    parsed: set[int] = field(default_factory=set)  # chunk indexes already parsed
    facts: dict[int, ChunkFacts] = field(default_factory=dict)


def _word_pattern(names: Iterable[str]) -> re.Pattern[bytes]:
    alternatives = sorted({re.escape(n.encode()) for n in names}, key=len, reverse=True)
    return re.compile(rb"\b(?:" + b"|".join(alternatives) + rb")\b")


def _chunk_key(chunk: bytes) -> bytes:
    return hashlib.blake2b(chunk, digest_size=16, person=FACTS_VERSION.encode()[:16]).digest()


def _parse_job(job: tuple[str, bytes, list[tuple[int, int]]]) -> list[tuple[int, ChunkFacts]]:
    """Worker: parse the given chunks of one file. Returns (chunk start, facts)."""
    _path, src, spans = job
    return [(start, extract_chunk(src[start:end])) for start, end in spans]


def _stats_job(job: tuple[str, bytes, list[tuple[int, int]], str]) -> ParseStats:
    _path, src, spans, pattern = job
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
        pool = None
        try:
            if self.jobs > 1:
                pool = multiprocessing.get_context("fork").Pool(self.jobs)
            self._closure(pool)
            if self.stats:
                self._collect_stats(pool)
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()
        self.progress.done(f"indexed {len(self._states)} files in "
                           f"{time.monotonic() - started:.1f}s")
        for path in sorted(self._states):
            self.index._add(self._parsed_file(path))
        self._store("chunks", {k: self._chunk_cache[k] for k in self._used_keys})
        if fingerprint is not None:
            self.index._sources.clear()
            self._store("index", (request_key, self.index))
        return self.index

    def _read(self, path: str) -> bytes | None:
        full = self.root / path
        try:
            if full.is_symlink() and not full.resolve().is_relative_to(self.root):
                self.index.skipped.append(f"{path}: symlink to outside the tree")
                return None
            size = full.stat().st_size
            if size > MAX_FILE_BYTES:
                self.index.skipped.append(f"{path}: larger than {MAX_FILE_BYTES >> 20} MB")
                return None
            src = full.read_bytes()
        except OSError as exc:
            self.index.skipped.append(f"{path}: cannot read ({exc.strerror or exc})")
            return None
        if b"\0" in src[:8192]:
            self.index.skipped.append(f"{path}: binary file")
            return None
        self.index._sources[path] = src
        return src

    def _add_files(self, paths: Iterable[str]) -> list[str]:
        added = []
        for path in sorted(paths):
            if path in self._states:
                continue
            src = self._read(path)
            if src is None:
                self._states[path] = _FileState([], [])
                continue
            chunks = split_top_level(src)
            bases, line = [], 0
            for start, end in chunks:
                bases.append(line)
                line += src.count(b"\n", start, end)
            self._states[path] = _FileState(chunks, bases)
            added.append(path)
        return added

    def _select(self, names: set[str], paths: Iterable[str]) -> dict[str, list[int]]:
        """Chunks of `paths` not parsed yet that mention any of `names`."""
        if not names:
            return {}
        pattern = _word_pattern(names)
        selected: dict[str, list[int]] = {}
        for path in paths:
            state = self._states[path]
            if not state.chunks:
                continue
            src = self.index._sources[path]
            hits = []
            chunk_i = 0
            for match in pattern.finditer(src):
                while state.chunks[chunk_i][1] <= match.start():
                    chunk_i += 1
                if chunk_i not in state.parsed and (not hits or hits[-1] != chunk_i):
                    hits.append(chunk_i)
            if hits:
                selected[path] = hits
        return selected

    def _parse_selected(self, selected: dict[str, list[int]], pool: object) -> None:
        jobs: list[tuple[str, bytes, list[tuple[int, int]]]] = []
        keys: dict[tuple[str, int], bytes] = {}
        for path, chunk_ids in selected.items():
            state = self._states[path]
            src = self.index._sources[path]
            todo = []
            for i in chunk_ids:
                state.parsed.add(i)
                start, end = state.chunks[i]
                key = _chunk_key(src[start:end])
                keys[(path, start)] = key
                self._used_keys.add(key)
                if key in self._chunk_cache:
                    state.facts[i] = self._chunk_cache[key]
                else:
                    todo.append((start, end))
            if todo:
                jobs.append((path, src, todo))
        if not jobs:
            return
        self.progress.total += len(jobs)
        results = (pool.imap(_parse_job, jobs, chunksize=4) if pool is not None  # type: ignore[attr-defined]
                   else map(_parse_job, jobs))
        for (path, _src, _spans), facts_list in zip(jobs, results, strict=True):
            state = self._states[path]
            starts = {start: i for i, (start, _end) in enumerate(state.chunks)}
            for start, facts in facts_list:
                state.facts[starts[start]] = facts
                self._chunk_cache[keys[(path, start)]] = facts
            self.progress.step(path)

    def _closure(self, pool: object) -> None:
        request = self.request
        searched: set[str] = set(request.names)
        self._add_files(grep_files(self.root, searched, git=self.git))
        self._parse_selected(self._select(searched, self._states), pool)
        while True:
            self.index.rounds += 1
            new_names = self._interesting_names() - searched
            if not new_names:
                break
            searched |= new_names
            global_names = {n for n in new_names if not self._only_static(n)}
            added = self._add_files(grep_files(self.root, global_names, git=self.git)
                                    if global_names else set())
            selected = self._select(new_names, self._states)
            for path, ids in self._select(searched, added).items():
                selected[path] = sorted(set(selected.get(path, [])) | set(ids))
            self._parse_selected(selected, pool)

    def _only_static(self, name: str) -> bool:
        defs = [f for s in self._states.values() for facts in s.facts.values()
                for f in facts.functions if f.name == name]
        return bool(defs) and all(f.is_static for f in defs)

    def _interesting_names(self) -> set[str]:
        """Fixpoint of: functions calling a name of interest, member names holding such
        functions, and the callbacks named by the request's root members."""
        calls_by_fn: dict[str, set[tuple[str, bool]]] = defaultdict(set)
        member_values: dict[str, set[str]] = defaultdict(set)  # function -> members holding it
        roots: set[str] = set()
        wanted_roots = {tuple(r.split(".", 1)) for r in self.request.root_members}
        for state in self._states.values():
            for facts in state.facts.values():
                for call in facts.calls:
                    calls_by_fn[call.caller].add((call.callee, call.via_member))
                for init in facts.inits:
                    for member, value in init.members:
                        if value.isidentifier():
                            member_values[value].add(member.rsplit(".", 1)[-1])
                            if (init.struct_type, member) in wanted_roots:
                                roots.add(value)
        interesting = set(self.request.names) | roots
        members: set[str] = set()
        changed = True
        while changed:
            changed = False
            for fn, callees in calls_by_fn.items():
                if fn in interesting:
                    continue
                if any((c in members) if via else (c in interesting) for c, via in callees):
                    interesting.add(fn)
                    members |= member_values.get(fn, set())
                    changed = True
            for fn in list(interesting):
                new = member_values.get(fn, set()) - members
                if new:
                    members |= new
                    changed = True
        return interesting | members

    def _collect_stats(self, pool: object) -> None:
        pattern = (rb"\b(?:" + b"|".join(re.escape(n.encode())
                                         for n in sorted(self.request.stats_targets)) + rb")\s*\(")
        jobs = [(path, self.index._sources[path], state.chunks, pattern.decode())
                for path, state in self._states.items() if state.chunks]
        results = (pool.imap(_stats_job, jobs, chunksize=4) if pool is not None  # type: ignore[attr-defined]
                   else map(_stats_job, jobs))
        self._stats_by_file = dict(zip((j[0] for j in jobs), results, strict=True))

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
