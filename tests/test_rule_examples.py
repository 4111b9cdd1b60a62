"""Every rule file's [[examples]]: the rule finds `sites` sites in `code`, and `after`
(when given) is the exact text after the stage's rewrites."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.edit.edits import apply_edits
from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine
from migrator.packs import load_pack

EXAMPLES = [(rule, i, ex) for rule in load_pack().rules() for i, ex in enumerate(rule.examples)]


@pytest.mark.parametrize("rule, i, example", EXAMPLES,
                         ids=[f"{r.id}-{i}" for r, i, _ in EXAMPLES])
def test_rule_example(tmp_path: Path, rule, i, example) -> None:  # type: ignore[no-untyped-def]
    path = "drivers/net/example.c"
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text(example.code)
    plan = open_engine(tmp_path, PlanOptions(use_cache=False, jobs=1)).plan(rule.stage)
    mine = [s for s in plan.sites if s.rule == rule.id]
    assert len(mine) == example.sites, [s.reason for s in mine]
    if example.after is not None:
        edits = [e for s in plan.sites if s.outcome == "rewrite" for e in s.edits
                 if e.file == path]
        assert apply_edits(example.code.encode(), edits).decode() == example.after
