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


S6 = FIX.parent / "stage6"


def _core_sites(tree: Path, with_core: bool = True) -> list:  # type: ignore[type-arg]
    opts = PlanOptions(use_cache=False, rule_options={"with_core": with_core})
    return [s for s in open_engine(tree, opts).plan(6).sites if s.template == "core"]


def test_stage6_core_rewrite(tmp_path: Path) -> None:
    """--with-core: the replayed NETDEV_REGISTER runs under lock_netdev(); a device whose
    lock cannot be taken leaves by the replay's existing error exit."""
    shutil.copytree(S6 / "before", tmp_path / "t")
    sites = _core_sites(tmp_path / "t")
    assert [(s.file, s.function, s.line, s.outcome) for s in sites] == [
        ("net/core/dev.c", "call_netdevice_register_notifiers", 12, "rewrite")]
    ev = sites[0].evidence
    assert any(e.startswith("net/core/dev.c:14 if (err) return err; is the existing exit") for e in ev), ev
    assert any(e.startswith("net/core/dev.c:39 caller: err = call_netdevice_register_notifiers")
               for e in ev), ev
    assert any(e.startswith("net/core/dev.c:46 rollback:") for e in ev), ev
    assert any(e.startswith("net/core/dev.c:58 replay entry:") for e in ev), ev
    path = tmp_path / "t" / "net/core/dev.c"
    path.write_bytes(apply_edits(path.read_bytes(), sites[0].edits))
    assert path.read_bytes() == (S6 / "after/net/core/dev.c").read_bytes()
    assert _core_sites(tmp_path / "t") == []  # idempotent
    assert _core_sites(tmp_path / "t", with_core=False) == []


def test_stage6_core_off_by_default(tmp_path: Path) -> None:
    shutil.copytree(S6 / "before", tmp_path / "t")
    assert _core_sites(tmp_path / "t", with_core=False) == []


def test_stage6_core_review_without_existing_exit(tmp_path: Path) -> None:
    shutil.copytree(S6 / "review", tmp_path / "t")
    sites = _core_sites(tmp_path / "t")
    assert [(s.line, s.outcome, s.edits) for s in sites] == [(12, "review", [])]
    assert "does not return err right after the call" in sites[0].reason
