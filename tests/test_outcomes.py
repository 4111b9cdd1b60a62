"""Typed outcomes: a frozen Site, the four constructors a finder returns, ALREADY_DONE
(converted: no patch, not review, nothing to do) and REPORT (listed like a review
site, nothing to convert)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from migrator import cli
from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine
from migrator.model import Edit, Outcome, Site
from migrator.output import series
from migrator.rules.context import At, RuleContext

PACKS = Path(__file__).resolve().parent / "packs"
BRACKETED = """\
static void foo_kick(struct foo_dev *dev)
{
	bar_lock(dev);
	frob(dev);
	bar_unlock(dev);
}
"""
PLAIN = """\
static void foo_kick(struct foo_dev *dev)
{
	frob(dev);
}

static int foo_open(struct foo_dev *dev)
{
	return foo_probe(dev);
}
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, text=True,
                          capture_output=True).stdout


def make_repo(root: Path, text: str) -> Path:
    repo = root / "tree"
    (repo / "drivers/net").mkdir(parents=True)
    (repo / "drivers/net/foo.c").write_text(text)
    git(root, "init", "-q", str(repo))
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=T", "-c", "user.email=t@t", "commit", "-qm", "base")
    return repo


def site(**changes: object) -> Site:
    fields: dict[str, object] = dict(
        stage=1, template="T1", outcome="rewrite", file="a.c", function="f", line=1,
        start=0, end=1, rule="r", reason="because", evidence=["call: a.c:1 f()"],
        edits=[Edit("a.c", 0, 1, "x", "r")])
    fields.update(changes)
    return Site(**fields)  # type: ignore[arg-type]


def test_site_cannot_be_mutated() -> None:
    s = site()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.outcome = Outcome.REVIEW  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.reason = "other"  # type: ignore[misc]
    # the sequences are tuples: nothing can be appended behind the site's back
    assert isinstance(s.evidence, tuple) and isinstance(s.edits, tuple)
    with pytest.raises(AttributeError):
        s.evidence.append("more")  # type: ignore[attr-defined]
    changed = dataclasses.replace(s, outcome="review")
    assert changed.outcome is Outcome.REVIEW and s.outcome is Outcome.REWRITE
    with pytest.raises(ValueError):
        site(outcome="done")  # not an outcome
    with pytest.raises(TypeError):
        site(evidence="one string, not a list of lines")


def test_json_keeps_the_outcome_strings() -> None:
    for outcome in Outcome:
        record = site(outcome=outcome).to_json()
        assert json.loads(json.dumps(record))["outcome"] == outcome.value
    assert [o.value for o in Outcome] == ["rewrite", "review", "already_done", "report"]
    assert [o for o in Outcome if o.listed] == [Outcome.REVIEW, Outcome.REPORT]


@pytest.fixture
def frob_ctx(tmp_path: Path) -> RuleContext:
    tree = tmp_path / "t"
    (tree / "drivers/net").mkdir(parents=True)
    (tree / "drivers/net/foo.c").write_text(PLAIN)
    engine = open_engine(tree, PlanOptions(pack="toy", packs_dirs=(PACKS,), use_cache=False,
                                           jobs=1))
    rule = next(r for r in engine.rules if r.id == "toy2-bracket-frob")
    return RuleContext(rule, engine.index, engine.graph, engine.candidates(rule), {},
                       engine.view)


def test_each_constructor_gives_its_outcome(frob_ctx: RuleContext) -> None:
    ctx = frob_ctx
    [cand] = ctx.candidates
    edit = Edit(cand.call.file, cand.call.start, cand.call.start, "x", ctx.rule.id)
    made = {
        Outcome.REWRITE: ctx.rewrite(cand, [edit], "bracketed"),
        Outcome.REVIEW: ctx.review(cand, "a human decides"),
        Outcome.ALREADY_DONE: ctx.already_done(cand),
        Outcome.REPORT: ctx.report(cand, "worth a look"),
    }
    for outcome, s in made.items():
        assert s.outcome is outcome
        assert (s.file, s.function, s.line, s.rule, s.stage) == (
            "drivers/net/foo.c", "foo_kick", 3, "toy2-bracket-frob", 2)
        assert s.evidence == tuple(cand.evidence())  # the candidate's, unless given
    assert made[Outcome.REWRITE].edits == (edit,)
    assert all(not s.edits for o, s in made.items() if o is not Outcome.REWRITE)
    assert made[Outcome.ALREADY_DONE].reason == "already converted"
    # a site that is not a selected call
    at = ctx.review(At("drivers/net/foo.c", "foo_open", 8, 0, 0), "why", template="x",
                    evidence=["e"])
    assert (at.function, at.template, at.evidence) == ("foo_open", "x", ("e",))
    assert not hasattr(ctx, "site")  # the four constructors are the only way to a Site


