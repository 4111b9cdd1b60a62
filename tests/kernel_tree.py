"""Real Linux source trees to test and benchmark against (SPEC §6).

``kernel_tree("6.12")`` returns an unpacked copy of Debian's ``linux-source-6.12``
package, made into a git repository with a single, reproducible commit::

    /usr/src/linux-source-6.12.tar.xz        (apt-get install linux-source-6.12)
        -> <cache>/linux-source-6.12/         (git repo, one commit, gc.auto 0)

The cache directory is ``$MIGRATOR_KERNEL_CACHE`` if set, else
``<project root>/.cache/kernels`` (git-ignored).

Preparing a tree is idempotent and safe to interrupt: the tarball is unpacked
(and committed) in a temporary directory beside the destination, a marker file
is written, and only then is the directory renamed into place.  A process-wide
``flock`` on ``<cache>/linux-source-<v>.lock`` serialises concurrent callers.
A destination directory without the marker is accepted when it is visibly a
finished repository (this is how a tree prepared by other means, e.g. a shared
``/work/kcache``, is reused); anything else is never trusted.

When the package is not installed and cannot be (no apt-get, not root, no
network) :class:`KernelTreeUnavailable` is raised; tests turn it into a skip.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

# The project's root: the kernel cache lives in its git-ignored .cache/.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

__all__ = [
    "COMMIT_DATE",
    "COMMIT_IDENT",
    "DEBIAN_GITIGNORE_LINES",
    "MARKER_NAME",
    "KernelTreeError",
    "KernelTreeUnavailable",
    "default_cache_dir",
    "ensure_source_tarball",
    "fix_debian_gitignore",
    "git_commit_tree",
    "is_complete",
    "kernel_tree",
    "prepare_tree",
    "tarball_path",
]

CACHE_ENV = "MIGRATOR_KERNEL_CACHE"
MARKER_NAME = ".migrator-kernel-tree.json"
# The two lines Debian appends to the kernel's top-level .gitignore (its packaging
# repository only tracks debian/): they make git ignore every top-level entry.
DEBIAN_GITIGNORE_LINES: tuple[str, ...] = ("/*", "!/debian/")

# Fixed identity and date, so that the same tarball always gives the same commit id
# (chosen to equal the tree prepared in /work/kcache, so both are interchangeable).
COMMIT_IDENT = ("Kernel Import", "import@localhost")
COMMIT_DATE = "1795305571 +0000"

Unpacker = Callable[[Path, Path], None]


class KernelTreeError(RuntimeError):
    """Preparing the tree failed (bad tarball, git failure, ...)."""


class KernelTreeUnavailable(KernelTreeError):
    """The source package is not installed and cannot be installed here."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- paths


def default_cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return PROJECT_ROOT / ".cache" / "kernels"


def tarball_path(version: str) -> Path:
    return Path("/usr/src") / f"linux-source-{version}.tar.xz"


def commit_message(version: str) -> str:
    return f"Linux {version} (Debian linux-source-{version})\n"


# --------------------------------------------------------------------------- package


