"""Find the tree's C files and the ones that mention given names (git grep / grep)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from migrator.errors import MigratorError

C_SUFFIXES = (".c", ".h")
_GREP_BATCH = 2000  # names per grep invocation (argument length)


def check_tree(tree: Path) -> Path:
    """The tree as an absolute path, or an error naming what is wrong with it."""
    if not tree.exists():
        raise MigratorError(f"{tree}: --tree does not exist")
    if not tree.is_dir():
        raise MigratorError(f"{tree}: --tree is not a directory")
    if not os.access(tree, os.R_OK | os.X_OK):
        raise MigratorError(f"{tree}: --tree is not readable")
    return tree.resolve()


def is_git_tree(tree: Path) -> bool:
    """True when `tree` is the top of a git work tree with at least one commit."""
    if not (tree / ".git").exists():
        return False
    result = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--verify", "-q", "HEAD"],
        capture_output=True, check=False,
    )
    return result.returncode == 0


def grep_files(tree: Path, names: Iterable[str], *, git: bool) -> set[str]:
    """Relative paths of .c/.h files that mention any of `names` as a whole word."""
    wanted = sorted(set(names))
    found: set[str] = set()
    for i in range(0, len(wanted), _GREP_BATCH):
        batch = wanted[i : i + _GREP_BATCH]
        patterns = [arg for name in batch for arg in ("-e", name)]
        if git:
            cmd = ["git", "-C", str(tree), "grep", "-l", "-w", "-F", "-I", "--untracked",
                   "--no-color", *patterns, "--", *(f"*{s}" for s in C_SUFFIXES)]
            cwd = None
        elif shutil.which("grep"):
            cmd = ["grep", "-r", "-l", "-w", "-F", "-I", *patterns,
                   *(f"--include=*{s}" for s in C_SUFFIXES), "."]
            cwd = tree
        else:  # pragma: no cover - every Linux has grep
            found |= _python_grep(tree, batch)
            continue
        result = subprocess.run(cmd, cwd=cwd, capture_output=True, check=False)
        if result.returncode not in (0, 1):
            message = result.stderr.decode("utf-8", "replace").strip()
            raise MigratorError(f"{tree}: searching the tree failed: {message}")
        for line in result.stdout.decode("utf-8", "surrogateescape").splitlines():
            found.add(line[2:] if line.startswith("./") else line)
    return found


def _python_grep(tree: Path, names: list[str]) -> set[str]:
    import re

    pattern = re.compile(rb"\b(?:" + b"|".join(re.escape(n.encode()) for n in names) + rb")\b")
    found = set()
    for dirpath, _dirs, files in os.walk(tree):
        for name in files:
            if name.endswith(C_SUFFIXES):
                path = Path(dirpath, name)
                try:
                    if pattern.search(path.read_bytes()):
                        found.add(path.relative_to(tree).as_posix())
                except OSError:
                    continue
    return found


def tree_fingerprint(tree: Path) -> str | None:
    """A key that changes whenever a file's content may have changed (git trees only).

    HEAD plus the state of every modified or untracked file; None outside git.
    """
    if not is_git_tree(tree):
        return None
    head = subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"],
                          capture_output=True, check=False)
    status = subprocess.run(
        ["git", "--no-optional-locks", "-C", str(tree), "status", "--porcelain=v1", "-z", "--untracked-files=all",
         "--", *(f"*{s}" for s in C_SUFFIXES)],
        capture_output=True, check=False,
    )
    if head.returncode or status.returncode:
        return None
    digest = hashlib.blake2b(head.stdout + status.stdout, digest_size=16)
    for entry in status.stdout.split(b"\0"):
        path = entry[3:]
        if not path:
            continue
        try:
            st = (tree / path.decode("utf-8", "surrogateescape")).stat()
        except OSError:
            continue
        digest.update(f"{path!r}:{st.st_size}:{st.st_mtime_ns}".encode())
    return digest.hexdigest()
