"""Target calls hidden in function-like macros defined in the tree: every use of such a
macro in a function the rule selects is a review site with the macro, its definition's
file:line and the use as evidence, and `migrate status` counts it as to do."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from migrator.cli import main
from migrator.parse.chunks import define_spans
from migrator.parse.tree import macro_defs

SAMPLE = Path(__file__).resolve().parent.parent / "corpus" / "sample"
# A made-up driver whose registrations and links hide in macros: a multi-line one in its
# header, nested ones and one calling a helper in the .c file, one named in a comment.
MWRAP = Path(__file__).resolve().parent.parent / "corpus" / "macros" / "drivers/net/mwrap"
MWRAP_H = (MWRAP / "mwrap.h").read_bytes()
MWRAP_C = (MWRAP / "mwrap.c").read_bytes()


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("macro") / "tree"
    shutil.copytree(SAMPLE, dst)
    shutil.copytree(MWRAP, dst / "drivers/net/mwrap")
    return dst


def _line(text: bytes, needle: bytes) -> int:
    return text[: text.index(needle)].count(b"\n") + 1


@pytest.fixture(scope="module")
def sites(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    manifest = tmp_path_factory.mktemp("m") / "m.json"
    assert main(["scan", "--tree", str(tree), "--no-cache", "--stage", "all",
                 "--json", str(manifest)]) == 0
    return [s for s in json.loads(manifest.read_text()) if "mwrap" in str(s["file"])]


def test_macro_definitions_multi_line_and_not_in_comments() -> None:
    found = {m.name: m for m in macro_defs(MWRAP_C)}
    assert "MWRAP_FAKE" in found and found["MWRAP_FAKE"].calls == ("mwrap_fake_setup",)
    assert found["MWRAP_REGISTER"].calls == ("register_netdevice",)
    assert found["MWRAP_REGISTER"].line == _line(MWRAP_C, b"#define MWRAP_REGISTER(") - 1
    assert found["MWRAP_REGISTER_QUIET"].calls == ("MWRAP_REGISTER",)
    header = {m.name: m for m in macro_defs(MWRAP_H)}
    assert header["MWRAP_ENSLAVE"].calls == ("netdev_master_upper_dev_link",)
    assert header["MWRAP_ENSLAVE"].params == ("upper", "lower", "extack")
    assert len(define_spans(b"/* #define A(x) f(x) */\n#define B(x) g(x)\n")) == 1


def test_register_through_nested_macros_is_review_with_evidence(
        sites: list[dict[str, object]]) -> None:
    use = [s for s in sites if s["function"] == "mwrap_newlink"]
    assert [(s["stage"], s["outcome"]) for s in use] == [(2, "review")]
    site = use[0]
    assert site["line"] == _line(MWRAP_C, b"return MWRAP_REGISTER_QUIET(dev);")
    evidence = "\n".join(map(str, site["evidence"]))
    assert f"macro use: drivers/net/mwrap/mwrap.c:{site['line']} MWRAP_REGISTER_QUIET(dev)" \
        in evidence
    define = _line(MWRAP_C, b"#define MWRAP_REGISTER(")
    assert f"macro: MWRAP_REGISTER (drivers/net/mwrap/mwrap.c:{define})" in evidence
    assert "MWRAP_REGISTER_QUIET (drivers/net/mwrap/mwrap.c:" in evidence
    assert "callback: rtnl_link_ops mwrap_link_ops" in evidence
    assert "macro" in str(site["reason"])


def test_macro_in_a_header_is_review(sites: list[dict[str, object]]) -> None:
    link = [s for s in sites if s["function"] == "mwrap_add_slave"]
    assert [(s["stage"], s["outcome"]) for s in link] == [(4, "review")]
    evidence = "\n".join(map(str, link[0]["evidence"]))
    define = _line(MWRAP_H, b"#define MWRAP_ENSLAVE(")
    assert f"macro: MWRAP_ENSLAVE (drivers/net/mwrap/mwrap.h:{define})" in evidence
    assert "MWRAP_ENSLAVE(dev, port, extack)" in evidence


def test_helper_called_in_a_macro_is_reached(sites: list[dict[str, object]]) -> None:
    """.changelink -> MWRAP_SETUP() -> mwrap_setup_dev(): the helper runs under the
    core's lock (stage 2 T1), it is not a stage 3 registration."""
    helper = [(s["stage"], s["template"], s["outcome"]) for s in sites
              if s["function"] == "mwrap_setup_dev"]
    assert helper == [(2, "T1", "rewrite")]


