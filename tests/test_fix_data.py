"""The [fix] vocabulary (migrator.rules.fix): what a rule file may say, and the errors
that name the file when it says something else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from migrator.model.errors import MigratorError
from migrator.rules.fix import parse_fix
from migrator.testing import assert_migration

PACKS = Path(__file__).resolve().parent / "packs"
RULE = Path("/packs/p/rules/r/rule.toml")


def test_vocabulary_and_metavariables() -> None:
    spec = parse_fix({"outcome": "rewrite",
                      "guard": {"condition": "try_lock({arg0})", "epilogue": "unlock({arg0});",
                                "on_failure": "-EBUSY"},
                      "declare": "struct lock *{lock};"}, RULE)
    assert spec.statement_level and spec.guard is not None
    assert spec.guard.epilogue == ("unlock({arg0});",)
    assert spec.names() == {"arg0", "lock"}
    assert not parse_fix({"rename": "new"}, RULE).statement_level


@pytest.mark.parametrize(("table", "problem"), [
    ({"wrap": {}}, "unknown key(s) wrap"),
    ({"guard": {"epilogue": []}}, "guard needs a 'condition'"),
    ({"bracket": ["a"]}, "bracket must be a table"),
    ({"done_when": {"follows": "x"}}, "done_when must be"),
    ({"insert_before": 3}, "must be a string or a list of strings"),
])
def test_malformed_fix_names_the_file(table: dict[str, object], problem: str) -> None:
    with pytest.raises(MigratorError, match=re.escape(problem)) as caught:
        parse_fix(table, RULE)
    assert str(RULE) in str(caught.value)


def test_unbound_metavariable_is_review(tmp_path: Path) -> None:
    """A fix naming a metavariable the call does not bind ({arg1} of a one-argument
    call) refuses the site with the reason, never writes a guess."""
    pack = tmp_path / "packs" / "meta"
    rule = pack / "rules" / "m1-bracket"
    rule.mkdir(parents=True)
    (pack / "pack.toml").write_text(
        'name = "meta"\ntitle = "t"\ntemplates = ["b"]\n[[stages]]\nnumber = 1\n'
        'title = "s"\n')
    (rule / "rule.toml").write_text(
        'id = "m1-bracket"\nstage = 1\ntemplate = "b"\ntitle = "b"\nconfidence = "low"\n'
        'description = "d"\n[select]\ncalls = ["frob"]\n[fix]\noutcome = "rewrite"\n'
        'bracket = { before = ["lock({arg1});"], after = ["unlock({arg1});"] }\n')
    sites = assert_migration("void f(int d)\n{\n\tfrob(d);\n}\n", rule="m1-bracket",
                             pack="meta", packs_dirs=[pack.parent],
                             review=["does not bind"])
    assert sites[0].edits == ()
