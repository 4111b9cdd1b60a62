"""The SQLite parse cache: incremental writes, removed trees evicted, size cap (LRU),
corrupt database rebuilt, `migrate cache [--clear]`."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import migrator.index.build as index_module
from migrator.cli import main
from migrator.engine.planner import default_cache_dir
from migrator.index import cache as cachedb
from migrator.index.build import build_index

sys.path.insert(0, str(Path(__file__).parent))

from kernel_mini import REQUEST, make_tree

SAMPLE = Path(__file__).resolve().parent.parent / "corpus" / "sample"


@pytest.fixture(autouse=True)
def _closed() -> None:
    cachedb.close_all()


def git_tree(path: Path) -> Path:
    shutil.copytree(SAMPLE, path)
    for cmd in (["init", "-q"], ["add", "-A"],
                ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(path), *cmd], check=True)
    return path


def rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as db:
        return db.execute(sql).fetchall()


def test_a_build_writes_only_the_chunks_it_parsed(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    tree = make_tree(tmp_path / "t")
    cache = tmp_path / "cache"
    build_index(tree, REQUEST, jobs=1, cache_dir=cache)
    first = cachedb.open_cache(cache).info()
    assert first.chunks > 0 and first.results == {"index": 1}
    written: list[bytes] = []
    real = cachedb.Cache.put_chunks
    monkeypatch.setattr(cachedb.Cache, "put_chunks", lambda self, items: real(
        self, [written.append(k) or (k, v) for k, v in items]))
    lib = tree / "drivers/net/lib.c"
    lib.write_text(lib.read_text().replace("deep_helper", "deeper_helper"))
    build_index(tree, REQUEST, jobs=1, cache_dir=cache)
    # only the chunks whose text changed were parsed and written; nothing was rewritten
    assert 0 < len(written) < first.chunks
    assert cachedb.open_cache(cache).info().chunks == first.chunks + len(written)


def test_a_process_parses_a_chunk_once_without_a_cache(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`stage 1-6 --no-cache` builds an index per stage: the later builds parse only the
    chunks an earlier stage changed; a later build with a cache still stores them all."""
    monkeypatch.setattr(index_module, "_PROCESS_CHUNKS", {})
    parsed: list[bytes] = []
    real = index_module.extract_chunk
    monkeypatch.setattr(index_module, "extract_chunk",
                        lambda chunk: parsed.append(chunk) or real(chunk))
    tree = make_tree(tmp_path / "t")
    first = build_index(tree, REQUEST, jobs=1)
    assert parsed
    parsed.clear()
    again = build_index(tree, REQUEST, jobs=1)
    assert parsed == []
    assert sorted(again.functions_by_name) == sorted(first.functions_by_name)
    lib = tree / "drivers/net/lib.c"
    lib.write_text(lib.read_text().replace("deep_helper", "deeper_helper"))
    build_index(tree, REQUEST, jobs=1)
    assert parsed and all(b"deeper_helper" in chunk for chunk in parsed)
    cache = tmp_path / "cache"
    build_index(tree, REQUEST, jobs=1, cache_dir=cache)
    fresh = tmp_path / "fresh-cache"
    monkeypatch.setattr(index_module, "_PROCESS_CHUNKS", {})
    build_index(tree, REQUEST, jobs=1, cache_dir=fresh)
    assert cachedb.open_cache(cache).info().chunks == cachedb.open_cache(fresh).info().chunks


def test_parallel_workers_never_write(tmp_path: Path) -> None:
    """Workers parse; the parent writes the chunks in one transaction."""
    tree = make_tree(tmp_path / "t")
    cache = tmp_path / "cache"
    one = build_index(tree, REQUEST, jobs=1, cache_dir=tmp_path / "c1")
    two = build_index(tree, REQUEST, jobs=2, cache_dir=cache)
    assert sorted(one.functions_by_name) == sorted(two.functions_by_name)
    assert cachedb.open_cache(cache).info().chunks == \
        cachedb.open_cache(tmp_path / "c1").info().chunks


def test_removed_trees_are_evicted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    kept, gone = git_tree(tmp_path / "kept"), git_tree(tmp_path / "gone")
    for tree in (kept, gone):
        assert main(["scan", "--tree", str(tree), "--cache-dir", str(cache)]) == 0
    database = cache / "cache.sqlite3"
    trees = {r[0] for r in rows(database, "SELECT tree FROM results")}
    assert trees == {str(kept), str(gone)}
    shutil.rmtree(gone)
    assert main(["cache", "--cache-dir", str(cache)]) == 0  # opening evicts
    assert {r[0] for r in rows(database, "SELECT tree FROM results")} == {str(kept)}
    out = capsys.readouterr().out
    assert f"cache: {database}\n" in out and "trees: 1\n" in out and "scan results: 1\n" in out


