"""Tree index: which functions, calls and struct initializers matter, found fast.

Build steps (one way): discover candidate files with git grep for the names the
rules care about -> split them into top-level chunks -> parse only chunks that
mention a name of interest (in parallel, cached by chunk content) -> close the
set backwards: functions that call a name of interest become names of interest
themselves, and files mentioning them join, until nothing new appears.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import os
import re
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from migrator.index.cache import Cache, open_cache
from migrator.index.discover import grep_hits, is_git_tree, tree_fingerprint, untracked_files
from migrator.index.tree_index import IndexRequest, TreeIndex
from migrator.index.workers import (
    FACTS_VERSION,
    _checked,
    _chunk_key,
    _chunks_matching,
    _debug,
    _FileState,
    _polled,
    _run_batch,
    _worker_init,
    read_source,
)
from migrator.model import ParsedFile, ParseStats, signals
from migrator.model.progress import Progress
from migrator.parse.chunks import split_top_level
from migrator.parse.tree import ChunkFacts, chunk_stats, extract_chunk

# Keys of the chunk facts in the cache (workers skip parsing those chunks; the parent
# reads their facts from the cache database).
_KNOWN_KEYS: set[bytes] = set()
# Facts of the chunks this process has parsed or read from the cache (a chunk's facts
# depend only on its bytes: the key hashes them). `stage 1-6` builds an index per
# stage on a tree that changed only in the files the earlier stages edited, so every
# later build reuses these instead of parsing (or unpickling) the same chunks again.
_PROCESS_CHUNKS: dict[bytes, ChunkFacts] = {}
_PROCESS_CHUNKS_MAX = 400_000  # about a whole 6.12 tree's worth; beyond it, start over

# A batch of at most this many files is parsed in this process: forking the pool and
# shipping the work costs more than it saves on a small tree (the 29 files of
# corpus/sample parse 20% faster in CPU without it); a real tree's batches are thousands.
POOL_MIN_JOBS = 64


def _scan_job(
    job: tuple[Path, str, tuple[str, ...]],
) -> tuple[str, _FileState | None, str, list[int], dict[int, ChunkFacts]]:
    """Worker: read and split one file, find the chunks mentioning the pattern, parse those
    (unless already known) in one go: the file is read once."""
    root, path, names = job
    src, reason = read_source(root, path)
    if src is None:
        return path, None, reason, [], {}
    chunks = split_top_level(src)
    bases, keys, starts, line = [], [], [], 0
    for start, end in chunks:
        bases.append(line)
        starts.append(start)
        keys.append(_chunk_key(src[start:end]))
        line += src.count(b"\n", start, end)
    state = _FileState(chunks, bases, keys, starts=starts)
    facts = {}
    matched = sorted(_chunks_matching(state, src, names))
    try:
        for i in matched:
            if keys[i] not in _KNOWN_KEYS:
                start, end = chunks[i]
                facts[i] = extract_chunk(src[start:end])
    except Exception as exc:  # a parser bug on one file must not lose the others
        return path, None, f"parser failed ({type(exc).__name__}: {exc})", [], {}
    return path, state, "", matched, facts


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
        self._cache: Cache | None = None
        self._chunk_cache: dict[bytes, ChunkFacts] = {}  # facts of this build's chunks
        self._new_chunks: set[bytes] = set()  # parsed by this build: written to the cache
        self._stored: set[bytes] = set()  # keys the cache database holds
        self._pool: multiprocessing.pool.Pool | None = None
        # closure tables, filled as chunk facts come in (see _add_facts)
        self._definitions: dict[str, list[tuple[str, bool]]] = defaultdict(list)
        self._calls: dict[tuple[str, str], set[tuple[str, bool]]] = defaultdict(set)
        self._member_values: dict[str, set[str]] = defaultdict(set)
        self._roots: set[tuple[str, str]] = set()  # (initializer's file, callback name)
        self._header_macros: set[tuple[str, str]] = set()  # (header, macro name)
        self._wanted_roots = {tuple(r.split(".", 1)) for r in request.root_members}

    def _map(self, func, jobs: list) -> Iterable:  # type: ignore[no-untyped-def]
        if self.jobs > 1 and len(jobs) > POOL_MIN_JOBS and self._pool is None:
            self._pool = self._start_pool()  # only when there is work to share out
        if self._pool is not None and len(jobs) > POOL_MIN_JOBS:
            batches = [(func, jobs[i : i + 4]) for i in range(0, len(jobs), 4)]
            return _polled(self._pool.imap(_run_batch, batches))
        return _checked(map(func, jobs))

    def _start_pool(self) -> multiprocessing.pool.Pool:
        """fork: workers start at once and share the loaded modules (and the known keys);
        _worker_init drops the parent's signal handlers (cleanup and the cache belong to
        the parent). They start with the signals blocked until then: a SIGTERM from
        Pool.terminate() reaching the parent's handler in a worker would be swallowed,
        and join() would wait forever."""
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, signals.SIGNALS)
        try:
            return multiprocessing.get_context("fork").Pool(self.jobs,
                                                            initializer=_worker_init)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def build(self) -> TreeIndex:
        started = time.monotonic()
        cache = self._cache = open_cache(self.cache_dir) if self.cache_dir else None
        fingerprint = tree_fingerprint(self.root) if cache is not None else None
        request_key = (FACTS_VERSION, fingerprint, sorted(self.request.names),
                       sorted(self.request.root_members), self.stats)
        if cache is not None and fingerprint is not None:
            cached = cache.result("index", self.root, request_key)
            if isinstance(cached, TreeIndex):
                cached.root = self.root
                return cached
        _KNOWN_KEYS.clear()
        self._stored = set(cache.chunk_keys()) if cache is not None else set()
        _KNOWN_KEYS.update(_PROCESS_CHUNKS)
        _KNOWN_KEYS.update(self._stored)
        try:
            self._closure()
            if self.stats:
                self._collect_stats()
        finally:
            if self._pool is not None:
                self._pool.terminate()
                self._pool.join()
                self._pool = None
            _KNOWN_KEYS.clear()
        if len(_PROCESS_CHUNKS) + len(self._chunk_cache) > _PROCESS_CHUNKS_MAX:
            _PROCESS_CHUNKS.clear()
        _PROCESS_CHUNKS.update(self._chunk_cache)
        self.progress.done(f"indexed {len(self._states)} files in "
                           f"{time.monotonic() - started:.1f}s")
        for path in sorted(self._states):
            self.index._add(self._parsed_file(path))
        if cache is not None:
            # only the chunks parsed anew are written (the cache is shared by all trees:
            # a stage runs in a new temporary worktree each time)
            cache.put_chunks((k, self._chunk_cache[k]) for k in sorted(self._new_chunks))
            self._new_chunks.clear()
            if fingerprint is not None:
                sources, self.index._sources = self.index._sources, {}  # re-read lazily
                cache.put_result("index", self.root, request_key, self.index)
                self.index._sources = sources
            cache.flush()
        return self.index

    def _known_facts(self, key: bytes) -> ChunkFacts | None:
        """Facts of a chunk this build has seen, else from the cache."""
        facts = self._chunk_cache.get(key)
        if facts is None and key in _PROCESS_CHUNKS:
            facts = self._chunk_cache[key] = _PROCESS_CHUNKS[key]
            if self._cache is not None and key not in self._stored:
                self._new_chunks.add(key)  # parsed by an earlier build without this cache
        if facts is None and self._cache is not None and key in self._stored:
            cached = self._cache.chunk(key)
            if isinstance(cached, ChunkFacts):
                facts = self._chunk_cache[key] = cached
        return facts

    def _parsed_anew(self, key: bytes, facts: ChunkFacts) -> None:
        self._chunk_cache[key] = facts
        self._new_chunks.add(key)

    # -- closure -----------------------------------------------------------------------------

    def _closure(self) -> None:
        """Parse what mentions the requested names, then, round after round, what mentions
        the functions found to call them, until no new function appears."""
        req = self.request
        first_names = set(req.names) | {r.split(".", 1)[0] for r in req.root_members}
        searched_global: set[str] = set(first_names)
        searched_static: set[tuple[str, str]] = set()
        untracked: list[str] = []
        scope: set[str] | None = None
        # Greps wait on I/O: run them together. `-l` (files only) is much cheaper than `-o`;
        # the workers find the chunks mentioning the names when they read the files.
        with ThreadPoolExecutor(3) as executor:
            first = executor.submit(grep_hits, self.root, first_names, git=self.git,
                                    files_only=True, untracked=False)
            scope_job = (executor.submit(grep_hits, self.root, req.scope_names, git=self.git,
                                         files_only=True, untracked=False)
                         if req.scope_names else None)
            untracked_job = executor.submit(untracked_files, self.root) if self.git else None
            files = set(first.result())
            scope = set(scope_job.result()) if scope_job is not None else None
            untracked = untracked_job.result() if untracked_job is not None else []
        _debug(f"first greps: {len(files)} files, scope {len(scope or ())}, "
               f"{len(untracked)} untracked")
        if untracked:  # `--untracked` costs a tree-wide directory walk: only when needed
            files |= set(grep_hits(self.root, first_names, git=True, paths=untracked,
                                   files_only=True, untracked=True))
            if scope is not None:
                scope |= set(grep_hits(self.root, req.scope_names, git=True, paths=untracked,
                                       files_only=True, untracked=True))
        self._visit({path: first_names for path in files})
        while True:
            self.index.rounds += 1
            global_names, static_defs = self._interesting(searched_static)
            _debug("interesting")
            new_global = global_names - searched_global
            new_static = static_defs - searched_static
            if not new_global and not new_static:
                break
            if new_static:  # same-file callers first: no tree-wide search needed
                new_global = set()
            searched_global |= new_global
            searched_static |= new_static
            todo: dict[str, set[str]] = defaultdict(set)
            for path, name in new_static:
                todo[path].add(name)
            if new_global:
                paths = None if scope is None else scope | set(self._states)
                for path in grep_hits(self.root, new_global, git=self.git, paths=paths,
                                      files_only=True, untracked=bool(untracked)):
                    todo[path] |= new_global
            _debug(f"round {self.index.rounds}: +{len(new_global)} global names, "
                   f"+{len(new_static)} static, {len(todo)} files")
            self._visit(todo)

    def _visit(self, todo: dict[str, set[str]]) -> None:
        """Parse the chunks of each file that mention one of its names (files not seen yet:
        read, split and parsed in one worker job)."""
        new_paths = sorted(p for p in todo if p not in self._states)
        jobs = [(self.root, p, tuple(sorted(todo[p]))) for p in new_paths]
        self.progress.total += len(jobs)
        for path, state, reason, matched, facts in self._map(_scan_job, jobs):
            if state is None:
                self.index.skipped.append(f"{path}: {reason}")
                print(f"migrate: warning: {path}: {reason}; file not examined", file=sys.stderr)
                state = _FileState([], [], [])
            self._states[path] = state
            for i in matched:
                state.parsed.add(i)
                key = state.keys[i]
                found = facts.get(i)
                if found is not None:
                    self._parsed_anew(key, found)
                else:
                    found = self._known_facts(key)
                if found is None:  # a cache entry that could not be read: parse here
                    found = extract_chunk(self._chunk_bytes(path, i))
                    self._parsed_anew(key, found)
                self._add_facts(path, state, i, found)
            self.progress.step(path)
        _debug(f"scanned {len(new_paths)} new files")
        parse_jobs: list[tuple[Path, str, list[tuple[int, int]]]] = []
        for path in sorted(set(todo) - set(new_paths)):
            state = self._states[path]
            if not state.chunks:
                continue
            src = self.index.source(path)
            todo_spans = []
            for i in sorted(_chunks_matching(state, src, todo[path]) - state.parsed):
                state.parsed.add(i)
                key = state.keys[i]
                found = self._known_facts(key)
                if found is not None:
                    self._add_facts(path, state, i, found)
                else:
                    todo_spans.append(state.chunks[i])
            if todo_spans:
                parse_jobs.append((self.root, path, todo_spans))
        for (_root, path, _spans), results in zip(parse_jobs, self._map(_parse_job, parse_jobs),
                                                  strict=True):
            state = self._states[path]
            if isinstance(results, str):
                # facts of this file's chunks parsed in earlier rounds stay (they are sound);
                # the rest of the file is not examined, and said so
                self.index.skipped.append(f"{path}: {results}")
                print(f"migrate: warning: {path}: {results}; file not examined further",
                      file=sys.stderr)
                state.chunks = []
                continue
            for start, facts in results:
                i = state.chunk_of_offset(start)
                self._parsed_anew(state.keys[i], facts)
                self._add_facts(path, state, i, facts)
        _debug(f"parsed {sum(len(j[2]) for j in parse_jobs)} chunks in {len(parse_jobs)} "
               "known files")

    def _chunk_bytes(self, path: str, i: int) -> bytes:
        start, end = self._states[path].chunks[i]
        return self.index.source(path)[start:end]

    def _add_facts(self, path: str, state: _FileState, i: int, facts: ChunkFacts) -> None:
        """Record a chunk's facts, and fold them into the closure's tables."""
        state.facts[i] = facts
        for fn in facts.functions:
            self._definitions[fn.name].append((path, fn.is_static))
        for call in facts.calls:
            self._calls[(path, call.caller)].add((call.callee, call.via_member))
        for macro in facts.macros:
            # A function-like macro is a definition for the closure: uses of a macro whose
            # body calls a name of interest are searched like the callers of a function
            # (in the file for a .c file's macro, tree-wide for a header's).
            self._definitions[macro.name].append((path, not path.endswith(".h")))
            if path.endswith(".h"):
                self._header_macros.add((path, macro.name))
            self._calls[(path, macro.name)].update((c, False) for c in macro.calls)
        for init in facts.inits:
            for member, value in init.members:
                if value.isidentifier():
                    self._member_values[value].add(member.rsplit(".", 1)[-1])
                    if (init.struct_type, member) in self._wanted_roots:
                        self._roots.add((path, value))

    def _interesting(
        self, searched_static: set[tuple[str, str]],
    ) -> tuple[set[str], set[tuple[str, str]]]:
        """Functions to look for callers of next: (global names, static (file, name)).

        The fixpoint of definitions that call a requested name or an interesting
        definition (a call resolves to the static function of the same file when there
        is one, else to every global definition), plus the callbacks named by the
        request's root members (first looked for in the initializer's file; tree-wide when
        that file does not define them). Calls through a struct member (`ops->newlink(...)`)
        reach every function assigned to that member; such edges are followed from root
        callbacks only, and member names are never searched tree-wide ("probe" or
        "open" would pull in the whole kernel).

        The result depends only on the facts gathered, not on the order they came in:
        the fixpoint only ever adds functions or upgrades them from local to global.
        """
        definitions = self._definitions
        calls = self._calls
        member_values = self._member_values
        root_names = {name for _path, name in self._roots}

        def resolve(path: str, name: str) -> list[tuple[str, str]]:
            defs = definitions.get(name, [])
            if (path, True) in defs:
                return [(path, name)]
            return [(p, name) for p, is_static in defs if not is_static]

        requested = self.request.names - self.request.local_names
        local = self.request.local_names
        boundaries = self.request.boundaries
        header_macros = self._header_macros
        interesting: set[tuple[str, str]] = set()
        local_only: set[tuple[str, str]] = set()  # reach only a local name
        members: set[str] = set()
        candidates = [(k, callees) for k, callees in sorted(calls.items())
                      if k[1] not in boundaries and not any(c in boundaries for c, _ in callees)]
        changed = True
        while changed:
            changed = False
            for (path, fn), callees in candidates:
                if (path, fn) in interesting and (path, fn) not in local_only:
                    continue
                reached = None
                for callee, via_member in callees:
                    if via_member:
                        # framework dispatch (`ops->newlink(...)`) is followed from root
                        # callbacks only: from anywhere, "open" or "probe" reach everything
                        if fn in root_names and callee in members:
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
                            elif target[0] == path or target in header_macros:
                                # local reach stays in its file; a header's macro text is
                                # part of every file using it (`register_hdlc_device()`)
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
        # a use of a header's macro is a direct call of what the macro calls: searched
        # tree-wide, like the first names, even when that reach is local
        global_names |= {n for k in interesting & header_macros for n in k[1:]}
        # root callbacks: their definition is first looked for in the initializer's file
        for path, name in self._roots:
            if (path, True) in definitions.get(name, []) or (path, name) not in searched_static:
                static_defs.add((path, name))
            else:
                global_names.add(name)
        return global_names | set(requested), static_defs

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
            parsed.macros.extend(facts.macros)
            parsed.masked_calls.extend(facts.masked_calls)
        if self.stats:
            parsed.stats = getattr(self, "_stats_by_file", {}).get(path, ParseStats())
        return parsed


def build_index(
    root: Path, request: IndexRequest, *, jobs: int = 0, cache_dir: Path | None = None,
    progress: bool = False, stats: bool = False,
) -> TreeIndex:
    return IndexBuilder(root, request, jobs=jobs, cache_dir=cache_dir, progress=progress,
                        stats=stats).build()
