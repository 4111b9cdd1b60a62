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


def test_new_keys_parse() -> None:
    spec = parse_fix({"bracket": {"region": "enclosing_loop", "before": "lock();",
                                  "after": ["unlock();"]},
                      "done_when": {"preceded_by": "lock()", "guarded_by": "try({arg0})"},
                      "declare": "struct l *a, *b;"}, RULE)
    assert spec.bracket is not None and spec.bracket.region == "enclosing_loop"
    assert spec.bracket.before == ("lock();",) and spec.done_guarded_by == "try({arg0})"
    assert spec.names() == {"arg0"}
    assert parse_fix({"bracket": {"before": "x;"}}, RULE).bracket.region == "statement"  # type: ignore[union-attr]


@pytest.mark.parametrize(("table", "problem"), [
    ({"wrap": {}}, "unknown key(s) wrap"),
    ({"guard": {"epilogue": []}}, "guard needs a 'condition'"),
    ({"guard": {"condition": "c", "on_fail": "-1"}}, "guard has unknown key(s) on_fail"),
    ({"guard": {"condition": "c", "on_failure": -1}}, "on_failure must be a string"),
    ({"bracket": ["a"]}, "bracket must be a table"),
    ({"bracket": {"region": "function"}}, "bracket.region must be one of statement, "
                                          "enclosing_loop, not 'function'"),
    ({"bracket": {"around": []}}, "bracket has unknown key(s) around"),
    ({"done_when": {"follows": "x"}}, "done_when must be"),
    ({"done_when": {"guarded_by": 1}}, "done_when.guarded_by must be a string"),
    ({"declare": ["struct a *a;"]}, "declare must be a string"),
    ({"insert_before": 3}, "must be a string or a list of strings"),
])
def test_malformed_fix_names_the_file(table: dict[str, object], problem: str) -> None:
    with pytest.raises(MigratorError, match=re.escape(problem)) as caught:
        parse_fix(table, RULE)
    assert str(RULE) in str(caught.value)


def _pack(tmp_path: Path, fix: str) -> Path:
    """A one-rule pack `meta` whose rule m1-fix selects frob() and applies `fix`."""
    pack = tmp_path / "packs" / "meta"
    rule = pack / "rules" / "m1-fix"
    rule.mkdir(parents=True)
    (pack / "pack.toml").write_text(
        'name = "meta"\ntitle = "t"\ntemplates = ["b"]\n[[stages]]\nnumber = 1\n'
        'title = "s"\n')
    (rule / "rule.toml").write_text(
        'id = "m1-fix"\nstage = 1\ntemplate = "b"\ntitle = "b"\nconfidence = "low"\n'
        'description = "d"\n[select]\ncalls = ["frob"]\n[fix]\noutcome = "rewrite"\n' + fix)
    return pack.parent


def test_unbound_metavariable_is_review(tmp_path: Path) -> None:
    """A fix naming a metavariable the call does not bind ({arg1} of a one-argument
    call) refuses the site with the reason, never writes a guess."""
    packs = _pack(tmp_path, 'bracket = { before = ["lock({arg1});"], '
                            'after = ["unlock({arg1});"] }\n')
    sites = assert_migration("void f(int d)\n{\n\tfrob(d);\n}\n", rule="m1-fix",
                             pack="meta", packs_dirs=[packs], review=["does not bind"])
    assert sites[0].edits == ()


LOOP_FIX = ('[fix.bracket]\nregion = "enclosing_loop"\nbefore = ["mutex_lock(&big);"]\n'
            'after = ["mutex_unlock(&big);"]\n'
            '[fix.done_when]\npreceded_by = "mutex_lock(&big);"\n')
LOOP = ("int f(struct d *ds, int n)\n{\n\tint i, err = 0;\n\n"
        "\tfor (i = 0; i < n; i++) {\n\t\tif (ds[i].bad)\n\t\t\treturn -EINVAL;\n"
        "\t\terr = frob(&ds[i]);\n\t\tif (err)\n\t\t\tbreak;\n\t\tfrob(&ds[i]);\n"
        "\t}\n\treturn err;\n}\n")


