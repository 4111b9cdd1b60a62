"""What the index build shares with its worker processes: reading a file
(read_source), its top-level chunks and their content keys, the chunks naming a word,
and the pool plumbing (batches, interruption checks, the debug trace).
"""

from __future__ import annotations

import bisect
import hashlib
import multiprocessing
import multiprocessing.pool
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator import __version__, code_digest
from migrator.model import signals
from migrator.parse.tree import ChunkFacts

# Cached chunk facts and scan results of other code are ignored (the digest comes first:
# chunk hashes use the first 16 bytes as their personalisation).
FACTS_VERSION = f"{code_digest()}-{__version__}"
MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass(slots=True)
class _FileState:
    chunks: list[tuple[int, int]]
    line_bases: list[int]  # 0-based line number at which each chunk starts
    keys: list[bytes]  # content key of each chunk
    parsed: set[int] = field(default_factory=set)  # chunk indexes parsed (or being parsed)
    facts: dict[int, ChunkFacts] = field(default_factory=dict)
    starts: list[int] = field(default_factory=list)  # byte offset of each chunk

    def chunk_of_offset(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1


def _chunk_key(chunk: bytes) -> bytes:
    return hashlib.blake2b(chunk, digest_size=16, person=FACTS_VERSION.encode()[:16]).digest()


def _chunks_matching(state: _FileState, src: bytes, names: Iterable[str]) -> set[int]:
    """Indexes of the chunks of `src` in which one of `names` occurs as a whole word.
    (bytes.find per name: much faster than a regex alternation over many names.)"""
    out: set[int] = set()
    for name in names:
        word = name.encode()
        pos = src.find(word)
        while pos >= 0:
            end = pos + len(word)
            if (pos == 0 or not _is_word(src[pos - 1])) and (
                    end >= len(src) or not _is_word(src[end])):
                out.add(state.chunk_of_offset(pos))
            pos = src.find(word, end)
    return out


def _is_word(byte: int) -> bool:
    return byte == 0x5F or 0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


def _worker_init() -> None:
    """Pool worker start: the parent's Ctrl-C/SIGTERM handling (which cleans up
    worktrees) must not run here; a terminated worker just stops. (_KNOWN_KEYS comes
    with the fork; the cache database is the parent's: a worker never opens it.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, signals.SIGNALS)  # blocked by the parent


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


_T0 = time.monotonic()


def _debug(what: str) -> None:
    """Timestamped trace on stderr with MIGRATOR_DEBUG=1 (profiling aid)."""
    if os.environ.get("MIGRATOR_DEBUG"):
        print(f"[{time.monotonic() - _T0:7.2f}] {what}", file=sys.stderr)


def _checked(results: Iterator[object]) -> Iterator[object]:
    """`results`, with a check for an interrupted run (signals.py) before each one."""
    for result in results:
        signals.check()
        yield result


def _run_batch(batch: tuple[Callable[[Any], object], list[Any]]) -> list[object]:
    """Worker: a few jobs in one go (less inter-process traffic than one at a time)."""
    func, jobs = batch
    return [func(job) for job in jobs]


def _polled(results: multiprocessing.pool.IMapIterator) -> Iterator[object]:
    """A pool's batched results in order; waits in short steps so that an interrupted
    run stops within a fraction of a second even while a worker is busy on a large file."""
    while True:
        try:
            batch = results.next(timeout=0.2)
        except StopIteration:
            return
        except multiprocessing.TimeoutError:
            signals.check()
            continue
        for result in batch:  # type: ignore[attr-defined]
            signals.check()
            yield result
