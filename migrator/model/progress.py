"""Progress on stderr for long runs: only on a terminal, only after the first second."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, *, enabled: bool = True, label: str = "parsing") -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.label = label
        self.total = 0
        self.count = 0
        self._started = time.monotonic()
        self._last = 0.0
        self._shown = False

    def step(self, item: str) -> None:
        self.count += 1
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._started < 1.0 or now - self._last < 0.1:
            return
        self._last = now
        self._shown = True
        line = f"{self.label} {self.count}/{self.total} {item}"
        sys.stderr.write("\r\x1b[K" + line[:100])
        sys.stderr.flush()

    def done(self, message: str) -> None:
        if self._shown:
            sys.stderr.write("\r\x1b[K" + message + "\n")
            sys.stderr.flush()
