"""Every rule's cases/ folder, in every pack (the shipped ones and the test packs):
`<name>-rewrite.c` gives `<name>-rewrite.after.c`, `<name>-review.c` a review site,
`<name>-none.c` nothing to do (migrator.testing.assert_case)."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.packs import available_packs, load_pack
from migrator.testing import assert_case

PACKS = Path(__file__).resolve().parent / "packs"
CASES = [(name, rule.id, case)
         for name in available_packs([PACKS])
         for rule in load_pack(name, [PACKS]).rules()
         for case in rule.cases()]


@pytest.mark.parametrize(("pack", "rule", "case"), CASES,
                         ids=[f"{p}/{r}/{c.name}" for p, r, c in CASES])
def test_rule_case(pack: str, rule: str, case: Path) -> None:
    assert_case(case, rule=rule, pack=pack, packs_dirs=[PACKS])


def test_every_case_is_checked_and_a_wrong_after_is_caught(tmp_path: Path) -> None:
    assert len({p for p, _, _ in CASES}) >= 2
    case = next(c for p, _, c in CASES if c.name.endswith("-rewrite.c"))
    pack, rule = next((p, r) for p, r, c in CASES if c == case)
    wrong = tmp_path / case.name
    wrong.write_text(case.read_text())
    wrong.with_name(case.name.replace(".c", ".after.c")).write_text("not the rewrite\n")
    with pytest.raises(AssertionError, match="rewrite differs"):
        assert_case(wrong, rule=rule, pack=pack, packs_dirs=[PACKS])
