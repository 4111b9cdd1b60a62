"""`migrate status`: the rtnetlink handler census (registrations counted as upstream
counts them) and the per-rule census, done and to do from the rules' own sites."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_netns_census import make_tree

from migrator.commands.status import census
from migrator.edit.edits import apply_edits, group_by_file
from migrator.engine.plan import PlanOptions
from migrator.engine.planner import Engine, open_engine
from migrator.model import Outcome, Site
from migrator.model.errors import MigratorError
from migrator.packs.nd_lock.census import Handler, HandlerCensus, table_rows
from migrator.rules.load import load_rule

PACKS = Path(__file__).resolve().parent / "packs"

FIELDS = ("owner", "protocol", "msgtype", "doit", "dumpit", "flags")


def test_table_rows_positional_designated_and_mixed() -> None:
    text = """{
	{THIS_MODULE, PF_MPLS, RTM_NEWROUTE, mpls_rtm_newroute, NULL, 0},
	/* a comment, with a comma */
	{THIS_MODULE, PF_MPLS, RTM_GETROUTE, mpls_getroute, mpls_dump_routes,
		RTNL_FLAG_DUMP_UNLOCKED},
	{.msgtype = RTM_GETLINK, .doit = f, .dumpit = g,
		.flags = RTNL_FLAG_DOIT_UNLOCKED | RTNL_FLAG_DUMP_UNLOCKED},
#if IS_ENABLED(CONFIG_X)
	{NULL, PF_UNSPEC, .doit = h, .flags = BIT(0)},
#endif
}"""
    rows = table_rows(text, FIELDS)
    assert [row.get("doit") for row in rows] == ["mpls_rtm_newroute", "mpls_getroute", "f", "h"]
    assert rows[0]["dumpit"] == "NULL"
    assert rows[1]["flags"] == "RTNL_FLAG_DUMP_UNLOCKED"
    assert rows[2]["flags"] == "RTNL_FLAG_DOIT_UNLOCKED | RTNL_FLAG_DUMP_UNLOCKED"
    assert rows[3]["protocol"] == "PF_UNSPEC" and rows[3]["flags"] == "BIT(0)"


def test_counts_by_registration_and_by_function() -> None:
    census = HandlerCensus(doit_flags={"RTNL_FLAG_DOIT_UNLOCKED", "ALIAS"})
    census.handlers = [
        Handler("a.c:1", "set", "", "0"),
        Handler("a.c:2", "set", "", "0"),  # one function, two registrations
        Handler("a.c:3", "get", "dump", "ALIAS | RTNL_FLAG_DUMP_UNLOCKED"),
        Handler("a.c:4", "get", "", "0"),  # locked once: not converted by function
        Handler("a.c:5", "", "dump2", "RTNL_FLAG_DUMP_UNLOCKED"),
    ]
    assert (census.doit_unlocked, census.doit) == (1, 4)
    assert (census.dumpit_unlocked, census.dumpit) == (2, 2)
    assert census.distinct("doit") == (0, 2)
    assert census.distinct("dumpit") == (2, 2)


# --- the per-stage census comes from the rules (migrator.commands.status) -------------

# the toy pack's driver: foo_lock() to rename, frob() to bracket, a frob() in a return
TOY_DRIVER = (Path(__file__).resolve().parent / "fixtures" / "toy" / "foo.c").read_text()


def _rows(engine: Engine) -> dict[str, tuple[int, int, int]]:
    return {row.rule: (row.done, row.todo, row.report) for row in census(engine)}


def _convert(tree: Path, options: PlanOptions, stages: tuple[int, ...]) -> list[Site]:
    """Run `stages` on `tree` and apply their rewrites, as `migrate stage --apply` does;
    the sites each stage planned."""
    planned = []
    for stage in stages:
        plan = open_engine(tree, options).plan(stage)
        for path, edits in group_by_file(plan.edits).items():
            (tree / path).write_bytes(apply_edits((tree / path).read_bytes(), edits))
        planned += plan.sites
    return planned


def _count(sites: list[Site], rule: str, *outcomes: Outcome) -> int:
    return sum(s.rule == rule and s.outcome in outcomes for s in sites)


def test_toy_census_before_and_after_the_tool_converts(tmp_path: Path) -> None:
    """Each rule's row: before, everything its stage would rewrite or leave for review is
    to do; after the tool applied its own rewrites, each of them is done (the rename's
    done_when callee, the bracket's done_when preceded_by) and the reviews are left."""
    tree = tmp_path / "t"
    (tree / "drivers/net").mkdir(parents=True)
    (tree / "drivers/net/foo.c").write_text(TOY_DRIVER)
    options = PlanOptions(pack="toy", packs_dirs=(PACKS,), use_cache=False, jobs=1)
    engine = open_engine(tree, options)
    assert set(_rows(engine)) == {r.id for r in engine.rules}  # one row per rule
    for stage in (1, 2):  # stage by stage, as a developer would run them
        before = _rows(open_engine(tree, options))
        planned = _convert(tree, options, (stage,))
        after = _rows(open_engine(tree, options))
        for rule in (r.id for r in engine.rules if r.stage == stage):
            rewrites = _count(planned, rule, Outcome.REWRITE)
            reviews = _count(planned, rule, Outcome.REVIEW)
            assert rewrites + reviews, rule  # every toy rule has sites here
            assert before[rule] == (0, rewrites + reviews, 0), rule
            assert after[rule] == (rewrites, reviews, 0), rule
    assert after["toy2-bracket-frob"][1] == 1  # foo_poll(): its value is used, review
    assert after["toy2-frob-in-irq"] == (0, 1, 0)  # foo_irq(): review, by the finder


def test_netns_census_after_the_tool_converts(tmp_path: Path) -> None:
    """netns_rtnl stage 2 on its census fixture: the rtnl_lock() calls the tool turns into
    rtnl_net_lock() become done; nothing else moves."""
    tree = make_tree(tmp_path)
    options = PlanOptions(pack="netns_rtnl", use_cache=False, jobs=1)
    before = _rows(open_engine(tree, options))["2-rtnl-net-lock"]
    planned = _convert(tree, options, (2,))
    after = _rows(open_engine(tree, options))["2-rtnl-net-lock"]
    rewrites = _count(planned, "2-rtnl-net-lock", Outcome.REWRITE)
    assert rewrites and before[1] == rewrites + _count(planned, "2-rtnl-net-lock",
                                                       Outcome.REVIEW)
    assert after == (before[0] + rewrites, before[1] - rewrites, 0)


def test_done_when_callee_is_checked(tmp_path: Path) -> None:
    """A done_when callee that names no function, or names what the rule selects (every
    candidate would be done), is refused with the file named."""
    rule = tmp_path / "r1"
    rule.mkdir()
    head = ('id = "r1"\nstage = 1\ntemplate = "t"\ntitle = "t"\nconfidence = "low"\n'
            'description = "d"\n[select]\ncalls = ["foo"]\n[fix]\noutcome = "rewrite"\n'
            'rename = "bar"\n')
    for bad, words in (('done_when = { callee = "bar()" }', "must name functions"),
                       ('done_when = { callee = [] }', "must name functions"),
                       ('done_when = { callee = ["bar", "foo"] }', "names a call the rule"),
                       ('done_when = { after = "x" }', "done_when must be")):
        (rule / "rule.toml").write_text(head + bad + "\n")
        with pytest.raises(MigratorError, match=words):
            load_rule(rule / "rule.toml")
    (rule / "rule.toml").write_text(head + 'done_when = { callee = "bar" }\n')
    assert load_rule(rule / "rule.toml").done_calls == ("bar",)
