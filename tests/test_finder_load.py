"""A rule's finder.py: loaded from the rule's folder; a broken one is an error naming
the file, never a crash or a silently skipped rule."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine
from migrator.model import Outcome, StagePlan
from migrator.model.errors import MigratorError
from migrator.packs import load_pack
from migrator.rules.load import load_finder, load_rule
from migrator.testing import finder_module

RULE = """id = "{id}"
stage = 1
template = "X"
title = "t"
description = "d"
confidence = "low"
{extra}
[select]
calls = ["frob"]
"""


def rule_folder(tmp_path: Path, rule_id: str, finder: str | None, extra: str = "") -> Path:
    folder = tmp_path / rule_id
    folder.mkdir()
    (folder / "rule.toml").write_text(RULE.format(id=rule_id, extra=extra))
    if finder is not None:
        (folder / "finder.py").write_text(finder)
    return folder / "rule.toml"


def test_find_of_the_folder_is_the_finder(tmp_path: Path) -> None:
    rule = load_rule(rule_folder(tmp_path, "r-ok", "def find(ctx):\n    return ['x', ctx]\n"),
                     pack="p1")
    assert rule.finder == tmp_path / "r-ok" / "finder.py"
    assert load_finder(rule)(1) == ["x", 1]


def test_a_rule_without_finder_is_data(tmp_path: Path) -> None:
    assert load_rule(rule_folder(tmp_path, "r-data", None)).finder is None


@pytest.mark.parametrize(("text", "says"), [
    ("def found(ctx):\n    return []\n", "defines find(ctx)"),
    ("def find(ctx)\n    return []\n", "cannot load the rule's finder: SyntaxError"),
    ("import no_such_module_here\ndef find(ctx):\n    return []\n",
     "cannot load the rule's finder: ModuleNotFoundError"),
])
def test_a_broken_finder_is_an_error_naming_it(tmp_path: Path, text: str, says: str) -> None:
    rule = load_rule(rule_folder(tmp_path, "r-bad", text), pack="p2")
    with pytest.raises(MigratorError) as err:
        load_finder(rule)
    assert str(err.value).startswith(f"{tmp_path / 'r-bad' / 'finder.py'}: ")
    assert says in str(err.value)


def test_the_older_analysis_key_is_an_error_naming_the_finder(tmp_path: Path) -> None:
    """A rule written for the older form (a finder named as "module:function") is
    refused, never silently run as a data rule."""
    path = rule_folder(tmp_path, "r-old", None, extra='analysis = "m:f"')
    with pytest.raises(MigratorError) as err:
        load_rule(path)
    assert str(err.value) == (f"{path}: 'analysis' is no longer read: the rule's finder is "
                              f"find(ctx) in {tmp_path / 'r-old' / 'finder.py'}")


def test_finder_module_is_the_module_the_engine_loads() -> None:
    """migrator.testing.finder_module: a finder's helpers for a test of their own; the
    module is the one load_finder() runs (same `find`), a data rule has none."""
    module = finder_module("stage3-t5-notifier")
    rule = next(r for r in load_pack(None).rules() if r.id == "stage3-t5-notifier")
    assert module.find is load_finder(rule)
    assert callable(module._failure_test)
    with pytest.raises(AssertionError, match="stage2-t1-register-netdevice"):
        finder_module("stage2-t1-register-netdevice")


# --- a finder at work: what it gives the engine ---------------------------------------------

TOY = Path(__file__).resolve().parent / "packs" / "toy"
DRIVER = (Path(__file__).resolve().parent / "fixtures" / "toy" / "foo.c").read_text()


def toy_plan(tmp_path: Path, finder: str | None = None, *, unordered: bool = False
             ) -> StagePlan:
    """Stage 2 of a copy of the toy pack on its driver; `finder` replaces the text of
    toy2-frob-in-irq/finder.py; `unordered` drops the bracket rule's `after`."""
    packs = tmp_path / "packs"
    shutil.copytree(TOY, packs / "toy")
    rules = packs / "toy" / "rules"
    if finder is not None:
        (rules / "toy2-frob-in-irq" / "finder.py").write_text(finder)
    if unordered:
        bracket = rules / "toy2-bracket-frob" / "rule.toml"
        bracket.write_text(bracket.read_text().replace('after = ["toy2-frob-in-irq"]\n', ""))
    tree = tmp_path / "tree"
    (tree / "drivers/net").mkdir(parents=True)
    (tree / "drivers/net/foo.c").write_text(DRIVER)
    engine = open_engine(tree, PlanOptions(pack="toy", packs_dirs=(packs,), use_cache=False,
                                           jobs=1))
    return engine.plan(2)


