"""Bad --tree, stage numbers, --out, files and rule files: clear errors (exit 2) or a
warning and a skip, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from migrator import cli
from migrator.edit import edits
from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine
from migrator.output import apply
from migrator.packs import load_pack
from migrator.parse import tree as parse

SAMPLE = Path(__file__).resolve().parent.parent / "corpus" / "sample"
IS_ROOT = os.geteuid() == 0
GIT = ("-c", "user.name=Test Dev", "-c", "user.email=dev@example.org")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *GIT, *args], check=True,
                          capture_output=True, text=True).stdout


def make_repo(path: Path) -> Path:
    shutil.copytree(SAMPLE, path, symlinks=True)
    git(path, "init", "-q")
    git(path, "config", "user.name", "Test Dev")
    git(path, "config", "user.email", "dev@example.org")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "sample")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return rc, captured.out, captured.err


@pytest.fixture
def sample_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(SAMPLE, tree, symlinks=True)
    return tree


# --- --tree -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["scan", "status", "stage"])
def test_tree_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             command: str) -> None:
    missing = tmp_path / "nope"
    argv = [command, *(["2"] if command == "stage" else []), "--tree", str(missing)]
    rc, _, err = run(capsys, *argv)
    assert rc == 2
    assert f"{missing}: --tree does not exist" in err


@pytest.mark.parametrize("command", ["scan", "stage"])
def test_tree_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    file = tmp_path / "file.c"
    file.write_text("int x;\n")
    argv = [command, *(["2"] if command == "stage" else []), "--tree", str(file)]
    rc, _, err = run(capsys, *argv)
    assert rc == 2
    assert f"{file}: --tree is not a directory" in err


@pytest.mark.skipif(IS_ROOT, reason="root reads every directory: cannot simulate")
def test_tree_not_readable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        rc, _, err = run(capsys, "scan", "--tree", str(locked))
    finally:
        locked.chmod(0o755)
    assert rc == 2
    assert f"{locked}: --tree is not readable" in err


def test_stage_tree_not_git(sample_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "stage", "2", "--tree", str(sample_tree))
    assert rc == 2
    assert f"{sample_tree}: not a git work tree" in err


def test_stage_repo_without_commits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "empty"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    git(repo, "config", "user.name", "Test Dev")
    git(repo, "config", "user.email", "dev@example.org")
    rc, _, err = run(capsys, "stage", "2", "--tree", str(repo))
    assert rc == 2
    assert str(repo) in err and "no commits" in err


def test_stage_bare_repo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    rc, _, err = run(capsys, "stage", "2", "--tree", str(bare))
    assert rc == 2
    assert f"{bare}: a bare repository has no work tree" in err


@pytest.mark.parametrize(("stage", "problem"), [
    ("7", "stages are 1..6"), ("0", "stages are 1..6"), ("2-1", "N <= M"),
    ("x", "expected N or N-M"), ("1-", "expected N or N-M"), ("-2", "expected N or N-M"),
    ("1-9", "stages are 1..6"),
])
def test_stage_bad_number(tmp_path: Path, capsys: pytest.CaptureFixture[str], stage: str,
                          problem: str) -> None:
    rc, _, err = run(capsys, "stage", stage, "--tree", str(tmp_path))
    assert rc == 2
    assert f"stage {stage!r}" in err and problem in err


@pytest.mark.parametrize("stage", ["7", "0", "2-1", "x", "1-"])
def test_scan_bad_stage(sample_tree: Path, capsys: pytest.CaptureFixture[str],
                        stage: str) -> None:
    rc, _, err = run(capsys, "scan", "--stage", stage, "--tree", str(sample_tree))
    assert rc == 2
    assert repr(stage) in err


def test_stage_out_inside_tracked_paths(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "repo")
    out = repo / "drivers" / "net" / "series"
    rc, _, err = run(capsys, "stage", "2", "--tree", str(repo), "--out", str(out))
    assert rc == 2
    assert f"{out}: inside the tree's tracked paths" in err
    assert not out.exists()


# --- files --------------------------------------------------------------------------------

SITE = b"static int x_newlink(struct net_device *dev)\n{\n\treturn register_netdevice(dev);\n}\n"


def test_files_that_cannot_be_examined(sample_tree: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    bad = sample_tree / "drivers" / "net" / "bad"
    bad.mkdir()
    (bad / "binary.c").write_bytes(b"\0\x01\x02" + SITE)
    (bad / "huge.c").write_bytes(SITE + b"/*" + b"x" * (5 * 1024 * 1024) + b"*/\n")
    outside = sample_tree.parent / "outside.c"
    outside.write_bytes(SITE)
    (bad / "outside.c").symlink_to(outside)
    (bad / "dangling.c").symlink_to(bad / "missing.c")
    (bad / "loop.c").symlink_to(bad / "loop2.c")
    (bad / "loop2.c").symlink_to(bad / "loop.c")
    (bad / "empty.c").write_bytes(b"")
    rc, out, err = run(capsys, "scan", "--tree", str(sample_tree), "--no-cache", "-j", "1")
    assert rc == 0
    expected = {"binary.c": "binary file", "huge.c": "larger than 5 MB"}
    for name, reason in expected.items():
        assert f"drivers/net/bad/{name}: {reason}" in out
        assert f"drivers/net/bad/{name}" in err  # warned about on stderr too
    assert "not examined: 2 files" in out
    # grep -r does not follow symlinks: they never reach the parser (read_source
    # refuses them anyway, see below); an empty file has nothing to examine


def test_read_source_refuses_symlinks_and_odd_files(tmp_path: Path) -> None:
    from migrator.index.workers import read_source

    root = tmp_path / "tree"
    root.mkdir()
    (tmp_path / "outside.c").write_bytes(SITE)
    (root / "outside.c").symlink_to(tmp_path / "outside.c")
    (root / "dangling.c").symlink_to(root / "missing.c")
    (root / "loop.c").symlink_to(root / "loop2.c")
    (root / "loop2.c").symlink_to(root / "loop.c")
    (root / "inside.c").symlink_to(root / "real.c")
    (root / "real.c").write_bytes(SITE)
    (root / "dir.c").mkdir()
    assert read_source(root, "outside.c") == (None, "symlink to outside the tree")
    assert read_source(root, "dangling.c") == (None, "dangling symlink")
    src, reason = read_source(root, "loop.c")
    assert src is None and reason
    assert read_source(root, "inside.c") == (SITE, "")
    src, reason = read_source(root, "dir.c")
    assert src is None and reason.startswith("cannot read")
    assert read_source(root, "gone.c")[0] is None


@pytest.mark.skipif(IS_ROOT, reason="root reads every file: cannot simulate")
def test_unreadable_file_is_skipped(sample_tree: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    locked = sample_tree / "drivers" / "net" / "locked.c"
    locked.write_bytes(SITE)
    locked.chmod(0)
    try:
        rc, out, _ = run(capsys, "scan", "--tree", str(sample_tree), "--no-cache", "-j", "1")
    finally:
        locked.chmod(0o644)
    assert rc == 0
    assert "drivers/net/locked.c: cannot read" in out


def test_latin1_file_is_processed_byte_exactly(sample_tree: Path) -> None:
    path = "drivers/net/trivnet.c"
    full = sample_tree / path
    original = full.read_bytes()
    latin1 = b"/* Copyright (c) Fran\xe7ois M\xfcller, \xa9 2009 */\n"
    full.write_bytes(latin1 + original)
    engine = open_engine(sample_tree, PlanOptions(use_cache=False, jobs=1))
    stage_plan = engine.plan(2)
    assert not engine.index.skipped
    mine = [s for s in stage_plan.sites if s.file == path and s.outcome == "rewrite"]
    assert mine, "the Latin-1 file must be examined and rewritten"
    contents = apply.apply_plan(sample_tree, stage_plan, report=lambda _m: None)
    new = contents[path]
    assert new.startswith(latin1)
    assert b"__register_netdevice" in new
    # byte-exact outside the edits
    assert new == edits.apply_edits(full.read_bytes(),
                                    [e for s in mine for e in s.edits if e.file == path])
    assert parse.count_errors(new) <= parse.count_errors(full.read_bytes())


@pytest.mark.parametrize("damage", [
    b"static int broken(void)\n{\n\tif (x) {\n\t\tregister_netdevice(dev);\n",
    b"/* never closed\nstatic int y(void) { return register_netdevice(d); }\n",
    b'static const char *s = "never closed;\nint z(void) { register_netdevice(d); }\n',
    b"}\n}\n}\nstatic int w(void) { return register_netdevice(d); }\n",
    b"#if 0\nstatic int v(void) {\n#else\nstatic int v(void) { {\n#endif\n",
])
def test_unbalanced_c_does_not_crash(sample_tree: Path, capsys: pytest.CaptureFixture[str],
                                     damage: bytes) -> None:
    target = sample_tree / "drivers" / "net" / "qux.c"
    target.write_bytes(target.read_bytes() + damage)
    (sample_tree / "drivers" / "net" / "zz_broken.c").write_bytes(damage)
    rc, out, _ = run(capsys, "scan", "--tree", str(sample_tree), "--no-cache", "-j", "1")
    assert rc == 0
    assert "total:" in out
    engine = open_engine(sample_tree, PlanOptions(use_cache=False, jobs=1))
    for stage in range(1, 7):
        stage_plan = engine.plan(stage)
        apply.apply_plan(sample_tree, stage_plan, report=lambda _m: None)


# --- rule files ---------------------------------------------------------------------------


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(load_pack().rules_dir, rules)
    return rules


def _break_rule(rules: Path, old: str, new: str) -> Path:
    path = rules / "stage2-t1-register-netdevice" / "rule.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(("old", "new", "problem"), [
    ("stage = 2", "stage = = 2", "malformed rule file"),
    ("stage = 2", "", "missing field 'stage'"),
    ("stage = 2", 'stage = "two"', "field 'stage' must be of type int"),
])
def test_malformed_rule_file(sample_tree: Path, rules_copy: Path,
                             capsys: pytest.CaptureFixture[str], old: str, new: str,
                             problem: str) -> None:
    path = _break_rule(rules_copy, old, new)
    rc, _, err = run(capsys, "scan", "--tree", str(sample_tree), "--rules", str(rules_copy),
                     "--no-cache")
    assert rc == 2
    assert str(path) in err and problem in err


def test_rule_list_field_of_wrong_type(sample_tree: Path, rules_copy: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = rules_copy / "stage2-t1-register-netdevice" / "rule.toml"
    text = path.read_text()
    start = text.index("calls")
    end = text.index("\n", start)
    path.write_text(text[:start] + "calls = 3" + text[end:])
    rc, _, err = run(capsys, "scan", "--tree", str(sample_tree), "--rules", str(rules_copy),
                     "--no-cache")
    assert rc == 2
    assert str(path) in err and "'select.calls' must be a list of strings" in err


# --- cover letter ---------------------------------------------------------------------------


def test_stage_cover_letter_counts_files_not_examined(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo, symlinks=True)
    (repo / "drivers" / "net" / "blob.c").write_bytes(b"\0\0" + SITE)
    make_repo_in_place(repo)
    out = tmp_path / "out"
    rc, _stdout, err = run(capsys, "stage", "2", "--tree", str(repo), "--out", str(out))
    assert rc == 0, err
    cover = (out / "0000-cover-letter.patch").read_text()
    assert "Files not examined: 1 (drivers/net/blob.c: binary file)." in cover
    assert "drivers/net/blob.c" in err
    assert git(repo, "status", "--porcelain") == ""


def make_repo_in_place(path: Path) -> None:
    git(path, "init", "-q")
    git(path, "config", "user.name", "Test Dev")
    git(path, "config", "user.email", "dev@example.org")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "sample")


def test_failing_git_step_is_an_error_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from git.exc import GitCommandError

    import migrator.cli as cli

    def failing_git(args: object) -> int:
        raise GitCommandError(["git", "add", "--", "x.c"], 128, b"fatal: index.lock exists")

    parser = cli.build_parser()
    parser.parse_args(["status"])  # the subcommand exists
    monkeypatch.setattr("migrator.commands.status.run", failing_git)
    assert cli.main(["status", "--tree", "."]) == 2
    err = capsys.readouterr().err
    assert "migrate: error: git add" in err and "index.lock exists" in err
    assert "Traceback" not in err
