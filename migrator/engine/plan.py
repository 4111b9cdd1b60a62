"""Plan a stage: index the tree, run the stage's rules, collect sites and edits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(slots=True)
class PlanOptions:
    pack: str | None = None  # default: packs.DEFAULT_PACK
    packs_dirs: tuple[Path, ...] = ()  # further folders holding packs
    rules_dir: Path | None = None  # default: the pack's rules/
    cache_dir: Path | None = None  # default: ~/.cache/migrator
    use_cache: bool = True
    jobs: int = 0  # 0: all cores
    progress: bool = False  # progress on stderr
    # Per-rule options from the command line (e.g. {"t0": "pernet", "t5": "review",
    # "with_core": True}); rules read the keys they declare.
    rule_options: dict[str, object] = field(default_factory=dict)
