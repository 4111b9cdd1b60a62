"""A rule's finder.py: loaded from the rule's folder; a broken one is an error naming
the file, never a crash or a silently skipped rule."""

from __future__ import annotations

from pathlib import Path

import pytest

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
