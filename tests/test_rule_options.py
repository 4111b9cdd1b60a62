"""Rule files mean what they say: an option set in a rule's TOML takes effect unless the
command line sets it explicitly, and a rule's declared outcome matches what it does."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from migrator.cli import main
from migrator.packs import load_pack

SAMPLE = Path(__file__).resolve().parent.parent / "corpus" / "sample"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("opts") / "tree"
    shutil.copytree(SAMPLE, dst)
    return dst


def rules_with(tmp_path: Path, rule_id: str, option: str, value: str) -> Path:
    """A copy of the project's rules with `option = value` in one rule's [options]."""
    rules = tmp_path / "rules"
    shutil.copytree(load_pack().rules_dir, rules)
    path = rules / rule_id / "rule.toml"
    text = path.read_text(encoding="utf-8")
    line = re.compile(rf"(?m)^{option} = .*$")
    if line.search(text):
        text = line.sub(lambda _m: f"{option} = {value}", text, count=1)
    else:
        text = text.replace("[options]\n", f"[options]\n{option} = {value}\n", 1)
    assert f"{option} = {value}" in text
    path.write_text(text, encoding="utf-8")
    return rules


def scan(tmp_path: Path, tree: Path, stage: int | str, *args: str) -> list[dict[str, object]]:
    manifest = tmp_path / f"m{len(list(tmp_path.glob('m*.json')))}.json"
    assert main(["scan", "--tree", str(tree), "--no-cache", "--stage", str(stage),
                 "--json", str(manifest), *args]) == 0
    return json.loads(manifest.read_text())


def by_rule(sites: list[dict[str, object]], rule: str) -> list[dict[str, object]]:
    return [s for s in sites if s["rule"] == rule]


def test_t0_in_the_rule_file(tmp_path: Path, tree: Path) -> None:
    rule = "stage1-t0-register-netdev"
    shipped = by_rule(scan(tmp_path, tree, 1), rule)
    rules = rules_with(tmp_path, rule, "t0", '"all"')
    from_file = by_rule(scan(tmp_path, tree, 1, "--rules", str(rules)), rule)
    assert len(from_file) > len(shipped)
    explicit = by_rule(scan(tmp_path, tree, 1, "--rules", str(rules), "--t0", "pernet"), rule)
    assert explicit == shipped


def test_t5_in_the_rule_file(tmp_path: Path, tree: Path) -> None:
    rule = "stage3-t5-notifier"

    def t5(*args: str) -> list[str]:
        return [str(s["outcome"]) for s in by_rule(scan(tmp_path, tree, 3, *args), rule)
                if s["template"] == "T5"]

    assert t5() == ["review"]
    rules = rules_with(tmp_path, rule, "t5", '"rewrite"')
    assert t5("--rules", str(rules)) == ["rewrite"]
    assert t5("--rules", str(rules), "--t5", "review") == ["review"]


def test_with_core_in_the_rule_file(tmp_path: Path, tree: Path) -> None:
    rule = "stage1-core-netdevice-h"
    assert by_rule(scan(tmp_path, tree, 1), rule) == []
    rules = rules_with(tmp_path, rule, "with_core", "true")
    core = by_rule(scan(tmp_path, tree, 1, "--rules", str(rules)), rule)
    assert [s["file"] for s in core] == ["include/linux/netdevice.h"]
    assert by_rule(scan(tmp_path, tree, 1, "--rules", str(rules), "--no-with-core"), rule) == []
    shipped = by_rule(scan(tmp_path, tree, 1, "--with-core"), rule)
    assert shipped == core


def test_families_in_the_rule_file(tmp_path: Path, tree: Path) -> None:
    """`families` of the fallback-family rule selects its calls (`in_dirs =
    "{families}"`); emptied, the known-family rule after it gets them, for review."""
    rule = "stage3-t7-fallback-family"

    def wireless(*args: str) -> set[tuple[object, object, object]]:
        return {(s["rule"], s["template"], s["outcome"])
                for s in scan(tmp_path, tree, 3, *args)
                if str(s["file"]).startswith("net/wireless/")}

    assert (rule, "T7", "rewrite") in wireless()
    rules = rules_with(tmp_path, rule, "families", "[]")
    assert wireless("--rules", str(rules)) == {("stage3-t7-known-family", "T7", "review")}


def test_declared_outcome_matches_what_the_rule_does(tmp_path: Path, tree: Path) -> None:
    """A rule declared `review` never rewrites; one declared `rewrite` rewrites something on
    the sample tree (core rules with their option on)."""
    rules = {r.id: r for r in load_pack().rules()}
    sites = scan(tmp_path, tree, "all", "--with-core", "--t0", "all", "--t5", "rewrite")
    assert {s["stage"] for s in sites} == set(range(1, 7))
    for rule_id, rule in rules.items():
        outcomes = {s["outcome"] for s in by_rule(sites, rule_id)}
        if rule.outcome == "review":
            assert "rewrite" not in outcomes, rule_id
        elif outcomes:
            assert "rewrite" in outcomes, rule_id