@pytest.mark.parametrize(("body", "says"), [
    ("    return None\n", "find() returned None: it returns the rule's sites"),
    ("    return ['drivers/net/foo.c']\n", "find() gave a str, not a site"),
    ("    for cand in ctx.candidates:\n        yield ctx.fix(cand)\n",
     "find() gave a list, not a site: wrap what ctx.fix() returns with ctx.rewrite"),
    ("    return {}['missing']\n", "find() of rule toy2-frob-in-irq failed: KeyError: "
                                 "'missing' (at "),
])
def test_a_finder_giving_no_sites_is_an_error_naming_it(tmp_path: Path, body: str,
                                                         says: str) -> None:
    with pytest.raises(MigratorError) as err:
        toy_plan(tmp_path, f"def find(ctx):\n{body}")
    finder = tmp_path / "packs" / "toy" / "rules" / "toy2-frob-in-irq" / "finder.py"
    assert str(err.value).startswith(f"{finder}: {says}"), str(err.value)
    if "failed" in says:
        assert str(err.value).endswith(f"(at {finder}:2)")  # the line of the body


def test_review_and_rewrite_of_one_call_leave_it_for_review(tmp_path: Path) -> None:
    """The interrupt handler's frob() is review for toy2-frob-in-irq; without `after`
    the bracket rule also rewrites it: the review stands, nothing is edited there, and
    a warning names both rule files."""
    plan = toy_plan(tmp_path, unordered=True)
    at_irq = [s for s in plan.sites if s.function == "foo_irq"]
    assert [(s.rule, s.outcome) for s in at_irq] == [("toy2-frob-in-irq", Outcome.REVIEW)]
    assert at_irq[0].evidence[-1].startswith("rule toy2-bracket-frob would rewrite it (")
    assert not any(e.start <= at_irq[0].start < e.end or e.start == at_irq[0].start
                   for e in plan.edits)
    [warning] = plan.warnings
    assert warning.startswith("drivers/net/foo.c:25: rules toy2-bracket-frob and "
                              "toy2-frob-in-irq both claim this call, one for review")
    assert "toy2-bracket-frob/rule.toml" in warning and "toy2-frob-in-irq/rule.toml" in warning
    # ordered (the pack as shipped): one site, no warning
    ordered = toy_plan(tmp_path / "ordered")
    assert [s.rule for s in ordered.sites if s.function == "foo_irq"] == ["toy2-frob-in-irq"]
    assert ordered.warnings == []


# --- a rule.toml's keys ----------------------------------------------------------------------


@pytest.mark.parametrize(("extra", "after_select", "says"), [
    ("bogus = 5\n", "", "unknown key 'bogus' (known: confidence, context, description"),
    ("", 'not_in_dir = ["drivers"]\n', "[select] unknown key 'not_in_dir' (known: after, "
                                       "calls, in_dirs, not_in_dirs, scope)"),
    ("", '[context]\nreachable = ["a.b"]\n', "[context] unknown key 'reachable' (known: "
                                             "not_reachable_from, reachable_from)"),
    ("", '[fix]\noutcome = "rewrite"\nrename = "new lock(x); evil"\n',
     "[fix] rename must be a function name (metavariables such as {callee} allowed), "
     "not 'new lock(x); evil'"),
    ("", '[fix]\noutcome = "rewrite"\nrename = "{nosuchvar}"\n',
     "[fix] uses {nosuchvar}, which a rule without a finder.py never binds"),
])
def test_a_misspelt_or_wrong_key_is_named(tmp_path: Path, extra: str, after_select: str,
                                          says: str) -> None:
    path = rule_folder(tmp_path, "r-keys", None, extra=extra)
    path.write_text(path.read_text() + after_select)
    with pytest.raises(MigratorError) as err:
        load_rule(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and says in message, message
