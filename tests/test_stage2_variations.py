"""Stage 2 on the shapes real drivers use (corpus/stage2/variations/{before,after}).

before/ is a tiny tree; after/ holds exactly the files stage 2 must change, byte for
byte. Shapes: `if ((err = register_netdevice(dev)))`, `return register_netdevice(dev);`,
a call split over two lines, `#ifdef` around the call, the helper in another file, a
subsystem root dispatching `ops->newlink(...)` to a driver, T2 with the assignment in
the condition and its own label names, T6 with the registration in an `if` condition
and an ioctl leaving through `goto done`, and review outcomes with their evidence.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from migrator.model import StagePlan

# test_stage2 is a sibling module (as in test_series.py); `tests.test_stage2` was only
# importable when another module had put the project root on sys.path first
sys.path.insert(0, str(Path(__file__).parent))
from test_stage2 import plan, rewritten

CASE = Path(__file__).resolve().parents[1] / "corpus" / "stage2" / "variations"


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, StagePlan]:
    tree = tmp_path_factory.mktemp("variations") / "tree"
    shutil.copytree(CASE / "before", tree)
    return tree, plan(tree)


def _after_files() -> list[str]:
    return sorted(str(p.relative_to(CASE / "after")) for p in (CASE / "after").rglob("*")
                  if p.is_file())


@pytest.mark.parametrize("path", _after_files())
def test_file_rewritten_exactly(result: tuple[Path, StagePlan], path: str) -> None:
    tree, the_plan = result
    assert rewritten(tree, the_plan)[path] == (CASE / "after" / path).read_bytes()


def test_nothing_else_changes(result: tuple[Path, StagePlan]) -> None:
    tree, the_plan = result
    assert sorted(rewritten(tree, the_plan)) == _after_files()


def _sites(the_plan: StagePlan, function: str, template: str) -> list:  # type: ignore[type-arg]
    return [s for s in the_plan.sites if s.function == function and s.template == template]


def test_t1_shapes(result: tuple[Path, StagePlan]) -> None:
    _, the_plan = result
    # if ((err = ...)), split call, #ifdef branches, helper in another file, ops->newlink
    for fn, count in [("vary_newlink", 1), ("vcond_newlink", 2), ("vary_attach", 1),
                      ("subdrv_newlink", 1), ("sub_rtnl_newlink", 1)]:
        sites = _sites(the_plan, fn, "T1")
        assert len(sites) == count and all(s.outcome == "rewrite" for s in sites), fn
    (split,) = [s for s in _sites(the_plan, "vpeer_newlink", "T1") if s.line == 47]
    assert split.outcome == "rewrite"
    (attach,) = _sites(the_plan, "vary_attach", "T1")
    assert any("vary_changelink -> vary_attach" in e for e in attach.evidence)
    (drv,) = _sites(the_plan, "subdrv_newlink", "T1")
    assert "call chain: sub_rtnl_newlink -> subdrv_newlink -> register_netdevice" in \
        drv.evidence


def test_ops_indirection_adds_no_link_deps(result: tuple[Path, StagePlan]) -> None:
    _, the_plan = result
    assert not [s for s in the_plan.sites if s.template == "link_deps"]


def test_reviews_carry_evidence(result: tuple[Path, StagePlan]) -> None:
    _, the_plan = result
    (t2,) = _sites(the_plan, "vlone_newlink", "T2")
    assert t2.outcome == "review" and "free_netdev(mate)" in t2.reason
    assert any("created by alloc_netdev()" in e for e in t2.evidence)
    # btun_get() has no earlier error exit, but it returns an int and takes nothing
    # before the call: a failed lock_netdev() returns -ENODEV (the whole family is
    # rewritten; corpus/stages/unbraced holds the review shape).
    (t6,) = _sites(the_plan, "btun_get", "T6")
    assert t6.outcome == "rewrite"
    assert "a plain return: nothing is taken before the call" in t6.reason
    assert any(e.startswith("T6 family: btun_locate") for e in t6.evidence)