def test_stage1_macro_uses_follow_the_t0_selection(sites: list[dict[str, object]]) -> None:
    """A pernet .init using a register_netdev() macro is a review site; another function
    using such a macro is not a site under the default t0 = pernet (as a direct call would
    not be)."""
    stage1 = [s for s in sites if s["stage"] == 1]
    assert [(s["function"], s["outcome"]) for s in stage1] == [("mwrap_net_init", "review")]
    # the macro comes from the driver's header, whose other uses are searched tree-wide
    define = _line(MWRAP_H, b"#define mwrap_register_standalone(")
    assert (f"macro: mwrap_register_standalone (drivers/net/mwrap/mwrap.h:{define})"
            in stage1[0]["evidence"])


def test_no_site_for_a_macro_in_a_comment(sites: list[dict[str, object]]) -> None:
    assert not [s for s in sites if s["function"] == "mwrap_fake_setup"]
    assert all("MWRAP_FAKE" not in str(e) for s in sites for e in s["evidence"])


def _status(tree: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, tuple[int, int]]:
    """rule id -> (done, to do) of `migrate status`."""
    assert main(["status", "--tree", str(tree), "--no-cache"]) == 0
    rows = {}
    for line in capsys.readouterr().out.splitlines():
        m = re.match(r"\s*(\d)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\w-]+):", line)
        if m:
            rows[m.group(5)] = (int(m.group(2)), int(m.group(3)))
    return rows


def test_status_counts_macro_uses_as_to_do(tree: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(SAMPLE, plain)
    before, after = _status(plain, capsys), _status(tree, capsys)
    reg = "stage2-t1-register-netdevice"
    link = "stage4-t8-master-link"
    left = "stage1-t0-register-netdev"
    # the newlink macro use and the changelink helper reached through MWRAP_SETUP()
    assert after[reg] == (before[reg][0], before[reg][1] + 2)
    assert after[link] == (before[link][0], before[link][1] + 1)
    # mwrap_net_init(), found through the header's macro (its file names neither
    # register_netdev() nor a callback), is a pernet .init: T0 selects it
    assert after[left] == (before[left][0], before[left][1] + 1)


ALIAS_C = b"""#include <linux/netdevice.h>
#include <net/rtnetlink.h>

#define malias_register register_netdevice
#define MALIAS_KIND 1

static int malias_newlink(struct net *src_net, struct net_device *dev,
\t\t\t  struct nlattr *tb[], struct nlattr *data[],
\t\t\t  struct netlink_ext_ack *extack)
{
\tint err = malias_register(dev);

\treturn err;
}

static struct rtnl_link_ops malias_link_ops = {
\t.kind\t\t= "malias",
\t.newlink\t= malias_newlink,
};
"""


def test_an_object_like_alias_of_the_call_is_review(tmp_path: Path) -> None:
    """`#define name register_netdevice` and a use `name(dev)`: the call is hidden in the
    macro as much as in a function-like one; a review site with the macro as evidence,
    never no site (the census would count the stage done)."""
    assert [(m.name, m.params, m.calls) for m in macro_defs(ALIAS_C)] == [
        ("malias_register", (), ("register_netdevice",))]
    shapes = (b"#define a1 (f1)\n#define a2 \\\n\tf2\n#define a3 f3 /* alias */\n"
              b"#define a4 f4 // alias\n#define k1 1\n#define k2 f5 + 1\n#define k3\n"
              b"#define k4 k4\n#define k5 if\n")
    assert [(m.name, m.calls) for m in macro_defs(shapes)] == [
        ("a1", ("f1",)), ("a2", ("f2",)), ("a3", ("f3",)), ("a4", ("f4",))]
    tree = tmp_path / "tree"
    shutil.copytree(SAMPLE, tree)
    (tree / "drivers/net/malias").mkdir()
    (tree / "drivers/net/malias/malias.c").write_bytes(ALIAS_C)
    manifest = tmp_path / "m.json"
    assert main(["scan", "--tree", str(tree), "--no-cache", "--stage", "2",
                 "--json", str(manifest)]) == 0
    found = [s for s in json.loads(manifest.read_text()) if "malias" in str(s["file"])]
    assert [(s["function"], s["outcome"], s["line"]) for s in found] == [
        ("malias_newlink", "review", _line(ALIAS_C, b"malias_register(dev)"))]
    evidence = "\n".join(map(str, found[0]["evidence"]))
    define = _line(ALIAS_C, b"#define malias_register")
    assert f"macro: malias_register (drivers/net/malias/malias.c:{define})" in evidence
