"""Plan a stage: index the tree, run the stage's rules, collect sites and edits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from migrator.model import StagePlan

STAGES = (1, 2, 3, 4, 5, 6)


@dataclass(slots=True)
class PlanOptions:
    rules_dir: Path | None = None  # default: migrator.RULES_DIR
    cache_dir: Path | None = None  # default: ~/.cache/migrator
    use_cache: bool = True
    jobs: int = 0  # 0: all cores
    progress: bool = False  # progress on stderr
    # Per-rule options from the command line (e.g. {"t0": "pernet", "t5": "review",
    # "with_core": True}); rules read the keys they declare.
    rule_options: dict[str, object] = field(default_factory=dict)


def plan_stage(tree: Path, stage: int, options: PlanOptions | None = None) -> StagePlan:
    """Sites and edits of `stage` for the files of `tree` as they are on disk."""
    from migrator.engine.planner import run_stage

    return run_stage(tree, stage, options or PlanOptions())
