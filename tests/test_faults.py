"""Faults: kills during `migrate stage`, full disk / unwritable --out, concurrent runs,
a parser exception in one file, corrupt caches."""

from __future__ import annotations

import errno
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from migrator import cli
from migrator.commands import stage as stage_command
from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine
from migrator.index import cache as cachedb
from migrator.model.lock import run_lock

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "corpus" / "sample"
GIT = ("-c", "user.name=Test Dev", "-c", "user.email=dev@example.org")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *GIT, *args], check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    shutil.copytree(SAMPLE, path, symlinks=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test Dev")
    git(path, "config", "user.email", "dev@example.org")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "sample")
    git(path, "branch", "side")
    return path


def repo_state(path: Path) -> dict[str, str]:
    index = (path / ".git" / "index").read_bytes()
    return {
        "branches": git(path, "for-each-ref", "--format=%(refname) %(objectname)"),
        "head": git(path, "rev-parse", "HEAD") + git(path, "symbolic-ref", "HEAD"),
        "index": hashlib.sha256(index).hexdigest(),
        "cached": git(path, "diff", "--cached"),
        "status": git(path, "status", "--porcelain", "--ignored"),
        "worktrees": git(path, "worktree", "list", "--porcelain"),
    }


def stage_cmd(repo: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "migrator.cli", "stage", "2", "--tree", str(repo),
            "--out", str(out), *extra]


def env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp / "cache")}


def assert_out_absent_or_complete(out: Path) -> None:
    if not out.exists():
        return
    names = sorted(p.name for p in out.iterdir())
    assert names and names[0] == "0000-cover-letter.patch", names
    numbered = [n for n in names if n[:4].isdigit() and n != "0000-cover-letter.patch"]
    assert numbered == [f"{i:04d}" + n[4:] for i, n in enumerate(numbered, 1)]
    cover = (out / "0000-cover-letter.patch").read_text()
    assert f"[PATCH net-next 0/{len(numbered)}]" in cover  # corpus/sample: netdev files


# --- kills ----------------------------------------------------------------------------------


def test_kill_during_stage_leaves_repo_untouched(repo: Path, tmp_path: Path) -> None:
    before = repo_state(repo)
    started = time.monotonic()
    reference = subprocess.run(stage_cmd(repo, tmp_path / "ref"), env=env(tmp_path),
                               capture_output=True, text=True, timeout=300)
    assert reference.returncode == 0, reference.stderr
    full = time.monotonic() - started
    assert repo_state(repo) == before
    rng = random.Random(20261122)
    iterations = 4
    for i in range(iterations):
        out = tmp_path / f"out{i}"
        proc = subprocess.Popen(stage_cmd(repo, out), env=env(tmp_path),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.2, max(0.3, full * 0.9)))
        sig = rng.choice([signal.SIGINT, signal.SIGTERM])
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        assert "Traceback" not in err, err
        assert proc.returncode in (0, 130, -sig, 128 + sig), (proc.returncode, err)
        assert repo_state(repo) == before, f"iteration {i} ({sig.name})"
        assert_out_absent_or_complete(out)
        leftovers = [p for p in out.parent.iterdir() if p.name.startswith(f".out{i}.")]
        assert not leftovers


def test_interrupt_while_the_cache_closes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The last thing a run does is close the cache, after `stage` has restored the
    default handlers: a ^C then (the kill test above hits it now and then) is an
    interruption like any other, never a traceback."""
    real_close_all = cachedb.close_all

    def interrupted() -> None:
        real_close_all()
        raise KeyboardInterrupt

    monkeypatch.setattr(cachedb, "close_all", interrupted)
    try:
        rc = cli.main(["cache", "--cache-dir", str(tmp_path / "cache")])
    except KeyboardInterrupt:  # (not raised on: it would stop the whole test session)
        pytest.fail("KeyboardInterrupt escaped cli.main")
    assert rc == 130
    assert capsys.readouterr().err == "migrate: interrupted\n"


_POOL_START_SCRIPT = """
import shutil, sys, time
from pathlib import Path
import migrator.index.build as index
from migrator.model import signals
from migrator.engine.planner import open_engine
from migrator.engine.plan import PlanOptions

