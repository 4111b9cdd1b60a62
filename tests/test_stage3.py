"""Stage 3 before/after fixtures (corpus/stages/stage3): T3, T4, T5 (--t5=rewrite), T7
helper + callers, and the review cases; a second run on the result changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrator.edits import apply_edits, group_by_file
from migrator.engine import open_engine
from migrator.plan import PlanOptions

FIX = Path(__file__).resolve().parent.parent / "corpus" / "stages" / "stage3"
OPTS = {"families": ["net/wfam", "net/wlock"], "t5": "rewrite"}


def _plan(tree: Path, **opts: object):  # type: ignore[no-untyped-def]
    return open_engine(tree, PlanOptions(use_cache=False, rule_options=opts)).plan(3)


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tree = tmp_path_factory.mktemp("s3") / "tree"
    shutil.copytree(FIX / "before", tree)
    p = _plan(tree, **OPTS)
    for f, es in group_by_file(p.edits).items():
        (tree / f).write_bytes(apply_edits((tree / f).read_bytes(), es))
    return tree, p


def _files() -> list[str]:
    return sorted(str(p.relative_to(FIX / "after")) for p in (FIX / "after").rglob("*.c"))


@pytest.mark.parametrize("rel", _files())
def test_after_exact(converted, rel: str) -> None:  # type: ignore[no-untyped-def]
    tree, _ = converted
    assert (tree / rel).read_bytes() == (FIX / "after" / rel).read_bytes()


def test_outcomes(converted) -> None:  # type: ignore[no-untyped-def]
    _, p = converted
    got = {s.function: (s.template, s.outcome) for s in p.sites}
    assert got == {
        "s3_private": ("T4", "rewrite"), "s3_child": ("T3", "rewrite"),
        "s3_returns": ("T4", "review"), "s3_leaky": ("T4", "review"),
        "s3_event": ("T5", "rewrite"), "register_netdev": ("core", "review"),
        "wfam_register": ("T7", "rewrite"), "wfam_add_iface": ("T7", "rewrite"),
        "wlock_register": ("T7", "review"),
    }
    by = {s.function: s for s in p.sites}
    assert "core API" in by["register_netdev"].reason
    assert "line 55: goto out_free;" in by["s3_leaky"].reason
    assert "return statement" in by["s3_returns"].reason
    assert not by["wlock_register"].edits
    assert any("mutex_lock(&phy->mtx)" in e and "before the subsystem's own lock" in e
               for e in by["wlock_register"].evidence)
    assert any("parent device: lower" in e for e in by["s3_child"].evidence)


def test_idempotent(converted) -> None:  # type: ignore[no-untyped-def]
    tree, _ = converted
    assert not _plan(tree, **OPTS).edits


def test_defaults_review(tmp_path: Path) -> None:
    shutil.copytree(FIX / "before", tmp_path / "t")
    p = _plan(tmp_path / "t", t5="review")
    got = {s.function: (s.template, s.outcome, bool(s.edits)) for s in p.sites}
    assert got["s3_event"] == ("T5", "review", False)
    assert got["wfam_register"] == ("T4", "review", False)  # not a configured family
    assert "wfam_add_iface" not in got


def test_stage6_core_review(tmp_path: Path) -> None:
    shutil.copytree(FIX.parent / "stage6", tmp_path / "t")
    opts = PlanOptions(use_cache=False, rule_options={"with_core": True})
    sites = [s for s in open_engine(tmp_path / "t", opts).plan(6).sites
             if s.template == "core"]
    assert [(s.file, s.line, s.outcome, s.edits) for s in sites] == [
        ("net/core/dev.c", 12, "review", [])]
    assert "rollback loop" in sites[0].reason
    assert any(e.startswith("net/core/dev.c:19 rollback:") for e in sites[0].evidence)
    assert any(e.startswith("net/core/dev.c:30 replay entry:") for e in sites[0].evidence)
    plain = PlanOptions(use_cache=False, rule_options={"with_core": False})
    assert not [s for s in open_engine(tmp_path / "t", plain).plan(6).sites
                if s.template == "core"]
