"""Source-level checks of one rewritten file: lock balance and preserved bytes.

Interface used by the series writer (refuse a rewrite) and by ``migrate
verify`` (check a written series). Owned by the lock-balance work: the body
below is the placeholder it replaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from migrator.verify.model import LockPair, Violation


def load_pairs(rules_dir: Path | None = None) -> tuple[LockPair, ...]:
    """The acquire/release pairs the rule set declares (placeholder: none yet)."""
    return ()


def check_rewrite(path: str, original: bytes, patched: bytes,
                  pairs: Sequence[LockPair]) -> list[Violation]:
    """Violations the rewrite of `path` (original -> patched bytes) introduces,
    in every function whose text changed (placeholder: none yet)."""
    return []
