"""Text and bytes: one decoding policy from file to edit to patch (migrator/srctext.py).

Latin-1 bytes (not UTF-8) next to a site of each stage never crash the edit step and are
kept byte for byte in the rewritten file and in the patch."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import pytest

from migrator.cli import main
from migrator.edit.edits import apply_edits, group_by_file
from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine
from migrator.model import Site
from migrator.model.srctext import decode, display, encode

SAMPLE = Path(__file__).resolve().parent.parent / "corpus" / "sample"
OPTIONS = {"with_core": True, "t0": "all", "t5": "rewrite"}
LATIN1 = b"/* caf\xe9 \xa9 na\xefve */"


def _plan(tree: Path, stage: int) -> list[Site]:
    return open_engine(tree, PlanOptions(use_cache=False, rule_options=OPTIONS)).plan(
        stage).sites


@functools.cache
def _sample_plan(stage: int) -> tuple[Site, ...]:
    """The plan of the unchanged sample tree (only read): once per stage for the module,
    not once per test."""
    return tuple(_plan(SAMPLE, stage))


def _with_latin1(src: bytes, lines_at: set[int], where: str) -> bytes:
    """A Latin-1 comment on its own line before each line of `lines_at` (1-based), at the
    end of it, or at the end of the line after it (an error branch copied by T5)."""
    lines = src.split(b"\n")
    for line in sorted(lines_at, reverse=True):
        if where == "before":
            target = lines[line - 1]
            lines.insert(line - 1, target[: len(target) - len(target.lstrip())] + LATIN1)
        else:
            at = line - 1 if where == "same-line" else line
            if at < len(lines) and not lines[at].rstrip().endswith(b"\\"):
                lines[at] = lines[at] + b" " + LATIN1
    return b"\n".join(lines)


def test_round_trip_of_undecodable_bytes() -> None:
    raw = b"a\xe9b\xff\xfe" + "é".encode()
    assert encode(decode(raw)) == raw
    assert display(decode(raw)) == "a\ufffdb\ufffd\ufffdé"


@pytest.mark.parametrize(("stage", "where"), [
    pytest.param(stage, where, id=f"{stage}-{where}")
    for stage in range(1, 7) for where in ("before", "same-line", "next-line")])
def test_latin1_next_to_every_rewrite_of_each_stage(tmp_path: Path, stage: int,
                                                    where: str) -> None:
    """Every rewrite of the stage on the sample tree, with Latin-1 bytes put next to each
    site: the sites are found again, the edits apply, the bytes are all kept."""
    sites = [s for s in _sample_plan(stage) if s.outcome == "rewrite" and s.edits]
    assert sites
    tree = tmp_path / "t"
    shutil.copytree(SAMPLE, tree)
    by_file: dict[str, set[int]] = {}
    for site in sites:
        by_file.setdefault(site.file, set()).add(site.line)
    for file, lines in by_file.items():
        path = tree / file
        path.write_bytes(_with_latin1(path.read_bytes(), lines, where))
    again = _plan(tree, stage)
    for file, file_edits in group_by_file(
            e for s in again if s.outcome == "rewrite" for e in s.edits).items():
        src = (tree / file).read_bytes()
        new = apply_edits(src, file_edits)
        assert new.count(LATIN1) == src.count(LATIN1), file
    assert {(s.file, s.function) for s in again if s.outcome == "rewrite"} >= {
        (s.file, s.function) for s in sites if s.file in by_file} - {
        (s.file, s.function) for s in again if s.outcome == "review"}
    for s in again:  # evidence is text for a reader: no lone surrogates
        for text in (s.reason, *s.evidence):
            text.encode("utf-8")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=T", "-c", "user.email=t@e.org",
                    *args], check=True, capture_output=True)


def test_patch_keeps_latin1_bytes(tmp_path: Path) -> None:
    """`migrate stage`: the bytes reach the patch (its context lines) unchanged."""
    site = next(s for s in _sample_plan(2) if s.outcome == "rewrite" and s.edits)
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo)
    path = repo / site.file
    path.write_bytes(_with_latin1(path.read_bytes(), {site.line}, "same-line"))
    _git(repo, "init", "-q")
    _git(repo, "config", "user.name", "T")
    _git(repo, "config", "user.email", "t@e.org")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    out = tmp_path / "out"
    assert main(["stage", "2", "--tree", str(repo), "--out", str(out), "--no-cache"]) \
        in (0, 1)
    patches = [p.read_bytes() for p in sorted(out.glob("0*.patch"))]
    assert any(LATIN1 in p for p in patches)