def test_bracket_enclosing_loop_once_with_exits(tmp_path: Path) -> None:
    """region = "enclosing_loop": the loop holding two selected calls is bracketed once
    (the second call's site carries no edit), the unlock goes before the return that
    leaves it but not before the break (the loop's end unlocks); converted, the loop is
    done (done_when on the statement before the region)."""
    packs = _pack(tmp_path, LOOP_FIX)
    after = LOOP.replace("\tfor (", "\tmutex_lock(&big);\n\tfor (").replace(
        "\t\tif (ds[i].bad)\n\t\t\treturn -EINVAL;\n",
        "\t\tif (ds[i].bad) {\n\t\t\tmutex_unlock(&big);\n\t\t\treturn -EINVAL;\n\t\t}\n"
    ).replace("\t}\n\treturn err;", "\t}\n\tmutex_unlock(&big);\n\treturn err;")
    sites = assert_migration(LOOP, after, rule="m1-fix", pack="meta", packs_dirs=[packs])
    assert [bool(s.edits) for s in sites] == [True, False]
    assert_migration(after, rule="m1-fix", pack="meta", packs_dirs=[packs],
                     already_done=True)


def test_bracket_enclosing_loop_without_loop_takes_the_statement(tmp_path: Path) -> None:
    """No loop around the call: the statement holding it, whatever its kind (here an
    `if` testing the call's value, with the unlock before its goto)."""
    packs = _pack(tmp_path, LOOP_FIX)
    before = ("int f(struct d *d)\n{\n\tif (frob(d))\n\t\tgoto out;\n\treturn 0;\n"
              "out:\n\treturn -EIO;\n}\n")
    after = ("int f(struct d *d)\n{\n\tmutex_lock(&big);\n\tif (frob(d)) {\n"
             "\t\tmutex_unlock(&big);\n\t\tgoto out;\n\t}\n\tmutex_unlock(&big);\n"
             "\treturn 0;\nout:\n\treturn -EIO;\n}\n")
    assert_migration(before, after, rule="m1-fix", pack="meta", packs_dirs=[packs])
    statement = _pack(tmp_path / "s", LOOP_FIX.replace("enclosing_loop", "statement"))
    assert_migration(before, rule="m1-fix", pack="meta", packs_dirs=[statement],
                     review=["not a statement of its own"])


GUARD_FIX = ('declare = "struct l *l, *l2;"\n[fix.guard]\ncondition = "try_lock({arg0}, &l)"\n'
             'epilogue = ["unlock(l);"]\non_failure = "-EBUSY"\n'
             '[fix.done_when]\nguarded_by = "try_lock({arg0}, &l)"\n')


def test_guard_declare_and_guarded_by(tmp_path: Path) -> None:
    """guard + declare (two names, one declaration); done_when.guarded_by: the converted
    call sits in the `if` the guard wrote: nothing to do."""
    packs = _pack(tmp_path, GUARD_FIX)
    before = "int f(struct d *d)\n{\n\tint err;\n\n\terr = frob(d);\n\treturn err;\n}\n"
    after = ("int f(struct d *d)\n{\n\tstruct l *l, *l2;\n\tint err;\n\n\terr = -EBUSY;\n"
             "\tif (try_lock(d, &l)) {\n\t\terr = frob(d);\n\t\tunlock(l);\n\t}\n"
             "\treturn err;\n}\n")
    assert_migration(before, after, rule="m1-fix", pack="meta", packs_dirs=[packs])
    assert_migration(after, rule="m1-fix", pack="meta", packs_dirs=[packs],
                     already_done=True)


