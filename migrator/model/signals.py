"""Ctrl-C / SIGTERM / SIGHUP during a run that must clean up (`migrate stage`).

The handler raises nothing (an exception raised inside a signal handler can land in
the middle of logging, a `finally` or a library's bookkeeping): it records the signal
and terminates the child processes running at that moment (git, make, checkpatch; a
child blocks the main flow until it exits). The main flow calls `check()` between
steps and in its long loops (indexing, per-patch work), which raises
KeyboardInterrupt there, so `finally` blocks remove temporary worktrees and folders.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_received: list[int] = []  # signals received while handlers were installed


def interrupted() -> bool:
    return bool(_received)


def check() -> None:
    """Raise KeyboardInterrupt when a signal arrived (call between steps)."""
    if _received:
        raise KeyboardInterrupt


def _children() -> list[int]:
    """Direct children of this process that run another program (git, make, perl): not
    forks of this one (parser pool workers, a child between fork and exec), which
    the run's own cleanup stops; a pool worker killed here would be replaced by a new
    fork inheriting whatever pipes are open at that moment. (Linux /proc; elsewhere
    none are known, and the run stops when the child ends.)"""
    pids: list[int] = []
    try:
        own = os.readlink("/proc/self/exe")
        tasks = list(Path(f"/proc/{os.getpid()}/task").iterdir())
    except OSError:
        return []
    for task in tasks:
        with suppress(OSError, ValueError):
            pids.extend(int(p) for p in (task / "children").read_text().split())
    out = []
    for pid in pids:
        with suppress(OSError):
            if os.readlink(f"/proc/{pid}/exe") != own:
                out.append(pid)
    return out


def _handler(signum: int, frame: FrameType | None) -> None:
    first = not _received
    _received.append(signum)
    if first:  # later signals: the cleanup's own git commands must run to the end
        for pid in _children():
            with suppress(OSError):
                os.kill(pid, signal.SIGTERM)


@contextmanager
def deferred() -> Iterator[None]:
    """Install the flag-setting handler for SIGINT/SIGTERM/SIGHUP; restore on exit."""
    previous: dict[int, object] = {}
    _received.clear()
    for signum in SIGNALS:
        with suppress(ValueError):  # not the main thread: nothing to install
            previous[signum] = signal.signal(signum, _handler)
    try:
        yield
        check()  # a signal during the last step still ends the run as interrupted
    except KeyboardInterrupt:
        raise
    except BaseException:
        if _received:  # a failure caused by the terminated child: it is the interrupt
            raise KeyboardInterrupt from None
        raise
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        _received.clear()
