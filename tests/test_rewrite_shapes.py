"""Rewrites right by construction (issue 11): before/after fixtures in corpus/stages.

braces/  un-braced branches next to comments and `#if` arms (stages 4 and 5): braces are
         added without moving or dropping a comment or a preprocessor line; a branch an
         `#if` arm chooses is review.
labels/  an error label reached both before and after the acquire (stage 2, T2 and the
         T6 creator): the
         paths after it get a label of their own above the old one, with the release;
         when the mix arrives through another cleanup, review with the paths.
unbraced/ lock brackets around un-braced statements (T6 callers in stage 2, T3 and the
         T7 helper and caller in stage 3) get braces through cedit.wrap()/guard(); the
         parent's lock_netdev() (T3) and the caller's (T6) are checked: -ENODEV.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrator.edit.edits import apply_edits, group_by_file
from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine
from migrator.model import StagePlan

CASES = Path(__file__).resolve().parent.parent / "corpus" / "stages"


def plan(tree: Path, stage: int, **opts: object) -> StagePlan:
    return open_engine(tree, PlanOptions(use_cache=False, jobs=1, rule_options=opts)).plan(stage)


def rewritten(tree: Path, the_plan: StagePlan) -> dict[str, bytes]:
    return {f: apply_edits((tree / f).read_bytes(), es)
            for f, es in group_by_file(the_plan.edits).items()}


def run_case(tmp_path: Path, case: str, stage: int, after: str, **opts: object
             ) -> StagePlan:
    """Plan `stage` on corpus/stages/<case>/before; the changed files must be exactly
    corpus/stages/<case>/<after>."""
    tree = tmp_path / "tree"
    shutil.copytree(CASES / case / "before", tree)
    the_plan = plan(tree, stage, **opts)
    want = {str(p.relative_to(CASES / case / after)): p.read_bytes()
            for p in (CASES / case / after).rglob("*") if p.is_file()}
    got = rewritten(tree, the_plan)
    assert sorted(got) == sorted(want)
    for path, text in want.items():
        assert got[path].decode() == text.decode(), path
    return the_plan


def _outcomes(the_plan: StagePlan) -> dict[str, tuple[str, str]]:
    return {s.function: (s.outcome, s.reason) for s in the_plan.sites}


@pytest.mark.parametrize("stage", [4, 5])
def test_braces_keep_comments_and_directives(tmp_path: Path, stage: int) -> None:
    the_plan = run_case(tmp_path, "braces", stage, f"after-stage{stage}")
    got = _outcomes(the_plan)
    if stage == 5:
        for fn in ("wisp_move", "wisp_park", "wisp_move_noted", "wisp_move_back"):
            assert got[fn][0] == "rewrite", fn
        # the call's #if group continues after the statement / chooses the statement
        assert got["wisp_move_named"][0] == "review"
        assert "#if group" in got["wisp_move_named"][1]
        assert got["wisp_move_either"][0] == "review"
        assert "preprocessor line sits between the head" in got["wisp_move_either"][1]
    else:
        assert got["wisp_enslave"][0] == got["wisp_enslave_legacy"][0] == "rewrite"
        # The statement moved into the new block keeps its own #ifdef/#else/#endif lines
        # at column 0; its code lines (the comment line among them) move one tab deeper.
        text = rewritten(tmp_path / "tree", the_plan)["drivers/net/wisp.c"].decode()
        assert "\n#ifdef CONFIG_WISP_INFO\n\t\t\t\t\t\t\t   &port->info,\n#else\n" in text
        assert "\t\t\t\t\t\t\t   /* no upper info, no extack */\n" in text



def test_label_reached_before_and_after_the_acquire(tmp_path: Path) -> None:
    the_plan = run_case(tmp_path, "labels", 2, "after")
    t2 = {s.function: s for s in the_plan.sites if s.template == "T2"}
    assert t2["duo_newlink"].outcome == t2["duo_cond_newlink"].outcome == "rewrite"
    assert any("new label err_detach_peer:" in e for e in t2["duo_newlink"].evidence)
    stats = t2["duo_stats_newlink"]
    assert stats.outcome == "review" and not stats.edits
    assert "cleanups reordered" in stats.reason
    assert "line 110: goto err_stats; (free)" in stats.evidence
    assert "line 115: goto err_stats; (held)" in stats.evidence
    # the T6 creator's free label, also reached before the attach: the same split
    creator = next(s for s in the_plan.sites if s.function == "ktun_locate")
    assert creator.outcome == "rewrite"
    assert any("new label err_detach_dev:" in e for e in creator.evidence)


def test_t6_family_with_unbraced_callers(tmp_path: Path) -> None:
    """sit.c's shape: ioctl helpers call the creating helper as the un-braced body of
    an if, some with no error exit of their own; all of the family is rewritten."""
    the_plan = run_case(tmp_path, "unbraced", 2, "after-stage2")
    t6 = {s.function: s for s in the_plan.sites if s.template == "T6"}
    for fn in ("stun_locate", "stun_get", "stun_add", "stun_del", "stun_newlink"):
        assert t6[fn].outcome == "rewrite", fn
    assert "a plain return: nothing is taken before the call" in t6["stun_get"].reason
    # a void caller has no way to report a failed lock_netdev(): the family is review
    assert t6["rtun_refresh"].outcome == "review"
    assert "does not return an int error" in t6["rtun_refresh"].reason
    assert not [s for s in the_plan.sites if s.file.endswith("rtun.c")
                and s.template == "T6" and s.outcome == "rewrite"]
    # no exit to copy inside a loop: earlier iterations may hold something
    assert t6["ltun_fill"].outcome == "review"
    assert "inside a loop" in t6["ltun_fill"].reason


def test_t3_t7_unbraced_and_the_parent_lock_checked(tmp_path: Path) -> None:
    the_plan = run_case(tmp_path, "unbraced", 3, "after-stage3")
    got = {(s.template, s.function): s.outcome for s in the_plan.sites}
    assert got[("T3", "muxy_add")] == "rewrite"
    assert got[("T7", "wcore_register")] == got[("T7", "wcore_add")] == "rewrite"
    # a conditional registration would leave the private lock attached on the other path
    (solo,) = [s for s in the_plan.sites if s.function == "muxy_solo"]
    assert solo.outcome == "review" and "is conditional" in solo.reason
