"""Find the tree's C files and the ones that mention given names (git grep / grep)."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterable
from pathlib import Path

from migrator.model.errors import MigratorError
from migrator.model.srctext import CODEC

C_SUFFIXES = (".c", ".h")
_GREP_BATCH = 2000  # names per grep invocation (argument length)


def is_git_tree(tree: Path) -> bool:
    """True when `tree` is the top of a git work tree with at least one commit."""
    if not (tree / ".git").exists():
        return False
    result = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--verify", "-q", "HEAD"],
        capture_output=True, check=False,
    )
    return result.returncode == 0


def grep_hits(
    tree: Path, names: Iterable[str], *, git: bool, paths: Iterable[str] | None = None,
    files_only: bool = False, untracked: bool = True,
) -> dict[str, list[tuple[int, str]]]:
    """Where any of `names` occurs as a whole word in a .c/.h file: path -> [(line, name)].

    One `git grep -o` (or `grep -r -o` outside git): C speed, and the lines tell
    which top-level chunk of the file mentions which name. `paths` limits the search
    to those files; `files_only` returns the files with empty hit lists (faster).
    `untracked=False` leaves untracked files out (git: saves a walk of the whole work
    tree; see `untracked_files`).
    """
    pathspec = sorted(paths) if paths is not None else None
    if pathspec is not None and not pathspec:
        return {}
    wanted = sorted(set(names))
    hits: dict[str, list[tuple[int, str]]] = {}
    for i in range(0, len(wanted), _GREP_BATCH):
        batch = wanted[i : i + _GREP_BATCH]
        patterns = [arg for name in batch for arg in ("-e", name)]
        mode = ["-l"] if files_only else ["-n", "-o"]
        if git and pathspec is not None and files_only:
            # A long list of literal paths: GNU grep on the files is several times faster
            # than git grep matching every index entry against thousands of pathspecs.
            for path in _grep_files(tree, patterns, pathspec):
                hits.setdefault(path, [])
            continue
        if git:
            # -a: a binary .c/.h must reach read_source to be reported and counted
            cmd = ["git", "-C", str(tree), "grep", *mode, "-w", "-F", "-a", "-z",
                   *(["--untracked"] if untracked else []), "--no-color", *patterns, "--",
                   *(pathspec if pathspec is not None else (f"*{s}" for s in C_SUFFIXES))]
        else:
            where = pathspec if pathspec is not None else [
                "-r", *(f"--include=*{s}" for s in C_SUFFIXES), "."]
            cmd = ["grep", *mode, "-w", "-F", "-a", "-Z", "-s", *patterns, *where]
        result = subprocess.run(cmd, cwd=None if git else tree, capture_output=True, check=False)
        if result.returncode not in (0, 1) and not (not git and result.returncode == 2
                                                     and result.stdout):
            message = result.stderr.decode("utf-8", "replace").strip()
            raise MigratorError(f"{tree}: searching the tree failed: {message}")
        if files_only:
            for path in result.stdout.replace(b"\n", b"\0").split(b"\0"):
                rel = path.decode(*CODEC)
                if rel:
                    hits.setdefault(rel[2:] if rel.startswith("./") else rel, [])
            continue
        for record in result.stdout.split(b"\n"):
            path, sep, rest = record.partition(b"\0")
            if not sep:
                continue
            line, _sep, name = rest.replace(b"\0", b":", 1).partition(b":")
            rel = path.decode(*CODEC)
            hits.setdefault(rel[2:] if rel.startswith("./") else rel, []).append(
                (int(line), name.decode("ascii", "replace"))
            )
    return hits


def _grep_files(tree: Path, patterns: list[str], paths: list[str]) -> list[str]:
    """`grep -l -w -F` over the given files (relative to `tree`), in argument batches."""
    out: list[str] = []
    batch: list[str] = []
    size = 0
    for i, path in enumerate(paths):
        batch.append(path)
        size += len(path) + 1
        if size < 100_000 and i + 1 < len(paths):
            continue
        result = subprocess.run(["grep", "-l", "-w", "-F", "-I", "-Z", "-s", *patterns, "--",
                                 *batch], cwd=tree, capture_output=True, check=False)
        if result.returncode not in (0, 1) and not (result.returncode == 2 and result.stdout):
            message = result.stderr.decode("utf-8", "replace").strip()
            raise MigratorError(f"{tree}: searching the tree failed: {message}")
        out.extend(p.decode(*CODEC) for p in result.stdout.split(b"\0") if p)
        batch, size = [], 0
    return out


def untracked_files(tree: Path) -> list[str]:
    """Untracked, not ignored .c/.h files of a git tree."""
    result = subprocess.run(
        ["git", "-C", str(tree), "ls-files", "-z", "-o", "--exclude-standard", "--",
         *(f"*{s}" for s in C_SUFFIXES)],
        capture_output=True, check=False,
    )
    if result.returncode:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise MigratorError(f"{tree}: listing untracked files failed: {message}")
    return [p.decode(*CODEC) for p in result.stdout.split(b"\0") if p]


def tree_fingerprint(tree: Path) -> str | None:
    """A key that changes whenever a file's content may have changed (git trees only).

    HEAD plus the state of every modified or untracked file; None outside git.
    """
    if not is_git_tree(tree):
        return None
    head = subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"],
                          capture_output=True, check=False)
    status = subprocess.run(
        ["git", "--no-optional-locks", "-C", str(tree), "status", "--porcelain=v1", "-z",
         "--untracked-files=all", "--", *(f"*{s}" for s in C_SUFFIXES)],
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
            st = (tree / path.decode(*CODEC)).stat()
        except OSError:
            continue
        digest.update(f"{path!r}:{st.st_size}:{st.st_mtime_ns}".encode())
    return digest.hexdigest()