@pytest.mark.parametrize(("decls", "outcome"), [
    ("\tstruct l *l, *l2;\n", "rewrite"),  # both there with that type: reused
    ("\tstruct l *l;\n\tstruct l *l2;\n", "rewrite"),
    ("\tint l;\n", "another type (int)"),
    ("\tstruct l *l2;\n", "l2 already declared in the function, l not"),
])
def test_declare_existing_names(tmp_path: Path, decls: str, outcome: str) -> None:
    packs = _pack(tmp_path, GUARD_FIX)
    before = f"int f(struct d *d)\n{{\n{decls}\tint err;\n\n\terr = frob(d);\n\treturn err;\n}}\n"
    if outcome == "rewrite":
        sites = assert_migration(before, before.replace(
            "\terr = frob(d);\n", "\terr = -EBUSY;\n\tif (try_lock(d, &l)) {\n"
            "\t\terr = frob(d);\n\t\tunlock(l);\n\t}\n"), rule="m1-fix", pack="meta",
            packs_dirs=[packs])
        assert all("struct l" not in e.replacement for e in sites[0].edits)
    else:
        assert_migration(before, rule="m1-fix", pack="meta", packs_dirs=[packs],
                         review=[outcome])


def test_guard_refusals_name_the_shape(tmp_path: Path) -> None:
    """A guarded call whose value is returned or used inside an expression: review,
    with the guard's own words."""
    packs = _pack(tmp_path, GUARD_FIX)
    assert_migration("int f(struct d *d)\n{\n\treturn frob(d);\n}\n", rule="m1-fix",
                     pack="meta", packs_dirs=[packs],
                     review=["call inside a return statement"])
    assert_migration("int f(struct d *d)\n{\n\tint err;\n\n\terr = g(frob(d));\n"
                     "\treturn err;\n}\n", rule="m1-fix", pack="meta", packs_dirs=[packs],
                     review=["call nested in another expression"])


def test_bracket_unbraced_iterator_body(tmp_path: Path) -> None:
    """An iterator macro whose body has no braces is a loop too: the lock goes before
    its head, the unlock after its one statement; a break in that statement leaves only
    the loop (no unlock before it)."""
    packs = _pack(tmp_path, LOOP_FIX)
    before = ("void f(struct p *p)\n{\n\tstruct d *d;\n\n"
              "\tlist_for_each_entry(d, &p->list, node)\n\t\tif (frob(d))\n\t\t\tbreak;\n"
              "\tp->done = 1;\n}\n")
    after = before.replace("\tlist_for_each_entry", "\tmutex_lock(&big);\n\tlist_for_each_entry"
                           ).replace("break;\n", "break;\n\tmutex_unlock(&big);\n")
    assert_migration(before, after, rule="m1-fix", pack="meta", packs_dirs=[packs])


# add_param / kdoc_param: the signature vocabulary a finder applies where it decides.

SIGNATURE_FIX = ('kdoc_param = "@lk: lock of the device {function}() makes"\n'
                 '[fix.add_param]\nparam = "struct lk *lk"\n'
                 'arg = { held = "{dev}->lk", passed_on = "lk" }\n')
# A finder threading the parameter: the function holding the selected call gains it
# (definition, prototypes before it, kernel-doc), each of its calls passes `held`.
SIGNATURE_FINDER = '''
import re

from migrator.edit.cedit import NeedsReview


def find(ctx):
    for cand in ctx.candidates:
        fn = cand.function
        src = ctx.index.source(fn.file)
        try:
            added = ctx.add_param(fn)
            edits = added.edits
            for m in re.finditer(rb"\\b" + fn.name.encode() + rb"\\b", src[:fn.start]):
                proto = ctx.add_param_prototype(fn.file, m.start(), fn.name)
                edits += [proto] if proto is not None else []
            for call in ctx.graph.callers(fn):
                edits.append(ctx.add_arg(call, ctx.options.get("kind", "held"), dev="dev"))
        except NeedsReview as exc:
            yield ctx.review(cand, str(exc))
            continue
        yield ctx.rewrite(cand, edits, f"{fn.name}() gains {added.decl}"
                          + (" (kernel-doc)" if added.kdoc else ""))
'''
SIGNATURE_BEFORE = """static int make_dev(int a);

/**
 * make_dev - make a device
 * @a: how many
 *	(a continuation line)
 *
 * Return: 0 or an error
 */
static int make_dev(int a)
{
	frob(a);
	return 0;
}

int user(struct dev *dev)
{
	return make_dev(1);
}
"""
SIGNATURE_AFTER = SIGNATURE_BEFORE.replace(
    "static int make_dev(int a)", "static int make_dev(int a, struct lk *lk)").replace(
    " *\t(a continuation line)\n", " *\t(a continuation line)\n"
    " * @lk: lock of the device make_dev() makes\n").replace(
    "make_dev(1);", "make_dev(1, dev->lk);")