def _run(
    cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def _tail(text: str, n: int = 6) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(lines[-n:])


def apt_install(packages: list[str]) -> None:
    """``apt-get install -y PACKAGES``; on failure ``apt-get update`` once and retry.

    Raises :class:`KernelTreeUnavailable` when apt-get is missing, we are not root,
    or the install still fails (typically: no network / mirror unreachable).
    """
    what = " ".join(packages)
    if shutil.which("apt-get") is None:
        raise KernelTreeUnavailable(f"{what} is not installed and apt-get is not available")
    if os.geteuid() != 0:
        raise KernelTreeUnavailable(
            f"{what} is not installed and installing it needs root "
            f"(run: sudo apt-get install -y {what})"
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    res = _run(install, env=env)
    if res.returncode == 0:
        return
    upd = _run(["apt-get", "update"], env=env)
    res = _run(install, env=env)
    if res.returncode != 0:
        detail = _tail(res.stderr or res.stdout)
        if upd.returncode != 0:
            detail = f"apt-get update failed: {_tail(upd.stderr or upd.stdout)}; {detail}"
        raise KernelTreeUnavailable(
            f"cannot install {what} (package manager unreachable?): {detail}"
        )


def ensure_source_tarball(version: str) -> Path:
    """Path of ``/usr/src/linux-source-<version>.tar.xz``, installing the package if needed."""
    tarball = tarball_path(version)
    if tarball.is_file():
        return tarball
    apt_install([f"linux-source-{version}"])
    if not tarball.is_file():
        raise KernelTreeUnavailable(
            f"linux-source-{version} installed but {tarball} does not exist"
        )
    return tarball


# --------------------------------------------------------------------------- .gitignore


def fix_debian_gitignore(text: str) -> str:
    """Remove exactly the Debian lines ``/*`` and ``!/debian/`` from a .gitignore text.

    Only whole lines equal to those patterns (trailing whitespace ignored) go;
    everything else, including line endings and the comment above them, is kept.
    """
    kept = [
        line
        for line in text.splitlines(keepends=True)
        if line.rstrip() not in DEBIAN_GITIGNORE_LINES
    ]
    return "".join(kept)


def _fix_gitignore_file(root: Path) -> None:
    path = root / ".gitignore"
    if not path.is_file():
        return
    old = path.read_text(encoding="utf-8", errors="surrogateescape")
    new = fix_debian_gitignore(old)
    if new != old:
        path.write_text(new, encoding="utf-8", errors="surrogateescape")


# --------------------------------------------------------------------------- git


def _git_env() -> dict[str, str]:
    name, email = COMMIT_IDENT
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("GIT_"):
            del env[key]
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME=name,
        GIT_AUTHOR_EMAIL=email,
        GIT_AUTHOR_DATE=COMMIT_DATE,
        GIT_COMMITTER_NAME=name,
        GIT_COMMITTER_EMAIL=email,
        GIT_COMMITTER_DATE=COMMIT_DATE,
    )
    return env


def _git(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    res = _run(["git", *args], cwd=cwd, env=env)
    if res.returncode != 0:
        raise KernelTreeError(f"git {' '.join(args)} failed in {cwd}: {_tail(res.stderr)}")
    return res.stdout.strip()


def git_commit_tree(root: Path, message: str) -> str:
    """``git init`` + ``git add -A`` + one commit with fixed identity/date; returns its id.

    Any existing (possibly half-made) ``.git`` in *root* is discarded first.
    """
    if shutil.which("git") is None:
        raise KernelTreeUnavailable("git is not installed")
    shutil.rmtree(root / ".git", ignore_errors=True)
    env = _git_env()
    return _init_add_commit(root, message, env, root / ".git")


def _init_add_commit(cwd: Path, message: str, env: dict[str, str], gitdir: Path) -> str:
    _git(["-c", "init.defaultBranch=master", "init", "-q"], cwd, env)
    for key, value in (
        ("gc.auto", "0"),
        ("core.autocrlf", "false"),
        ("core.filemode", "true"),
        ("commit.gpgsign", "false"),
    ):
        _git(["config", key, value], cwd, env)
    # Our marker file is never part of the commit, nor "untracked" afterwards.
    exclude = gitdir / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    with open(exclude, "a", encoding="utf-8") as fh:
        fh.write(f"/{MARKER_NAME}\n/{MARKER_NAME}.tmp\n")
    _git(["add", "-A"], cwd, env)
    # Every file of the tarball, as an upstream checkout tracks it: the kernel's own
    # .gitignore hides .gitattributes (diff=cpp hunk headers), .mailmap, .gitignore files.
    _git(["add", "-f", "-A", "--", ".", f":(exclude){MARKER_NAME}",
          f":(exclude){MARKER_NAME}.tmp"], cwd, env)
    _git(["commit", "-q", "--no-verify", "-m", message.rstrip("\n")], cwd, env)
    return _git(["rev-parse", "HEAD"], cwd, env)


def _head_commit(root: Path) -> str | None:
    if not (root / ".git").exists():
        return None
    res = _run(["git", "rev-parse", "--verify", "-q", "HEAD^{commit}"], cwd=root, env=_git_env())
    return res.stdout.strip() if res.returncode == 0 else None


# --------------------------------------------------------------------------- unpacking


def tar_unpack(tarball: Path, dest: Path) -> None:
    """Extract *tarball* (any compression tar understands) into directory *dest*."""
    res = _run(["tar", "-xf", str(tarball), "-C", str(dest), "--no-same-owner"])
    if res.returncode != 0:
        raise KernelTreeError(f"cannot unpack {tarball}: {_tail(res.stderr)}")


def _single_root(unpacked: Path) -> Path:
    entries = [p for p in unpacked.iterdir()]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return unpacked


def _read_marker(dest: Path) -> dict[str, object] | None:
    try:
        data = json.loads((dest / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_complete(dest: Path, *, git: bool) -> bool:
    """True when *dest* is a finished tree (with a git commit if *git*)."""
    if not dest.is_dir():
        return False
    marker = _read_marker(dest)
    if marker is not None and marker.get("complete") is True:
        # Trees committed before every file was tracked get their commit made again.
        return not git or (marker.get("all_files") is True and _head_commit(dest) is not None)
    # No marker: accept a tree prepared elsewhere only if it is plainly finished.
    return (dest / "Makefile").is_file() and _head_commit(dest) is not None


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_marker(root: Path, info: dict[str, object]) -> None:
    tmp = root / (MARKER_NAME + ".tmp")
    tmp.write_text(json.dumps({**info, "complete": True}, indent=1) + "\n", encoding="utf-8")
    tmp.replace(root / MARKER_NAME)


def prepare_tree(
    tarball: Path,
    dest: Path,
    *,
    git: bool = True,
    message: str = "Import\n",
    unpack: Unpacker = tar_unpack,
) -> Path:
    """Make *dest* an unpacked (and, if *git*, committed) copy of *tarball*.

    Idempotent: returns at once when *dest* is already complete (an existing *dest*
    that is not is left alone and :class:`KernelTreeError` raised).  The work happens
    in ``<dest.parent>/.tmp-<dest.name>-*`` and is renamed into place at the end, so
    an interrupted run leaves *dest* absent (or as it was) and is simply redone.
    A complete tree without git gets its repository added (built beside it, then
    moved in) when *git* is asked for later.
    """
    dest = Path(dest)
    parent = dest.parent
    parent.mkdir(parents=True, exist_ok=True)
    with _locked(parent / f"{dest.name}.lock"):
        for stale in parent.glob(f".tmp-{dest.name}-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if is_complete(dest, git=git):
            return dest
        if is_complete(dest, git=False) and git:
            _add_git_in_place(dest, message)
            return dest
        if dest.exists():
            # We only ever rename finished trees into place: this is not ours.
            raise KernelTreeError(
                f"{dest} exists but is not a complete tree (no {MARKER_NAME}, no commit); "
                "remove it to have it prepared again"
            )
        work = Path(tempfile.mkdtemp(prefix=f".tmp-{dest.name}-", dir=parent))
        try:
            unpack(Path(tarball), work)
            root = _single_root(work)
            if not (root.is_dir() and any(root.iterdir())):
                raise KernelTreeError(f"{tarball} unpacked to nothing")
            _fix_gitignore_file(root)
            info: dict[str, object] = {"tarball": str(tarball), "git": git}
            with contextlib.suppress(OSError):
                st = Path(tarball).stat()
                info.update(tarball_size=st.st_size, tarball_mtime=int(st.st_mtime))
            if git:
                info.update(commit=git_commit_tree(root, message), all_files=True)
            _write_marker(root, info)
            if root == work:  # no single top directory: mkdtemp made it 0700
                root.chmod(0o755)
            root.rename(dest)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return dest


def _add_git_in_place(dest: Path, message: str) -> None:
    """Give a complete plain tree a repository; .git is built aside and renamed in."""
    work = Path(tempfile.mkdtemp(prefix=f".tmp-{dest.name}-", dir=dest.parent))
    try:
        gitdir = work / ".git"
        env = dict(_git_env(), GIT_DIR=str(gitdir), GIT_WORK_TREE=str(dest))
        commit = _init_add_commit(dest, message, env, gitdir)
        # `git init` recorded core.worktree (from GIT_WORK_TREE): not wanted in .git.
        _run(["git", "config", "--unset", "core.worktree"], cwd=dest, env=env)
        info = _read_marker(dest) or {}
        info.update(git=True, commit=commit, all_files=True)
        shutil.rmtree(dest / ".git", ignore_errors=True)
        gitdir.rename(dest / ".git")
        _write_marker(dest, info)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- entry point


def kernel_tree(version: str = "6.12", *, git: bool = True, cache_dir: Path | None = None) -> Path:
    """Path of the unpacked ``linux-source-<version>`` tree (a one-commit git repo if *git*).

    Raises :class:`KernelTreeUnavailable` when the Debian package is missing and
    cannot be installed, :class:`KernelTreeError` on other failures.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    dest = cache / f"linux-source-{version}"
    if is_complete(dest, git=git):  # fast path: no lock, no package check
        return dest
    tarball = ensure_source_tarball(version)
    return prepare_tree(tarball, dest, git=git, message=commit_message(version))
