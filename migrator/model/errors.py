"""Errors the command line reports as `migrate: error: ...` (exit 2, or 3 when a check fails)."""

from __future__ import annotations

import copy
import os
import tomllib
from pathlib import Path
from typing import Any


class MigratorError(Exception):
    """An input or usage problem; the message names the file and what is wrong."""

    exit_code = 2


class EditConflict(MigratorError):
    """Two rules want to change overlapping bytes of one file."""


class RewriteRefused(MigratorError):
    """A rewrite would leave the file with a new parse error; it is not applied."""


class VerificationFailed(MigratorError):
    """A written or built series fails a §7 check (build, lock balance, preserved bytes,
    completeness); nothing is written. The message names the patch, file and line."""

    exit_code = 3


def check_tree(tree: Path) -> Path:
    """The tree as an absolute path, or an error naming what is wrong with it."""
    if not tree.exists():
        raise MigratorError(f"{tree}: --tree does not exist")
    if not tree.is_dir():
        raise MigratorError(f"{tree}: --tree is not a directory")
    if not os.access(tree, os.R_OK | os.X_OK):
        raise MigratorError(f"{tree}: --tree is not readable")
    return tree.resolve()


# (path, mtime_ns, size, inode) -> the parsed file: a run reads its pack's and rules'
# files once, however many commands, stages and series it builds (a copy is handed out)
_PARSED: dict[tuple[str, int, int, int], dict[str, Any]] = {}


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The TOML file `path` (`what` it holds, for messages: "rule file", "lock pairs").
    Raises MigratorError naming the file: "cannot read <what>" or "malformed <what>"."""
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if key not in _PARSED:
            _PARSED[key] = tomllib.loads(path.read_text(encoding="utf-8"))
        return copy.deepcopy(_PARSED[key])
    except (OSError, UnicodeDecodeError) as exc:
        raise MigratorError(f"{path}: cannot read {what}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MigratorError(f"{path}: malformed {what}: {exc}") from exc