def _finder_pack(tmp_path: Path, fix: str, finder: str = SIGNATURE_FINDER) -> Path:
    packs = _pack(tmp_path, fix)
    (packs / "meta" / "rules" / "m1-fix" / "finder.py").write_text(finder)
    return packs


def test_add_param_and_kdoc_param_parse() -> None:
    spec = parse_fix({"add_param": {"param": "struct lk *{name}", "arg": "{name}"},
                      "kdoc_param": "@{name}: the lock"}, RULE)
    assert spec.add_param is not None and spec.add_param.param == "struct lk *{name}"
    assert spec.add_param.arg() == "{name}" and spec.add_param.arg("held") is None
    assert spec.names() == {"name"} and not spec.statement_level
    table = parse_fix({"add_param": {"param": "int n", "arg": {"own": "n", "held": "{d}->n"}}},
                      RULE).add_param
    assert table is not None and table.arg("held") == "{d}->n" and table.arg() is None


def test_add_param_threads_definition_prototype_kdoc_and_calls(tmp_path: Path) -> None:
    """The function the finder binds gains `param` in its definition and prototype, the
    kdoc_param line after its last parameter line (a continuation line included, the
    {function} metavariable filled), each call it names the `arg` of its kind; a
    kernel-doc documenting the name already gets no second line."""
    packs = _finder_pack(tmp_path, SIGNATURE_FIX)
    sites = assert_migration(SIGNATURE_BEFORE, SIGNATURE_AFTER, rule="m1-fix", pack="meta",
                             packs_dirs=[packs])
    assert sites[0].reason == "make_dev() gains struct lk *lk (kernel-doc)"
    documented = SIGNATURE_BEFORE.replace(" * @a: how many\n", " * @a: how many\n * @lk: x\n")
    assert_migration(documented, SIGNATURE_AFTER.replace(
        " * @a: how many\n", " * @a: how many\n * @lk: x\n").replace(
        " * @lk: lock of the device make_dev() makes\n", ""), rule="m1-fix", pack="meta",
        packs_dirs=[packs])


def test_add_param_string_arg_void_list_no_kdoc(tmp_path: Path) -> None:
    """`arg` as a string (the finder names no kind); `(void)` becomes the parameter; a
    function without kernel-doc gets none."""
    packs = _finder_pack(tmp_path, SIGNATURE_FIX.replace(
        'arg = { held = "{dev}->lk", passed_on = "lk" }', 'arg = "NULL"'))
    before = ("static int make_dev(void)\n{\n\tfrob(1);\n\treturn 0;\n}\n\n"
              "int user(struct dev *dev)\n{\n\treturn make_dev();\n}\n")
    assert_migration(before, before.replace("make_dev(void)", "make_dev(struct lk *lk)")
                     .replace("make_dev();", "make_dev(NULL);"), rule="m1-fix", pack="meta",
                     packs_dirs=[packs], options={"kind": ""})


