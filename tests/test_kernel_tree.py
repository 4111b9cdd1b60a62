"""kernel_tree.py: .gitignore fix, idempotent/interruptible unpacking, the real tree."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import kernel_tree as kt
import pytest

DEBIAN_TAIL = (
    "#\n"
    "# Debian packaging: ignore everything at the top level, since it isn't\n"
    "# included in our repository\n"
    "#\n"
    "/*\n"
    "!/debian/\n"
)


# --------------------------------------------------------------------------- .gitignore


def test_fix_gitignore_removes_exactly_the_two_debian_lines() -> None:
    head = ".*\n*.o\n/vmlinux*\n!.gitignore\n"
    text = head + DEBIAN_TAIL
    fixed = kt.fix_debian_gitignore(text)
    assert fixed == head + DEBIAN_TAIL.replace("/*\n!/debian/\n", "")
    assert "/*\n" not in fixed.splitlines(keepends=True)
    assert kt.fix_debian_gitignore(fixed) == fixed  # idempotent


@pytest.mark.parametrize(
    "line",
    ["/*.o", "/*/", "!/debian/foo", "debian/", "# /*", " /*x", "/**"],
)
def test_fix_gitignore_keeps_similar_lines(line: str) -> None:
    text = f"a\n{line}\nb\n"
    assert kt.fix_debian_gitignore(text) == text


def test_fix_gitignore_line_endings_and_no_final_newline() -> None:
    assert kt.fix_debian_gitignore("x\r\n/*\r\n!/debian/  \r\ny") == "x\r\ny"
    assert kt.fix_debian_gitignore("x\n/*") == "x\n"
    assert kt.fix_debian_gitignore("") == ""


# --------------------------------------------------------------------------- unpacking


def make_tarball(path: Path, files: dict[str, str], top: str = "linux-source-9.9") -> Path:
    with tarfile.open(path, "w:xz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            info.mode = 0o755 if name.endswith(".sh") else 0o644
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return path


FILES = {
    "Makefile": "VERSION = 9\n",
    ".gitignore": ".*\n*.o\n" + DEBIAN_TAIL,
    # hidden by the tree's own ".*" pattern, tracked upstream all the same
    ".gitattributes": "*.c   diff=cpp\n",
    ".mailmap": "A <a@b>\n",
    "drivers/net/.gitignore": "*.mod\n",
    "drivers/net/veth.c": "int veth;\n",
    "scripts/x.sh": "#!/bin/sh\n",
}


def git(root: Path, *args: str) -> str:
    res = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return res.stdout


@pytest.fixture
def tarball(tmp_path: Path) -> Path:
    return make_tarball(tmp_path / "linux-source-9.9.tar.xz", FILES)


def test_prepare_tree_git_repo(tmp_path: Path, tarball: Path) -> None:
    dest = tmp_path / "cache" / "linux-source-9.9"
    out = kt.prepare_tree(tarball, dest, message="Linux 9.9\n")
    assert out == dest
    assert (dest / "drivers/net/veth.c").read_text() == "int veth;\n"
    assert "!/debian/" not in (dest / ".gitignore").read_text()
    assert (dest / kt.MARKER_NAME).is_file()
    assert git(dest, "status", "--porcelain", "--untracked-files=all") == ""
    tracked = set(git(dest, "ls-files").split())
    assert {"Makefile", "drivers/net/veth.c", "scripts/x.sh"} <= tracked
    assert kt.MARKER_NAME not in tracked
    assert git(dest, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(dest, "config", "gc.auto").strip() == "0"
    assert git(dest, "log", "-1", "--format=%an <%ae> %ad|%cn %cd", "--date=raw").strip() == (
        "Kernel Import <import@localhost> 1795305571 +0000|Kernel Import 1795305571 +0000"
    )
    assert not list(dest.parent.glob(".tmp-*"))


def test_every_file_of_the_tarball_is_tracked(tmp_path: Path, tarball: Path) -> None:
    dest = kt.prepare_tree(tarball, tmp_path / "t", message="m\n")
    assert set(git(dest, "ls-files").split()) == set(FILES)
    # the attributes are in force: hunk headers name C functions
    assert git(dest, "check-attr", "diff", "drivers/net/veth.c").split()[-1] == "cpp"


def test_tree_committed_without_dotfiles_is_committed_again(tmp_path: Path,
                                                            tarball: Path) -> None:
    dest = kt.prepare_tree(tarball, tmp_path / "t", message="m\n")
    old = (dest / kt.MARKER_NAME).read_text().replace('"all_files": true', '"all_files": false')
    (dest / kt.MARKER_NAME).write_text(old)
    assert not kt.is_complete(dest, git=True)

    def no_unpack(tb: Path, into: Path) -> None:
        raise AssertionError("must not unpack again")

    kt.prepare_tree(tarball, dest, message="m\n", unpack=no_unpack)
    assert kt.is_complete(dest, git=True)
    assert ".gitattributes" in git(dest, "ls-files").split()
    assert git(dest, "status", "--porcelain", "--untracked-files=all") == ""


def test_commit_id_is_reproducible(tmp_path: Path, tarball: Path) -> None:
    a = kt.prepare_tree(tarball, tmp_path / "a" / "t", message="m\n")
    b = kt.prepare_tree(tarball, tmp_path / "b" / "t", message="m\n")
    assert git(a, "rev-parse", "HEAD") == git(b, "rev-parse", "HEAD")


def test_prepare_tree_is_idempotent(tmp_path: Path, tarball: Path) -> None:
    calls: list[Path] = []

    def unpack(tb: Path, into: Path) -> None:
        calls.append(tb)
        kt.tar_unpack(tb, into)

    dest = tmp_path / "t"
    kt.prepare_tree(tarball, dest, unpack=unpack)
    head = git(dest, "rev-parse", "HEAD")
    kt.prepare_tree(tarball, dest, unpack=unpack)
    assert len(calls) == 1
    assert git(dest, "rev-parse", "HEAD") == head


def test_interrupted_unpack_leaves_nothing_and_is_redone(tmp_path: Path, tarball: Path) -> None:
    def broken(tb: Path, into: Path) -> None:
        kt.tar_unpack(tb, into)
        raise KeyboardInterrupt

    dest = tmp_path / "t"
    with pytest.raises(KeyboardInterrupt):
        kt.prepare_tree(tarball, dest, unpack=broken)
    assert not dest.exists()
    assert not list(tmp_path.glob(".tmp-*"))
    kt.prepare_tree(tarball, dest)
    assert kt.is_complete(dest, git=True)


def test_stale_temp_dir_is_removed(tmp_path: Path, tarball: Path) -> None:
    stale = tmp_path / ".tmp-t-abc"
    (stale / "junk").mkdir(parents=True)
    dest = tmp_path / "t"
    kt.prepare_tree(tarball, dest)
    assert not stale.exists()
    assert kt.is_complete(dest, git=True)


def test_foreign_dest_is_never_deleted(tmp_path: Path, tarball: Path) -> None:
    dest = tmp_path / "t"
    (dest / "mine").mkdir(parents=True)  # no marker, no commit: not ours
    assert not kt.is_complete(dest, git=False)
    with pytest.raises(kt.KernelTreeError, match="not a complete tree"):
        kt.prepare_tree(tarball, dest)
    assert (dest / "mine").is_dir()


def test_plain_tree_then_git(tmp_path: Path, tarball: Path) -> None:
    dest = tmp_path / "t"
    kt.prepare_tree(tarball, dest, git=False)
    assert kt.is_complete(dest, git=False)
    assert not (dest / ".git").exists()
    assert not kt.is_complete(dest, git=True)

    def no_unpack(tb: Path, into: Path) -> None:
        raise AssertionError("must not unpack again")

    kt.prepare_tree(tarball, dest, git=True, unpack=no_unpack)
    assert kt.is_complete(dest, git=True)
    assert git(dest, "status", "--porcelain", "--untracked-files=all") == ""
    assert "worktree" not in git(dest, "config", "--list")


def test_foreign_finished_repo_without_marker_is_reused(tmp_path: Path, tarball: Path) -> None:
    dest = tmp_path / "t"
    kt.prepare_tree(tarball, dest)
    (dest / kt.MARKER_NAME).unlink()  # as in a tree prepared by other means
    assert kt.is_complete(dest, git=True)
    assert kt.is_complete(dest, git=False)

    def no_unpack(tb: Path, into: Path) -> None:
        raise AssertionError("must not unpack again")

    assert kt.prepare_tree(tarball, dest, git=False, unpack=no_unpack) == dest
    assert (dest / "Makefile").is_file()


def test_kernel_tree_uses_cache_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    tarball = make_tarball(tmp_path / "src.tar.xz", FILES, top="linux-source-9.9")
    monkeypatch.setattr(kt, "tarball_path", lambda version: tarball)
    monkeypatch.setenv(kt.CACHE_ENV, str(tmp_path / "kc"))
    out = kt.kernel_tree("9.9")
    assert out == tmp_path / "kc" / "linux-source-9.9"
    assert git(out, "log", "-1", "--format=%s").strip() == "Linux 9.9 (Debian linux-source-9.9)"
    assert kt.kernel_tree("9.9") == out


def test_unavailable_when_not_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(kt, "tarball_path", lambda version: tmp_path / "missing.tar.xz")
    monkeypatch.setattr(kt.os, "geteuid", lambda: 1000)
    with pytest.raises(kt.KernelTreeUnavailable, match="root"):
        kt.kernel_tree("9.9", cache_dir=tmp_path / "kc")


def test_unavailable_when_apt_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cmds: list[list[str]] = []

    def fake_run(
        cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        cmds.append(cmd)
        return subprocess.CompletedProcess(cmd, 100, "", "E: Could not resolve 'deb.debian.org'")

    monkeypatch.setattr(kt, "tarball_path", lambda version: tmp_path / "missing.tar.xz")
    monkeypatch.setattr(kt.os, "geteuid", lambda: 0)
    monkeypatch.setattr(kt.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(kt, "_run", fake_run)
    with pytest.raises(kt.KernelTreeUnavailable, match="Could not resolve") as info:
        kt.kernel_tree("9.9", cache_dir=tmp_path / "kc")
    assert info.value.reason
    assert [c[:2] for c in cmds] == [
        ["apt-get", "install"],
        ["apt-get", "update"],
        ["apt-get", "install"],
    ]
    assert "linux-source-9.9" in cmds[0]


# --------------------------------------------------------------------------- the real tree


@pytest.mark.kernel
def test_kernel_612_tree(kernel_612: Path) -> None:
    assert (kernel_612 / "drivers/net/veth.c").is_file()
    assert git(kernel_612, "status", "--porcelain") == ""
    assert git(kernel_612, "rev-list", "--count", "HEAD").strip() == "1"
    gitignore = (kernel_612 / ".gitignore").read_text()
    assert "/*" not in gitignore.splitlines()
