"""The parse cache: one SQLite database, `<cache dir>/cache.sqlite3`.

Two tables:

* `chunks`: the facts of one parsed top-level chunk, keyed by the chunk's content hash
  (personalised with the code digest, see index._chunk_key), shared by every tree. A
  build inserts the chunks it parsed anew, in one transaction of the parent process
  (parser workers never write).
* `results`: a whole result per (kind, tree path): the tree index ("index") and the
  last `scan` answer ("scan"), stored with a digest of their key (tree fingerprint,
  request, code digest); a different key is a miss, and a store replaces the entry.

Entries of tree paths that no longer exist (temporary worktrees of `migrate stage`)
are removed when the database is opened and when it is closed; beyond the size cap the
least recently used entries go. A database that cannot be read is rebuilt, with a
warning; a cache failure never stops a command. One connection per process and path.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sqlite3
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DB_NAME = "cache.sqlite3"
DEFAULT_MAX_BYTES = 512 << 20
# A read refreshes an entry's "last used" time only when it is older than this: the
# LRU order stays right to within the hour without a write per chunk read.
TOUCH_AFTER = 3600
# Cache files of earlier versions (one pickle per kind and tree), removed on open.
LEGACY_FILES = ("chunks.pickle", "index-*.pickle", "scan-*.pickle")

SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    key BLOB PRIMARY KEY, payload BLOB NOT NULL, size INTEGER NOT NULL,
    used INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS chunks_used ON chunks(used);
CREATE TABLE IF NOT EXISTS results (
    kind TEXT NOT NULL, tree TEXT NOT NULL, key BLOB NOT NULL, payload BLOB NOT NULL,
    size INTEGER NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (kind, tree));
CREATE INDEX IF NOT EXISTS results_used ON results(used);
"""


def warn(message: str) -> None:
    print(f"migrate: warning: {message}", file=sys.stderr)


def key_digest(key: object) -> bytes:
    """A stable digest of a key made of strings, numbers, tuples and lists."""
    return hashlib.sha256(repr(key).encode("utf-8", "surrogateescape")).digest()


@dataclass(frozen=True, slots=True)
class CacheInfo:
    path: Path
    bytes: int  # the database file and its write-ahead log
    chunks: int
    results: dict[str, int]  # kind -> entries
    trees: int  # tree paths with an entry