def test_add_param_wraps_at_80_columns(tmp_path: Path) -> None:
    """A list that would pass 80 columns continues under its opening parenthesis (tabs,
    then spaces); a list with continuation lines keeps their indentation."""
    packs = _finder_pack(tmp_path, SIGNATURE_FIX)
    before = ("static int make_device_with_a_long_name(struct something *first_argument,"
              " int b)\n{\n\tfrob(b);\n\treturn 0;\n}\n\nint user(struct dev *dev)\n{\n"
              "\treturn make_device_with_a_long_name(dev->first_argument_too, 22);\n}\n")
    after = before.replace(" int b)\n", " int b,\n\t\t\t\t\tstruct lk *lk)\n").replace(
        "dev->first_argument_too, 22);", "dev->first_argument_too, 22,\n"
        "\t\t\t\t\t    dev->lk);")
    assert_migration(before, after, rule="m1-fix", pack="meta", packs_dirs=[packs])
    wrapped = before.replace("(struct something *first_argument, int b)",
                             "(struct something *first_argument,\n\t\t\t\t\t"
                             "       int b_with_a_long_name_too)").replace(
        "frob(b)", "frob(b_with_a_long_name_too)")
    assert_migration(wrapped, wrapped.replace(
        "int b_with_a_long_name_too)", "int b_with_a_long_name_too,\n\t\t\t\t\t"
        "       struct lk *lk)").replace("dev->first_argument_too, 22);",
                                        "dev->first_argument_too, 22,\n"
                                        "\t\t\t\t\t    dev->lk);"),
        rule="m1-fix", pack="meta", packs_dirs=[packs])


def test_add_param_refusals(tmp_path: Path) -> None:
    """A parameter of that name already: review with the reason; a kind the rule's
    `arg` table has no text for: an error naming the rule.toml."""
    packs = _finder_pack(tmp_path, SIGNATURE_FIX)
    taken = SIGNATURE_BEFORE.replace("make_dev(int a)\n{", "make_dev(int a, int lk)\n{")
    assert_migration(taken, rule="m1-fix", pack="meta", packs_dirs=[packs],
                     review=["make_dev() already has an lk parameter"])
    with pytest.raises(MigratorError, match=r"rule\.toml: \[fix\] add_param.arg has no text "
                       r"for calls of kind 'taken'.*kinds: held, passed_on"):
        assert_migration(SIGNATURE_BEFORE, rule="m1-fix", pack="meta", packs_dirs=[packs],
                         options={"kind": "taken"})


def test_add_param_needs_a_finder(tmp_path: Path) -> None:
    """A data-only rule cannot say where a parameter goes: an error naming the file."""
    packs = _pack(tmp_path, '[fix.add_param]\nparam = "int n"\narg = "0"\n')
    with pytest.raises(MigratorError, match=r"m1-fix/rule\.toml: \[fix\] add_param needs a "
                       "finder.py"):
        assert_migration(SIGNATURE_BEFORE, rule="m1-fix", pack="meta", packs_dirs=[packs])


@pytest.mark.parametrize(("table", "problem"), [
    ({"add_param": "struct lk *lk"}, "add_param must be a table"),
    ({"add_param": {"param": "int n", "arg": "n", "kdoc": "x"}},
     "add_param has unknown key(s) kdoc"),
    ({"add_param": {"arg": "n"}}, "add_param needs a 'param' string"),
    ({"add_param": {"param": "struct lk *", "arg": "n"}}, "declaration ending with its name"),
    ({"add_param": {"param": "int n"}}, "add_param needs an 'arg' string"),
    ({"add_param": {"param": "int n", "arg": 0}}, "add_param needs an 'arg' string"),
    ({"add_param": {"param": "int n", "arg": {"two words": "n"}}}, "a table of them by kind"),
    ({"add_param": {"param": "int n", "arg": {"own": ["n"]}}}, "a table of them by kind"),
    ({"add_param": {"param": "int n", "arg": "n"}, "kdoc_param": ["@n: x"]},
     "kdoc_param must be a string"),
    ({"add_param": {"param": "int n", "arg": "n"}, "kdoc_param": "n: the count"},
     "kdoc_param must be a kernel-doc parameter line"),
    ({"kdoc_param": "@n: the count"}, "kdoc_param documents the parameter add_param adds"),
])
def test_malformed_signature_fix_names_the_file(table: dict[str, object], problem: str) -> None:
    with pytest.raises(MigratorError, match=re.escape(problem)) as caught:
        parse_fix(table, RULE)
    assert str(RULE) in str(caught.value)
