"""Completeness of a series: what added lines use is declared, what it declares is
defined. Owned by the core-patch work: the body below is the placeholder it replaces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from migrator.verify.model import Violation


def check_completeness(tree_after: Path,
                       added: Mapping[str, Sequence[tuple[int, str]]]) -> list[Violation]:
    """`added` maps each file the series touches (relative path) to its added lines
    as (1-based line in the patched file, text). Returns the violations
    (placeholder: none yet)."""
    return []