def test_converted_tree_gives_already_done_and_no_patch(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The toy pack's bracket rule on a call bracketed already (its done_when): an
    ALREADY_DONE site, no patch, nothing for review, `nothing to do`."""
    repo = make_repo(tmp_path, BRACKETED)
    plan = open_engine(repo, PlanOptions(pack="toy", packs_dirs=(PACKS,), use_cache=False,
                                         jobs=1)).plan(2)
    assert [(s.function, s.outcome, s.edits) for s in plan.sites] == [
        ("foo_kick", Outcome.ALREADY_DONE, ())]
    manifest = tmp_path / "m.json"
    rc = cli.main(["stage", "2", "--pack", "toy", "--packs-dir", str(PACKS), "--tree",
                   str(repo), "--out", str(tmp_path / "out"), "--json", str(manifest),
                   "--no-cache", "--strict"])
    out = capsys.readouterr()
    assert rc == 0, out.err  # --strict: nothing left for review
    assert "stage 2: nothing to do" in out.out and "for review" not in out.err
    assert not (tmp_path / "out").exists()
    [record] = json.loads(manifest.read_text())
    assert (record["outcome"], record["patch"]) == ("already_done", None)
    assert cli.main(["scan", "--pack", "toy", "--packs-dir", str(PACKS), "--tree",
                     str(repo), "--no-cache", "--stage", "2"]) == 0
    assert "total: 0 sites, 0 rewrite, 0 review, 0 report; 1 already done" in \
        capsys.readouterr().out


def test_report_sites_reach_the_cover_letter(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A rule whose outcome is report: its site is listed in the cover letter with the
    review sites and counted as remaining, and its JSON outcome is "report"."""
    packs = tmp_path / "packs"
    shutil.copytree(PACKS / "toy", packs / "toy")
    toml = packs / "toy" / "pack.toml"
    toml.write_text(toml.read_text().replace('templates = ["rename", "bracket"]',
                                             'templates = ["rename", "bracket", "probe"]'))
    rule = packs / "toy" / "rules" / "toy2-report-probe"
    rule.mkdir()
    (rule / "rule.toml").write_text(
        'id = "toy2-report-probe"\nstage = 2\ntemplate = "probe"\ntitle = "Read foo_probe()"\n'
        'confidence = "low"\ndescription = "d"\n[select]\ncalls = ["foo_probe"]\n'
        '[fix]\noutcome = "report"\nreason = "foo_probe() may take bar_lock() itself"\n')
    repo = make_repo(tmp_path, PLAIN)
    out, manifest = tmp_path / "out", tmp_path / "m.json"
    rc = cli.main(["stage", "2", "--pack", "toy", "--packs-dir", str(packs), "--tree",
                   str(repo), "--out", str(out), "--json", str(manifest), "--no-cache"])
    assert rc == 0, capsys.readouterr().err
    cover = (out / "0000-cover-letter.patch").read_text()
    flat = " ".join(cover.split())
    assert "foo_open() at drivers/net/foo.c:8" in cover
    assert "foo_probe() may take bar_lock() itself" in flat
    # one rewrite; the report is listed for review, and said to be one (counted once)
    assert ("1 call site converted in 1 patch, 1 left for review (1 of them reported: "
            "nothing to convert, only to check).") in flat
    records = {r["function"]: r for r in json.loads(manifest.read_text())}
    assert records["foo_open"]["outcome"] == "report" and records["foo_open"]["patch"] is None
    assert records["foo_kick"]["outcome"] == "rewrite" and records["foo_kick"]["patch"]


def test_stage_series_counts_by_outcome() -> None:
    """StageSeries.review lists REVIEW and REPORT sites, never ALREADY_DONE or REWRITE."""
    sites = [site(outcome=o, function=o.value) for o in Outcome]
    plan = series.StagePlan(1, "t", sites)
    built = series.StageSeries(stage=1, plan=plan, groups=[], start="", pack=None)  # type: ignore[arg-type]
    assert [s.function for s in built.review] == ["review", "report"]
    assert built.reported == 1
    assert plan.edits == list(sites[0].edits)