def test_stage_leaves_no_entry_for_its_temporary_worktree(tmp_path: Path) -> None:
    repo = git_tree(tmp_path / "repo")
    for key in ("user.name", "user.email"):
        subprocess.run(["git", "-C", str(repo), "config", key, "t@t"], check=True)
    cache = tmp_path / "cache"
    for i in range(2):
        assert main(["stage", "2", "--tree", str(repo), "--out", str(tmp_path / f"o{i}"),
                     "--cache-dir", str(cache)]) == 0
    info = cachedb.open_cache(cache).info()
    assert info.chunks > 0
    assert info.trees == 0  # the worktrees are gone, and so are their entries


def test_size_cap_evicts_the_least_recently_used(tmp_path: Path) -> None:
    cache = cachedb.Cache(tmp_path / "c", max_bytes=256 << 10)
    blob = os.urandom(20_000)  # incompressible payloads
    for i in range(40):
        cache.put_result("scan", tmp_path, ("key", i), blob + bytes([i]))
        cache.put_chunks([(i.to_bytes(16, "big"), blob)])
        cache._db.execute("UPDATE chunks SET used = ? WHERE key = ?",  # type: ignore[union-attr]
                          (i, i.to_bytes(16, "big")))
    info = cache.info()
    assert 0 < info.chunks < 40
    keys = sorted(int.from_bytes(r[0], "big") for r in cache._db.execute(  # type: ignore[union-attr]
        "SELECT key FROM chunks"))
    assert keys == list(range(40 - len(keys), 40))  # the newest stayed
    assert cache.result("scan", tmp_path, ("key", 39)) == blob + bytes([39])
    cache.close()  # checkpoints the write-ahead log into the database
    assert cache.path.stat().st_size < (256 << 10) + (64 << 10)
    assert not Path(f"{cache.path}-wal").exists()


def test_corrupt_entry_and_locked_database_only_warn(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    cache = cachedb.Cache(tmp_path / "c")
    cache.put_result("index", tmp_path, "k", {"a": 1})
    cache._db.execute("UPDATE results SET payload = x'800599'")  # type: ignore[union-attr]
    assert cache.result("index", tmp_path, "k") is None
    assert "unreadable cache entry" in capsys.readouterr().err
    assert cache.info().results == {}  # dropped
    other = sqlite3.connect(cache.path, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another run writing for too long
    cache._db.execute("PRAGMA busy_timeout = 50")  # type: ignore[union-attr]
    cache.put_result("index", tmp_path, "k", {"a": 1})  # skipped, with a warning
    assert "cache not used (database is locked)" in capsys.readouterr().err
    other.rollback()
    other.close()
    cache.put_result("index", tmp_path, "k", {"a": 1})
    assert cache.result("index", tmp_path, "k") == {"a": 1}
    cache.close()


def test_cache_command_and_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    tree = git_tree(tmp_path / "tree")
    assert main(["scan", "--tree", str(tree), "--cache-dir", str(cache)]) == 0
    capsys.readouterr()
    assert main(["cache", "--cache-dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "index results: 1\n" in out and "scan results: 1\n" in out
    assert "chunks: 0\n" not in out
    assert main(["cache", "--cache-dir", str(cache), "--clear"]) == 0
    out = capsys.readouterr().out
    assert "chunks: 0\n" in out and "index results: 0\n" in out and "cleared\n" in out
    assert main(["scan", "--tree", str(tree), "--cache-dir", str(cache)]) == 0  # refilled


def test_default_location_is_the_sessions_private_cache(
        _private_cache_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The conftest fixture points XDG_CACHE_HOME at a session directory: `migrate
    cache` without --cache-dir reports it, never the developer's ~/.cache/migrator."""
    assert default_cache_dir() == _private_cache_home / "migrator"
    assert main(["cache"]) == 0
    assert f"cache: {_private_cache_home / 'migrator' / 'cache.sqlite3'}\n" in \
        capsys.readouterr().out


def test_pickle_files_of_earlier_versions_are_removed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    legacy = ["chunks.pickle", "index-18a169a333807cc3.pickle", "scan-18a169a333807cc3.pickle"]
    for name in [*legacy, "notes.txt"]:
        (cache / name).write_bytes(b"x")
    cachedb.open_cache(cache)
    assert sorted(p.name for p in cache.iterdir() if "sqlite3" not in p.name) == ["notes.txt"]