real_init = index._worker_init

def slow_init():  # a worker slow to start: Pool.terminate() comes before its initializer
    time.sleep(0.5)
    real_init()

def interrupted(self):  # the signal is seen as soon as the pool exists
    self._pool = self._start_pool()
    raise KeyboardInterrupt

index._worker_init = slow_init
index.IndexBuilder._closure = interrupted
tree = Path(sys.argv[2])
shutil.copytree(sys.argv[1], tree, symlinks=True)
with signals.deferred():  # the handlers `migrate stage` runs under
    try:
        open_engine(tree, PlanOptions(use_cache=False, jobs=2))
    except KeyboardInterrupt:
        print("interrupted")
"""


def test_interrupt_while_the_parser_pool_starts(tmp_path: Path) -> None:
    """Every pool worker stops at Pool.terminate(), also one that has not run its
    initializer yet (the SIGTERM reached the parent's handler the worker inherited, which
    swallowed it, and the run then waited for that worker forever)."""
    proc = subprocess.Popen([sys.executable, "-c", _POOL_START_SCRIPT, str(SAMPLE),
                             str(tmp_path / "tree")], env=env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its stuck worker
        proc.communicate()
        pytest.fail("the run waited forever for a pool worker that missed its SIGTERM")
    assert (proc.returncode, out) == (0, "interrupted\n"), err


# --- disk full / permission denied -----------------------------------------------------------


def test_disk_full_when_moving_out_into_place(repo: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    before = repo_state(repo)
    real_rename = Path.rename

    def full_disk(self: Path, target: Path) -> Path:  # type: ignore[override]
        if Path(target).name == "out":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", full_disk)
    out = tmp_path / "out"
    rc = cli.main(["stage", "2", "--tree", str(repo), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{out}: cannot write the series: No space left on device" in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    assert repo_state(repo) == before


def test_disk_full_keeps_previous_out(repo: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.patch").write_text("old\n")
    real_rename = Path.rename

    def full_disk(self: Path, target: Path) -> Path:  # type: ignore[override]
        if Path(target) == out and ".tmp-" in self.name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", full_disk)
    rc = cli.main(["stage", "2", "--tree", str(repo), "--out", str(out), "--force"])
    assert rc == 2
    assert "No space left on device" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["old.patch"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_out_parent_not_writable(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    parent = tmp_path / "ro"
    parent.mkdir()
    out = parent / "out"
    if os.geteuid() == 0:  # root writes anywhere: simulate the refusal
        real_mkdtemp = stage_command.tempfile.mkdtemp

        def denied(*args: object, **kwargs: object) -> str:
            if kwargs.get("dir") == parent:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(parent))
            return real_mkdtemp(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(stage_command.tempfile, "mkdtemp", denied)
    else:
        parent.chmod(0o555)
    try:
        rc = cli.main(["stage", "2", "--tree", str(repo), "--out", str(out)])
    finally:
        parent.chmod(0o755)
    assert rc == 2
    assert f"{out}: cannot write the series: Permission denied" in capsys.readouterr().err
    assert list(parent.iterdir()) == []


# --- concurrent runs -----------------------------------------------------------------------


def test_second_run_refuses_while_first_holds_the_lock(repo: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    before = repo_state(repo)
    with run_lock(repo / ".git") as lock:
        assert lock == repo / ".git" / "migrate.lock"
        rc = cli.main(["stage", "2", "--tree", str(repo), "--out", str(tmp_path / "out")])
        err = capsys.readouterr().err
    assert rc == 2
    assert f"{lock}: another migrate run (pid {os.getpid()}) is working" in err
    assert not (tmp_path / "out").exists()
    assert repo_state(repo) == before
    assert "migrate.lock" not in git(repo, "status", "--porcelain", "--ignored")


def test_concurrent_stage_runs_never_interleave(repo: Path, tmp_path: Path) -> None:
    procs = [subprocess.Popen(stage_cmd(repo, tmp_path / f"out{i}"), env=env(tmp_path),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    for _out, err in results:
        assert "Traceback" not in err
    # either both ran one after the other, or one refused clearly
    assert codes in ([0, 0], [0, 2]), results
    for i, proc in enumerate(procs):
        if proc.returncode == 2:
            assert "another migrate run" in results[i][1]
            assert not (tmp_path / f"out{i}").exists()
        else:
            assert_out_absent_or_complete(tmp_path / f"out{i}")
    assert git(repo, "worktree", "list").count("\n") == 1


def test_lock_waits_then_refuses(tmp_path: Path) -> None:
    from migrator.model.errors import MigratorError

    with run_lock(tmp_path), pytest.raises(MigratorError, match="another migrate run"):
        started = time.monotonic()
        with run_lock(tmp_path, wait=0.3):
            pass
    assert time.monotonic() - started >= 0.3
    with run_lock(tmp_path):  # released
        pass


# --- parallel safety -----------------------------------------------------------------------


@pytest.mark.parametrize("jobs", [1, 2])
def test_parser_exception_in_one_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], jobs: int) -> None:
    import migrator.index.build as index_module

    tree = tmp_path / "tree"
    shutil.copytree(SAMPLE, tree, symlinks=True)
    reference = open_engine(tree, PlanOptions(use_cache=False, jobs=jobs)).plan(2)
    real = index_module.extract_chunk

    def flaky(chunk: bytes):  # type: ignore[no-untyped-def]
        if b"vpair_newlink" in chunk:
            raise ValueError("parser exploded")
        return real(chunk)

    monkeypatch.setattr(index_module, "extract_chunk", flaky)
    # the chunks the reference parsed are remembered by this process: parse them again
    monkeypatch.setattr(index_module, "_PROCESS_CHUNKS", {})
    engine = open_engine(tree, PlanOptions(use_cache=False, jobs=jobs))
    plan = engine.plan(2)
    err = capsys.readouterr().err
    assert "drivers/net/vpair.c: parser failed (ValueError: parser exploded)" in err
    assert any(s.startswith("drivers/net/vpair.c: parser failed") for s in engine.index.skipped)
    expected = [(s.file, s.line, s.rule) for s in reference.sites
                if s.file != "drivers/net/vpair.c"]
    got = [(s.file, s.line, s.rule) for s in plan.sites]
    assert got == expected


def test_corrupt_cache_is_rebuilt(repo: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "scan-cache"
    argv = ["scan", "--tree", str(repo), "--list", "--cache-dir", str(cache), "-j", "1"]
    assert cli.main(argv) == 0
    first = capsys.readouterr().out
    database = cache / "cache.sqlite3"
    assert database.is_file()
    for path in cache.iterdir():  # the database (and a write-ahead log, if one is left)
        path.write_bytes(b"\x80\x05garbage, not a database" * 300)
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == first
    assert f"{database}: unreadable cache" in captured.err
    assert "Traceback" not in captured.err
    assert cli.main(argv) == 0  # rebuilt: read back without a warning
    captured = capsys.readouterr()
    assert captured.out == first and "unreadable cache" not in captured.err


def test_no_space_for_the_temporary_worktree(repo: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from migrator.model import gitops

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    real_mkdtemp = gitops.tempfile.mkdtemp

    def full(*args: object, **kwargs: object) -> str:
        if kwargs.get("prefix") == gitops.WORKTREE_PREFIX:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/tmp")
        return real_mkdtemp(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(gitops.tempfile, "mkdtemp", full)
    before = repo_state(repo)
    rc = cli.main(["stage", "2", "--tree", str(repo), "--out", str(tmp_path / "out")])
    assert rc == 2
    assert "cannot create a temporary worktree: No space left on device" in \
        capsys.readouterr().err
    assert repo_state(repo) == before
