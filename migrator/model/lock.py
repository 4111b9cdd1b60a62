"""One `migrate stage` (or `--apply`) at a time per repository.

The lock is an `fcntl.flock` on `migrate.lock` in the repository's common git
directory (shared by all its worktrees, never in the work tree). The kernel
releases it when the holder exits, however it exits, so a killed run never
leaves a stale lock behind; the pid written into the file only names the
holder in the message a second run prints.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from migrator.model.errors import MigratorError

LOCK_NAME = "migrate.lock"


def lock_path(git_dir: Path) -> Path:
    return Path(git_dir) / LOCK_NAME


@contextmanager
def run_lock(git_dir: Path, *, wait: float = 0.0) -> Iterator[Path]:
    """Hold the repository's run lock; wait up to `wait` seconds, then refuse."""
    path = lock_path(git_dir)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise MigratorError(f"{path}: cannot create the run lock: {exc.strerror or exc}") \
            from None
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise MigratorError(
                        f"{path}: cannot take the run lock: {exc.strerror or exc}") from None
                if time.monotonic() >= deadline:
                    holder = _holder(fd)
                    raise MigratorError(
                        f"{path}: another migrate run{holder} is working on this "
                        "repository; wait for it to finish") from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""
