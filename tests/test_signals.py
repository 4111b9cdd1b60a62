"""Signals during a run: the handler only records the signal and stops the child that
blocks the main flow; the main flow raises KeyboardInterrupt at its next check."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from migrator.model import signals


def _sleep_started(before: set[int]) -> bool:
    """A new child of this process runs `sleep` (not, say, a `git cat-file` that an
    earlier test's repository object still holds)."""
    for pid in set(signals._children()) - before:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] == b"sleep":
                return True
    return False


def _signal_self_once_a_child_runs(signum: int) -> threading.Thread:
    """Send `signum` to this process as soon as the `sleep` the test starts next runs.
    A fixed delay (0.3 s) raced the child's start: on a busy machine the signal could
    come first, and `sleep 30` then ran to its end."""
    before = set(signals._children())

    def send() -> None:
        deadline = time.monotonic() + 10
        while not _sleep_started(before) and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signum)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_blocking_child_is_terminated_and_the_run_stops(signum: int) -> None:
    started = time.monotonic()
    seen: dict[str, object] = {}
    with pytest.raises(KeyboardInterrupt), signals.deferred():
        _signal_self_once_a_child_runs(signum)
        seen["returncode"] = subprocess.run(["sleep", "30"], check=False).returncode
        seen["interrupted"] = signals.interrupted()
        signals.check()
        seen["after check"] = True
    # (asserted outside: an AssertionError inside would itself become the interrupt)
    assert seen == {"returncode": -signal.SIGTERM, "interrupted": True}
    assert time.monotonic() - started < 10
    assert not signals.interrupted()  # handlers restored, flag cleared


def test_handler_raises_nothing_inside_python_code() -> None:
    """A signal arriving in the middle of a step lets the step finish (no exception at an
    arbitrary bytecode); the next check stops the run."""
    steps: list[int] = []
    with pytest.raises(KeyboardInterrupt), signals.deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        steps.extend(range(3))  # runs to the end
        signals.check()
        steps.append(99)
    assert steps == [0, 1, 2]


def test_failure_caused_by_the_terminated_child_is_the_interrupt() -> None:
    with pytest.raises(KeyboardInterrupt), signals.deferred():
        _signal_self_once_a_child_runs(signal.SIGTERM)
        subprocess.run(["sleep", "30"], check=True)  # CalledProcessError -> interrupt


def test_previous_handlers_restored() -> None:
    before = {s: signal.getsignal(s) for s in signals.SIGNALS}
    with signals.deferred():
        assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
    assert {s: signal.getsignal(s) for s in signals.SIGNALS} == before
