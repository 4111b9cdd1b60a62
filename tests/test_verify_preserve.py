"""Bytes outside the edit stay (migrator.verify.preserve via source.check_rewrite):
comments and preprocessor lines of a rewritten function survive, directives at
column 0 stay there."""

from __future__ import annotations

from pathlib import Path

from migrator.packs import load_pack
from migrator.verify import preserve
from migrator.verify.model import Violation
from migrator.verify.source import check_rewrite, load_pairs

PAIRS = load_pairs(load_pack().pairs_file)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "verify"


def preserved(original: str, patched: str) -> list[Violation]:
    found = check_rewrite("drivers/net/x.c", original.encode(), patched.encode(), PAIRS)
    return [v for v in found if v.check == "preserve"]


PZ_BRACED = """\
	if (net) {
		if (lock_netdev(dev, &nd_lock)) {
			err = dev_change_net_namespace(dev, net, "pz%d");
			unlock_netdev(nd_lock);
		}
	}
"""


def pz() -> str:
    return (FIXTURES / "pz.c").read_text()


def test_ifdef_deleted_between_if_and_else_is_caught() -> None:
    original = pz()
    call = '\tif (net)\n\t\terr = dev_change_net_namespace(dev, net, "pz%d");\n'
    assert call in original
    right = original.replace(call, PZ_BRACED.replace("\t}\n", "\t}\n", 1), 1)
    assert preserved(original, right) == []
    # the faulty brace insertion swallowed the `#ifdef` line that followed the branch
    wrong = right.replace("#ifdef CONFIG_PZ_OLD\n", "", 1)
    found = preserved(original, wrong)
    assert len(found) == 1
    assert found[0].function == "pz_move"
    assert found[0].message == ("pz_move(): preprocessor line `#ifdef CONFIG_PZ_OLD` (line 9) "
                                "lost by the rewrite")
    assert any("#ifdef CONFIG_PZ_OLD" in e and ":9:" in e for e in found[0].evidence)


def test_comment_deleted_is_caught() -> None:
    original = (FIXTURES / "brisk_main.c").read_text()
    comment = "\t/* no namespace given: the port stays where it is */\n"
    assert comment in original
    found = preserved(original, original.replace(comment, "", 1))
    assert [v.function for v in found] == ["brisk_port_park"]
    assert found[0].message.startswith("brisk_port_park(): comment `/* no namespace given")
    assert found[0].message.endswith("(line 62) lost by the rewrite")
    assert any("no namespace given" in e for e in found[0].evidence)
    # moving it into the new braces keeps it
    moved = original.replace(comment, "", 1).replace(
        "\telse\n\t\terr = -EINVAL;\n\n\treturn err;",
        "\telse\n\t\terr = -EINVAL;\n" + comment + "\n\treturn err;")
    assert preserved(original, moved) == []


def test_endif_indented_is_caught() -> None:
    original = pz()
    tail = "#endif\n\telse\n\t\terr = -EINVAL;\n\treturn err;\n}\n\nint pz_link"
    wrong = original.replace(tail, "\t" + tail)
    assert wrong != original
    found = preserved(original, wrong)
    assert [v.function for v in found] == ["pz_move"]
    assert "moved off column 0" in found[0].message


def test_directives_out_of_order_are_caught() -> None:
    original = ("int f(void)\n{\n#ifdef A\n\ta();\n#endif\n#ifdef B\n\tb();\n#endif\n"
                "\treturn 0;\n}\n")
    swapped = original.replace("#ifdef A\n\ta();\n#endif\n#ifdef B\n\tb();\n",
                               "#ifdef B\n\ta();\n#endif\n#ifdef A\n\tb();\n")
    assert [loss.problem for loss in preserve.check(original.encode(), swapped.encode())] == [
        "out of order"]


def test_added_comments_and_unchanged_functions_pass() -> None:
    original = pz()
    added = original.replace("\tint err;\n", "\tint err;\n\t/* new comment */\n", 1)
    assert preserved(original, added) == []
    assert check_rewrite("pz.c", original.encode(), original.encode(), PAIRS) == []


def test_strings_are_not_comments() -> None:
    text = b'int f(void)\n{\n\tputs("/* not a comment */");\n\treturn 0;\n}\n'
    assert preserve.items(text) == []


def test_lost_outside_functions_is_reported_for_the_file() -> None:
    original = ("static struct rtnl_link_ops foo_ops = {\n\t/* the kind */\n"
                "\t.kind = \"foo\",\n#ifdef CONFIG_FOO_X\n\t.newlink = foo_newlink,\n"
                "#endif\n};\n\nint f(void)\n{\n\treturn 0;\n}\n")
    added = original.replace("\t.kind = \"foo\",\n",
                             "\t.kind = \"foo\",\n\t.newlink_deps = &generic_newlink_deps,\n")
    assert preserved(original, added) == []
    lost = added.replace("\t/* the kind */\n", "").replace("#endif\n};", "\t#endif\n};")
    found = preserved(original, lost)
    assert [(v.function, v.line) for v in found] == [(None, 2), (None, 6)]
    assert "comment `/* the kind */`" in found[0].message
    assert "moved off column 0" in found[1].message


def test_kernel_doc_comment_that_gains_a_line_is_kept() -> None:
    original = ("/**\n * foo_create - create\n * @net: namespace\n *\n * Returns the tunnel.\n"
                " */\nstatic int foo_create(struct net *net)\n{\n\treturn 0;\n}\n")
    grown = original.replace(" * @net: namespace\n",
                             " * @net: namespace\n * @nd_lock: lock to attach the new device to\n")
    assert preserved(original, grown) == []
    shrunk = original.replace(" * @net: namespace\n", "")
    found = preserved(original, shrunk)
    assert len(found) == 1 and found[0].function is None and found[0].line == 1


RENAMED_BEFORE = """\
static void foo_exit_batch_rtnl(struct list_head *net_list)
{
\t/* the devices of every dying namespace */
\tfoo_destroy(net_list);
}
"""


def test_renamed_function_is_checked_as_the_same_function() -> None:
    """A migration may rename a callback: the renamed function is compared with the
    one it replaces, not reported as lost."""
    kept = RENAMED_BEFORE.replace("foo_exit_batch_rtnl", "foo_exit_rtnl")
    assert check_rewrite("x.c", RENAMED_BEFORE.encode(), kept.encode(), PAIRS) == []
    lost = kept.replace("\t/* the devices of every dying namespace */\n", "")
    found = check_rewrite("x.c", RENAMED_BEFORE.encode(), lost.encode(), PAIRS)
    assert [(v.check, v.function) for v in found] == [("preserve", "foo_exit_rtnl")]
