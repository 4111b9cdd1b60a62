"""Precedence among the rules of a stage (`[select] after`): a rule does not see the calls
an earlier rule claimed (by a site: an already-done one for a call that needs nothing);
unknown ids, cycles, cross-stage references and unordered rules of one chain selecting
the same calls are errors naming the rule.toml. `[select] in_dirs` selects by directory,
an "{option}" entry reading a list option."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine
from migrator.model import Site
from migrator.model.errors import MigratorError
from migrator.packs import load_pack
from migrator.rules.load import load_rules, precedence_order

TOY = Path(__file__).resolve().parent / "packs" / "toy"
CASES = load_pack().rules_dir


def rule_file(rules: Path, rule_id: str, *, stage: int = 2, calls: str = '["frob"]',
              after: str = "[]", extra: str = "") -> Path:
    folder = rules / rule_id
    folder.mkdir(parents=True)
    path = folder / "rule.toml"
    path.write_text(f'id = "{rule_id}"\nstage = {stage}\ntemplate = "bracket"\n'
                    f'title = "t"\ndescription = "d"\nconfidence = "low"\n'
                    f'[select]\ncalls = {calls}\nafter = {after}\n{extra}'
                    '[fix]\noutcome = "review"\n', encoding="utf-8")
    return path


def test_order_follows_after(tmp_path: Path) -> None:
    rule_file(tmp_path, "a-last", after='["c-middle"]')
    rule_file(tmp_path, "b-first")
    rule_file(tmp_path, "c-middle", after='["b-first"]')
    rule_file(tmp_path, "d-alone", calls='["other"]')
    order = [r.id for r in precedence_order(load_rules(tmp_path))]
    assert order.index("b-first") < order.index("c-middle") < order.index("a-last")


def test_unknown_rule_is_named(tmp_path: Path) -> None:
    rule_file(tmp_path, "a-first")
    bad = rule_file(tmp_path, "b-second", after='["a-frist"]')
    with pytest.raises(MigratorError, match=re.escape(f"{bad}: [select] after names unknown "
                                                      "rule 'a-frist'")):
        load_rules(tmp_path)


def test_cycle_is_named(tmp_path: Path) -> None:
    first = rule_file(tmp_path, "a-first", after='["b-second"]')
    rule_file(tmp_path, "b-second", after='["a-first"]')
    with pytest.raises(MigratorError, match=re.escape(
            f"{first}: [select] after: precedence cycle a-first -> b-second -> a-first")):
        load_rules(tmp_path)


def test_other_stage_is_refused(tmp_path: Path) -> None:
    rule_file(tmp_path, "a-first", stage=1)
    bad = rule_file(tmp_path, "b-second", after='["a-first"]')
    with pytest.raises(MigratorError, match=re.escape(f"{bad}: [select] after names "
                                                      "'a-first', a rule of stage 1")):
        load_rules(tmp_path)


def test_tie_in_a_chain_is_refused(tmp_path: Path) -> None:
    """b and c both run after a and both select frob(), but neither after the other."""
    rule_file(tmp_path, "a-first")
    rule_file(tmp_path, "b-one", after='["a-first"]')
    tie = rule_file(tmp_path, "c-two", after='["a-first"]')
    with pytest.raises(MigratorError, match=re.escape(
            f"{tie}: rules 'b-one' and 'c-two' both select frob()")):
        load_rules(tmp_path)
    # the same two rules selecting different calls: no tie that matters
    shutil.rmtree(tie.parent)
    rule_file(tmp_path, "c-two", after='["a-first"]', calls='["frob", "other"]')
    (tmp_path / "b-one" / "rule.toml").write_text(
        (tmp_path / "b-one" / "rule.toml").read_text().replace('["frob"]', '["other2"]'))
    assert len(load_rules(tmp_path)) == 3


def test_in_dirs_must_be_directories_or_an_option(tmp_path: Path) -> None:
    bad = rule_file(tmp_path, "a-first", extra='in_dirs = ["{not an option}"]\n')
    with pytest.raises(MigratorError, match=re.escape(f"{bad}: field 'select.in_dirs'")):
        load_rules(tmp_path)


# --- the engine applies it ----------------------------------------------------------------


@pytest.fixture()
def toy(tmp_path: Path) -> Path:
    """A copy of the toy pack with a review rule for frob() in drivers/a that the
    bracket rule runs after."""
    packs = tmp_path / "packs"
    shutil.copytree(TOY, packs / "toy")
    rule_file(packs / "toy" / "rules", "toy2-frob-in-a", after='["toy2-frob-in-irq"]',
              extra='in_dirs = "{frob_dirs}"\n[options]\nfrob_dirs = ["drivers/a"]\n')
    path = packs / "toy" / "rules" / "toy2-frob-in-a" / "rule.toml"
    path.write_text(path.read_text().replace('outcome = "review"\n', 'outcome = "review"\n'
                                             'reason = "frob() under {in_dir}"\n'))
    bracket = packs / "toy" / "rules" / "toy2-bracket-frob" / "rule.toml"
    text = bracket.read_text()
    assert 'after = ["toy2-frob-in-irq"]\n' in text
    bracket.write_text(text.replace('after = ["toy2-frob-in-irq"]\n',
                                    'after = ["toy2-frob-in-a"]\n'))
    return packs


FROB = "static void {name}(struct foo_dev *dev)\n{{\n\tfrob(dev);\n}}\n"


def plan_toy(packs: Path, tmp_path: Path, **options: object) -> list[Site]:
    tree = tmp_path / "tree"
    for where, name in (("drivers/a/x.c", "a_kick"), ("drivers/b/y.c", "b_kick")):
        (tree / where).parent.mkdir(parents=True, exist_ok=True)
        (tree / where).write_text(FROB.format(name=name))
    engine = open_engine(tree, PlanOptions(pack="toy", packs_dirs=(packs,), use_cache=False,
                                           jobs=1, rule_options=options))
    return engine.plan(2).sites


def test_a_claimed_call_is_not_seen_by_a_later_rule(toy: Path, tmp_path: Path) -> None:
    sites = {(s.rule, s.file, s.outcome, s.reason) for s in plan_toy(toy, tmp_path)}
    assert sites == {("toy2-frob-in-a", "drivers/a/x.c", "review", "frob() under drivers/a"),
                     ("toy2-bracket-frob", "drivers/b/y.c", "rewrite",
                      "Call frob() under bar_lock()")}


def test_without_after_both_rules_see_the_call(toy: Path, tmp_path: Path) -> None:
    bracket = toy / "toy" / "rules" / "toy2-bracket-frob" / "rule.toml"
    bracket.write_text(bracket.read_text().replace('after = ["toy2-frob-in-a"]\n', ""))
    # outside any chain: the pack's interrupt-handler rule (in the chain) goes too
    shutil.rmtree(toy / "toy" / "rules" / "toy2-frob-in-irq")
    in_a = toy / "toy" / "rules" / "toy2-frob-in-a" / "rule.toml"
    in_a.write_text(in_a.read_text().replace('after = ["toy2-frob-in-irq"]', "after = []"))
    # both see the call: the review stands, the bracket's rewrite is named, not applied
    at_a = [s for s in plan_toy(toy, tmp_path) if s.file == "drivers/a/x.c"]
    assert [(s.rule, s.outcome) for s in at_a] == [("toy2-frob-in-a", "review")]
    assert at_a[0].evidence[-1].startswith("rule toy2-bracket-frob would rewrite it")


def test_in_dirs_option_from_the_command_line(toy: Path, tmp_path: Path) -> None:
    sites = {(s.rule, s.file) for s in plan_toy(toy, tmp_path, frob_dirs=["drivers/b"])}
    assert sites == {("toy2-frob-in-a", "drivers/b/y.c"), ("toy2-bracket-frob", "drivers/a/x.c")}


def test_in_dirs_naming_no_list_option_is_named(toy: Path, tmp_path: Path) -> None:
    path = toy / "toy" / "rules" / "toy2-frob-in-a" / "rule.toml"
    path.write_text(path.read_text().replace('"{frob_dirs}"', '"{verbose_log}"'))
    with pytest.raises(MigratorError, match=re.escape(f"{path}: [select] in_dirs uses "
                                                      "{verbose_log}")):
        plan_toy(toy, tmp_path)


# --- a finder claims a call that needs nothing (nd_lock stage 3: the T0 form) --------------

T0_FORM = (CASES / "stage3-t3-t4-parent-or-private" / "cases" / "t0-form-none.c").read_text()
NOTIFIER = (CASES / "stage3-t5-notifier" / "cases" / "notifier-review.c").read_text()


def test_a_call_claimed_by_an_already_done_site(tmp_path: Path) -> None:
    """A rule after stage3-t3-t4-parent-or-private sees neither the T0 form (claimed
    by an already-done site) nor the notifier's call (claimed by stage3-t5-notifier's
    review site)."""
    rules = tmp_path / "rules"
    shutil.copytree(CASES, rules)
    rule_file(rules, "stage3-zz-leftover", stage=3, calls='["register_netdevice"]',
              after='["stage3-t3-t4-parent-or-private"]')
    text = (rules / "stage3-zz-leftover" / "rule.toml").read_text()
    (rules / "stage3-zz-leftover" / "rule.toml").write_text(
        text.replace('template = "bracket"', 'template = "T4"'))
    tree = tmp_path / "tree"
    (tree / "drivers/net").mkdir(parents=True)
    (tree / "drivers/net/t0.c").write_text(T0_FORM)
    (tree / "drivers/net/notif.c").write_text(NOTIFIER)

    def plan() -> dict[str, set[str]]:
        options = PlanOptions(rules_dir=rules, use_cache=False, jobs=1)
        out: dict[str, set[str]] = {}
        for site in open_engine(tree, options).plan(3).sites:
            out.setdefault(site.rule, set()).add(site.function)
        return out

    assert plan() == {"stage3-t5-notifier": {"ex_shadow"},
                      "stage3-t3-t4-parent-or-private": {"ex_standalone"}}
    # the same rule after nothing: it sees both calls
    (rules / "stage3-zz-leftover" / "rule.toml").write_text(
        text.replace('template = "bracket"', 'template = "T4"').replace(
            'after = ["stage3-t3-t4-parent-or-private"]', "after = []"))
    assert plan()["stage3-zz-leftover"] == {"ex_standalone", "ex_shadow"}