class Cache:
    """The cache database of one directory (see `open_cache`)."""

    def __init__(self, directory: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = directory
        self.path = directory / DB_NAME
        self.max_bytes = max_bytes
        self._touch: set[bytes] = set()
        self._db: sqlite3.Connection | None = None
        self._open()

    # -- opening, failures -------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None,
                             check_same_thread=False)
        try:
            db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # before the first table
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(f"PRAGMA journal_size_limit={16 << 20}")  # the log, once checkpointed
            db.executescript(SCHEMA)
            db.execute("SELECT count(*) FROM chunks WHERE 0").fetchone()
        except BaseException:
            db.close()
            raise
        return db

    def _open(self) -> None:
        try:
            self._db = self._connect()
        except sqlite3.OperationalError as exc:
            if _is_corruption(exc):
                self._rebuild(exc)
            else:  # locked by another run for too long, unwritable: never deleted
                warn(f"{self.path}: cache not used ({exc})")
                self._db = None
                return
        except sqlite3.DatabaseError as exc:  # not a database, malformed...
            self._rebuild(exc)
        except OSError as exc:
            warn(f"{self.path}: cannot open the cache ({exc.strerror or exc}); not cached")
            self._db = None
            return
        self.evict_missing_trees()
        for pattern in LEGACY_FILES:  # the pickle caches of earlier versions
            for old in self.directory.glob(pattern):
                old.unlink(missing_ok=True)

    def _rebuild(self, exc: BaseException) -> None:
        warn(f"{self.path}: unreadable cache ({exc}), rebuilding")
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        try:
            self._db = self._connect()
        except (sqlite3.Error, OSError) as again:
            warn(f"{self.path}: cannot recreate the cache ({again}); not cached")
            self._db = None

    def _failed(self, exc: sqlite3.Error) -> None:
        """A query failed: a corrupt database is rebuilt, anything else (locked by
        another run for too long, disk full) only skips the cache this time."""
        if isinstance(exc, sqlite3.OperationalError) and not _is_corruption(exc):
            warn(f"{self.path}: cache not used ({exc})")
            return
        self._rebuild(exc)

    @property
    def usable(self) -> bool:
        return self._db is not None

    def close(self) -> None:
        if self._db is None:
            return
        self.evict_missing_trees()
        self.flush()
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._db = None

    # -- chunks ---------------------------------------------------------------------------------

    def chunk_keys(self) -> set[bytes]:
        """Keys of every cached chunk (keys of other code never match a chunk's hash)."""
        if self._db is None:
            return set()
        try:
            return {row[0] for row in self._db.execute("SELECT key FROM chunks")}
        except sqlite3.Error as exc:
            self._failed(exc)
            return set()

    def chunk(self, key: bytes) -> object | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT payload, used FROM chunks WHERE key = ?",
                                   (key,)).fetchone()
        except sqlite3.Error as exc:
            self._failed(exc)
            return None
        if row is None:
            return None
        payload = self._unpickle(row[0], "DELETE FROM chunks WHERE key = ?", (key,))
        if payload is not None and row[1] < time.time() - TOUCH_AFTER:
            self._touch.add(key)
        return payload

    def put_chunks(self, items: Iterable[tuple[bytes, object]]) -> None:
        """Insert new chunk facts (one transaction); refresh the ones read."""
        now = int(time.time())
        rows = []
        for key, facts in items:
            blob = pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL)
            rows.append((key, blob, len(blob), now))
        self._write(lambda db: db.executemany(
            "INSERT OR REPLACE INTO chunks (key, payload, size, used) VALUES (?, ?, ?, ?)",
            rows))

    def flush(self) -> None:
        """Write the pending "last used" refreshes."""
        if self._touch:
            self._write(lambda db: None)

    # -- whole results ----------------------------------------------------------------------------

    def result(self, kind: str, tree: Path, key: object) -> object | None:
        """The result stored for (kind, tree) under `key`; None when absent or stored under
        another key."""
        if self._db is None:
            return None
        try:
            row = self._db.execute(
                "SELECT key, payload, used FROM results WHERE kind = ? AND tree = ?",
                (kind, str(tree))).fetchone()
        except sqlite3.Error as exc:
            self._failed(exc)
            return None
        if row is None or row[0] != key_digest(key):
            return None
        payload = self._unpickle(row[1], "DELETE FROM results WHERE kind = ? AND tree = ?",
                                 (kind, str(tree)))
        if payload is not None and row[2] < time.time() - TOUCH_AFTER:
            self._write(lambda db: db.execute(
                "UPDATE results SET used = ? WHERE kind = ? AND tree = ?",
                (int(time.time()), kind, str(tree))))
        return payload

    def put_result(self, kind: str, tree: Path, key: object, payload: object) -> None:
        blob = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        row = (kind, str(tree), key_digest(key), blob, len(blob), int(time.time()))
        self._write(lambda db: db.execute(
            "INSERT OR REPLACE INTO results (kind, tree, key, payload, size, used) "
            "VALUES (?, ?, ?, ?, ?, ?)", row))

    # -- housekeeping ---------------------------------------------------------------------------

    def evict_missing_trees(self) -> int:
        """Remove the results of tree paths that no longer exist; return how many."""
        if self._db is None:
            return 0
        try:
            trees = [row[0] for row in self._db.execute("SELECT DISTINCT tree FROM results")]
        except sqlite3.Error as exc:
            self._failed(exc)
            return 0
        gone = [(tree,) for tree in trees if not os.path.isdir(tree)]
        if gone:
            self._write(lambda db: db.executemany("DELETE FROM results WHERE tree = ?", gone))
        return len(gone)

    def info(self) -> CacheInfo:
        size = sum(Path(f"{self.path}{s}").stat().st_size for s in ("", "-wal")
                   if Path(f"{self.path}{s}").exists())
        chunks, trees, results = 0, 0, {}
        if self._db is not None:
            try:
                chunks = self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]
                results = dict(self._db.execute(
                    "SELECT kind, count(*) FROM results GROUP BY kind ORDER BY kind"))
                trees = self._db.execute(
                    "SELECT count(DISTINCT tree) FROM results").fetchone()[0]
            except sqlite3.Error as exc:
                self._failed(exc)
        return CacheInfo(self.path, size, chunks, results, trees)

    def clear(self) -> None:
        def empty(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM chunks")
            db.execute("DELETE FROM results")

        self._touch.clear()
        self._write(empty)
        if self._db is not None:
            try:
                self._db.execute("VACUUM")
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                self._failed(exc)

    def _used_bytes(self, db: sqlite3.Connection) -> int:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * db.execute("PRAGMA page_size").fetchone()[0]

    def _evict_lru(self, db: sqlite3.Connection) -> None:
        """Beyond the size cap: delete the least recently used entries (chunks and results
        alike) until 90% of the cap is used."""
        excess = self._used_bytes(db) - self.max_bytes
        if excess <= 0:
            return
        excess += self.max_bytes // 10
        rows = db.execute(
            "SELECT used, size, 'c', key, NULL FROM chunks "
            "UNION ALL SELECT used, size, 'r', kind, tree FROM results ORDER BY used")
        chunk_keys, result_keys, freed = [], [], 0
        for _used, size, table, first, second in rows:
            if freed >= excess:
                break
            freed += size
            if table == "c":
                chunk_keys.append((first,))
            else:
                result_keys.append((first, second))
        db.executemany("DELETE FROM chunks WHERE key = ?", chunk_keys)
        db.executemany("DELETE FROM results WHERE kind = ? AND tree = ?", result_keys)

    def _write(self, change) -> None:  # type: ignore[no-untyped-def]
        """Run `change(db)` and the pending refreshes in one transaction, then keep the
        database under its size cap."""
        if self._db is None:
            return
        db = self._db
        touch, self._touch = self._touch, set()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                change(db)
                if touch:
                    now = int(time.time())
                    db.executemany("UPDATE chunks SET used = ? WHERE key = ?",
                                   [(now, k) for k in touch])
                self._evict_lru(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            db.execute("PRAGMA incremental_vacuum")
        except sqlite3.Error as exc:
            self._failed(exc)

    def _unpickle(self, blob: bytes, delete: str, params: tuple[object, ...]) -> object | None:
        try:
            return pickle.loads(blob)
        except Exception as exc:  # written by other code, or damaged: drop the entry
            warn(f"{self.path}: unreadable cache entry ({type(exc).__name__}), rebuilding it")
            self._write(lambda db: db.execute(delete, params))
            return None


def _is_corruption(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("malformed", "not a database", "corrupt", "disk image"))


_OPEN: dict[Path, Cache] = {}


def open_cache(directory: Path, *, max_bytes: int | None = None) -> Cache:
    """The process's cache of `directory` (opened once, closed by `close_all`)."""
    directory = Path(directory).absolute()
    cache = _OPEN.get(directory)
    if cache is None or not cache.usable:
        cache = Cache(directory, max_bytes=max_bytes or max_bytes_from_env())
        _OPEN[directory] = cache
    return cache


def max_bytes_from_env() -> int:
    """MIGRATOR_CACHE_MAX_MB overrides the size cap (default 512 MiB)."""
    text = os.environ.get("MIGRATOR_CACHE_MAX_MB", "").strip()
    return int(text) << 20 if text.isdigit() and int(text) > 0 else DEFAULT_MAX_BYTES


def close_all() -> None:
    """Close the caches this process opened (entries of removed worktrees go first)."""
    while _OPEN:
        _directory, cache = _OPEN.popitem()
        cache.close()
