"""Grouping, ordering, prefixes, wrapping, demotion and checkpatch comparison."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from migrator import cli
from migrator.model import Edit, Outcome, Site, StagePlan
from migrator.output import apply, checkpatch, grouping, messages, series
from migrator.packs import load_pack

sys.path.insert(0, str(Path(__file__).parent))
from test_stage_command import fake_engine, make_repo  # noqa: F401

CHECKPATCH = sorted(Path("/tmp/ckp").glob("*/scripts/checkpatch.pl"))


def write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def site(file: str, template: str = "T1", function: str = "f", text: str = "x",
         evidence: tuple[str, ...] = ()) -> Site:
    return Site(stage=2, template=template, outcome="rewrite", file=file, function=function,
                line=1, start=0, end=1, rule=f"r-{template}", reason="because",
                evidence=evidence, edits=[Edit(file, 0, 1, text, f"r-{template}")])


def test_group_key_from_makefiles(tmp_path: Path) -> None:
    write(tmp_path, {
        "drivers/net/Makefile": "obj-$(CONFIG_VETH) += veth.o\nobj-$(CONFIG_VXLAN) += vxlan/\n",
        "drivers/net/veth.c": "", "drivers/net/vxlan/vxlan_private.h": "",
        "drivers/net/vxlan/Makefile": (
            "obj-$(CONFIG_VXLAN) += vxlan.o\n"
            "vxlan-objs := vxlan_core.o \\\n\tvxlan_mdb.o # comment\n"),
        "drivers/net/vxlan/vxlan_core.c": "", "drivers/net/vxlan/vxlan_mdb.c": "",
        "net/ipv4/Makefile": "obj-y := route.o\nobj-$(CONFIG_NET_FOU) += fou.o\n"
                             "fou-y := fou_core.o fou_nl.o\n",
        "net/ipv4/ip_gre.c": "", "net/ipv4/fou_core.c": "", "net/ipv4/fou_nl.c": "",
        "drivers/net/foo/foo.c": "", "drivers/net/foo/foo2.c": "",
    })
    key = lambda path: grouping.group_key(tmp_path, path)  # noqa: E731
    assert key("drivers/net/veth.c") == "drivers/net/veth.c"
    assert key("drivers/net/vxlan/vxlan_core.c") == key("drivers/net/vxlan/vxlan_mdb.c")
    assert key("drivers/net/vxlan/vxlan_private.h") == "drivers/net/vxlan/vxlan.ko"
    assert key("net/ipv4/fou_nl.c") == key("net/ipv4/fou_core.c") == "net/ipv4/fou.ko"
    # Not named by any Makefile: a leaf dir is one group, a catch-all is per file.
    assert key("net/ipv4/ip_gre.c") == "net/ipv4/ip_gre.c"
    assert key("drivers/net/foo/foo2.c") == "drivers/net/foo/"
    assert messages.path_prefix("drivers/net/vxlan/vxlan.ko") == "vxlan:"
    assert messages.path_prefix("net/bridge/bridge.ko") == "net: bridge:"
    assert messages.path_prefix("drivers/net/veth.c") == "veth:"
    assert messages.path_prefix("net/core/dev.c") == "net:"
    assert messages.path_prefix("net/ipv4/ip_gre.c") == "ip_gre:"


def test_order_core_first_and_t6_merged(tmp_path: Path) -> None:
    write(tmp_path, {"drivers/net/a.c": "", "drivers/net/b.c": "", "drivers/net/x/y.c": "",
                     "include/net/ip_tunnels.h": "", "net/core/dev.c": ""})
    sites = [
        site("drivers/net/x/y.c"),
        site("drivers/net/b.c", "T6", "b_ioctl", "tun_locate(net, parms, nd_lock)("),
        site("drivers/net/a.c", "T6", "tun_locate"),
        site("include/net/ip_tunnels.h", "T6", "tun_locate"),
        site("net/core/dev.c", "core"),
    ]
    groups = grouping.group_sites(tmp_path, sites)
    assert [g.files for g in groups] == [
        ["drivers/net/a.c", "drivers/net/b.c", "include/net/ip_tunnels.h"],
        ["net/core/dev.c"],
        ["drivers/net/x/y.c"],
    ]


def test_history_prefix_and_wrap() -> None:
    assert messages.history_prefix(["vxlan: a", "net: vxlan: b", "vxlan: c: d",
                                  "Revert \"x: y\"", "vxlan: e"]) == "vxlan:"
    assert messages.history_prefix(["no prefix here"]) is None
    wrapped = messages.wrap("returns " + "word " * 12 + "-ENOMEM and +1 " * 6)
    assert all(len(line) <= 75 for line in wrapped.splitlines())
    assert not any(line.startswith(("-", "+")) for line in wrapped.splitlines())


def test_refused_rewrite_becomes_review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in parser whose error count is the brace imbalance: the test controls
    # which rewrite "adds a parse error".
    monkeypatch.setattr("migrator.edit.edits.count_errors",
                        lambda text: text.count(b"{") - text.count(b"}"))
    write(tmp_path, {"a.c": "abcdef\n", "b.c": "xyz\n"})
    good = Site(2, "T1", "rewrite", "a.c", "f", 1, 0, 1, "r1", "ok",
                edits=[Edit("a.c", 0, 1, "A", "r1")])
    clash = Site(2, "T2", "rewrite", "a.c", "g", 1, 0, 2, "r2", "ok",
                 edits=[Edit("a.c", 0, 2, "Q", "r2"), Edit("b.c", 0, 1, "X", "r2")])
    broken = Site(2, "T3", "rewrite", "b.c", "h", 1, 1, 2, "r3", "ok",
                  edits=[Edit("b.c", 1, 2, "{", "r3")])
    plan = StagePlan(2, str(tmp_path), [good, clash, broken])
    messages: list[str] = []
    contents = apply.apply_plan(tmp_path, plan, messages.append)
    assert contents == {"a.c": b"Abcdef\n"}  # clash dropped in b.c too: never half-applied
    assert plan.sites[0] is good  # sites are frozen: the refused ones are replaced
    good, clash, broken = plan.sites
    assert (good.outcome, clash.outcome, broken.outcome) == ("rewrite", "review", "review")
    assert clash.reason.startswith("rewrite not applied: a.c: rules r1 and r2")
    assert "parse errors" in broken.reason
    assert any("b.c:1 h()" in m for m in messages)


def test_checkpatch_new_issue_comparison() -> None:
    forward = [checkpatch.Issue("WARNING", "LONG_LINE", "m", "a.c", 3),
               checkpatch.Issue("WARNING", "LONG_LINE", "m", "a.c", 9),
               checkpatch.Issue("ERROR", "BAD_SIGN_OFF", "m", "", 0)]
    original = [checkpatch.Issue("WARNING", "LONG_LINE", "m", "a.c", 4)]
    new = checkpatch.new_issues(forward, original)
    assert [(i.line, i.type) for i in new] == [(9, "LONG_LINE"), (0, "BAD_SIGN_OFF")]


@pytest.mark.skipif(not CHECKPATCH or not shutil.which("perl"), reason="no checkpatch.pl")
def test_stage_runs_trees_checkpatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script_dir = CHECKPATCH[0].parent
    long_call = "\treturn register_netdevice(" + "a" * 64 + ");\n"
    files = {
        "drivers/net/ok.c": "// SPDX-License-Identifier: GPL-2.0\nint f(void)\n{\n"
                            "\treturn register_netdevice(dev);\n}\n",
        "drivers/net/long.c": "// SPDX-License-Identifier: GPL-2.0\nint g(void)\n{\n"
                              + long_call + "}\n",
    }
    repo = make_repo(tmp_path / "linux", files)
    (repo / "scripts").mkdir()
    for name in ("checkpatch.pl", "spelling.txt", "const_structs.checkpatch"):
        shutil.copy(script_dir / name, repo / "scripts" / name)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "scripts: add checkpatch"], cwd=repo, check=True)
    # long.c: the rename pushes the line past 100 columns -> new LONG_LINE, refused.
    out = tmp_path / "out"
    assert cli.main(["stage", "2", "--tree", str(repo), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "LONG_LINE" in err and "drivers/net/long.c" in err and "ok.c" not in err
    assert not out.exists()
    (repo / "drivers/net/long.c").unlink()
    subprocess.run(["git", "commit", "-qam", "long: remove"], cwd=repo, check=True)
    assert cli.main(["stage", "2", "--tree", str(repo), "--out", str(out)]) == 0


def test_same_subject_gets_the_place(tmp_path: Path) -> None:
    """net/core splits per file: two commits with one template would share a subject."""
    write(tmp_path, {"net/core/Makefile": "obj-y += dev.o rtnetlink.o\n",
                     "net/core/dev.c": "", "net/core/rtnetlink.c": ""})
    groups = grouping.group_sites(tmp_path, [
        site("net/core/dev.c", "T9", "default_device_exit_net"),
        site("net/core/rtnetlink.c", "T9", "do_setlink"),
        site("net/core/rtnetlink.c", "T9", "rtnl_newlink_create")])
    assert len(groups) == 2
    subject = "net: Hold nd_lock around moves"
    assert series.distinguishing_suffix(groups[0], subject) == " in default_device_exit_net()"
    assert series.distinguishing_suffix(groups[1], subject) == (
        " in do_setlink() and rtnl_newlink_create()")
    # Longer than 75 columns with the function names: the file names the commit.
    subject = "net: Hold nd_lock around dev_change_net_namespace()"
    assert series.distinguishing_suffix(groups[0], subject) == " in dev.c"
    assert series.distinguishing_suffix(groups[1], subject) == " in rtnetlink.c"


def test_prefix_history_stops_at_the_base(tmp_path: Path) -> None:
    """In `stage 1-6`, earlier stages' commits are in the scratch history; their
    prefixes are not the tree's conventions (6.12: `ieee802154_6lowpan:` leaked from a
    stage 2 commit in net/ieee802154/6lowpan/ onto net/ieee802154/core.c)."""
    from git import Repo

    from migrator.model.gitops import Identity, log_subjects

    write(tmp_path, {"net/wpan/Makefile": "obj-y += wpan.o\nwpan-y := core.o\n",
                     "net/wpan/core.c": "x\n", "net/wpan/sub/a.c": "y\n"})
    repo = Repo.init(tmp_path)
    who = Identity("T", "t@example.org")
    for path in ("net/wpan/Makefile", "net/wpan/core.c", "net/wpan/sub/a.c"):
        repo.git.add(path)
    repo.git.commit("-q", "-m", "base", env=who.env())
    base = repo.head.commit.hexsha
    (tmp_path / "net/wpan/sub/a.c").write_text("z\n")
    repo.git.commit("-q", "-am", "wpan_sub: Earlier stage of this run", env=who.env())
    assert messages.history_prefix(log_subjects(repo, ["net/wpan/"])) == "wpan_sub:"
    plan = StagePlan(stage=5, tree=str(tmp_path),
                     sites=[site("net/wpan/core.c", "T9", text="w")])
    built = series.build_stage(repo, 5, plan, who, None, history=base)
    assert [g.subject for g in built.groups] == [
        "net: wpan: Hold nd_lock around dev_change_net_namespace()"]


def test_prefix_from_the_files_history_before_the_directory(tmp_path: Path) -> None:
    """An out-of-tree layout: most commits under src/ touch src/compat/ and say
    `compat:`, every commit touching src/device.c says `device:`; the patch to
    src/device.c (one module with src/compat/) is a `device:` patch, and src/other.c
    (no history of its own) takes the directory's prefix."""
    from git import Repo

    from migrator.model.gitops import Identity

    write(tmp_path, {"src/Makefile": "obj-m += mydrv.o other.o\n"
                     "mydrv-y := device.o compat/a.o compat/b.o\n",
                     "src/device.c": "d0\n", "src/other.c": "o0\n",
                     "src/compat/a.c": "a0\n", "src/compat/b.c": "b0\n"})
    repo = Repo.init(tmp_path)
    who = Identity("T", "t@example.org")
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "Initial import", env=who.env())
    history = [("src/compat/a.c", "compat: Fix build on 5.x"),
               ("src/compat/b.c", "compat: Add netif_napi_add_weight()"),
               ("src/device.c", "device: Drop the stats lock"),
               ("src/compat/a.c", "compat: Backport dev_addr_set()"),
               ("src/compat/b.c", "compat: Fix the 6.1 build"),
               ("src/device.c", "device: Report carrier changes")]
    for number, (path, subject) in enumerate(history):
        (tmp_path / path).write_text(f"{number}\n")
        repo.git.commit("-q", "-am", subject, env=who.env())
    plan = StagePlan(stage=5, tree=str(tmp_path),
                     sites=[site("src/device.c", "T9", function="dev_move", text="D"),
                            site("src/other.c", "T9", function="other_move", text="O")])
    built = series.build_stage(repo, 5, plan, who, None)
    prefixes = {group.files[0]: group.subject.split(" ", 1)[0] for group in built.groups}
    assert prefixes == {"src/device.c": "device:", "src/other.c": "compat:"}


def test_subject_prefix_of_the_tree(tmp_path: Path) -> None:
    from migrator.output.maintainers import Maintainers, parse

    maintainers = Maintainers(parse(
        "NETWORKING DRIVERS\nM:\tA <a@example.org>\nF:\tdrivers/net/\n"
        "X:\tdrivers/net/wireless/\n\n"
        "NETWORKING [GENERAL]\nM:\tB <b@example.org>\nF:\tnet/\nX:\tnet/wireless/\n\n"
        "WIRELESS\nM:\tC <c@example.org>\nF:\tnet/wireless/\nF:\tdrivers/net/wireless/\n"))
    netdev = ["drivers/net/veth.c", "net/core/dev.c"]
    assert series.tree_subject_prefix(series.PATCH_AUTO, maintainers, netdev) == \
        "PATCH net-next"
    assert series.tree_subject_prefix(series.RFC_AUTO, maintainers, netdev) == "RFC net-next"
    # most files netdev's: the series goes to net-next (the others with acks)
    mostly = [*netdev, "net/wireless/core.c"]
    assert series.tree_subject_prefix(series.PATCH_AUTO, maintainers, mostly) == \
        "PATCH net-next"
    mixed = [netdev[0], "net/wireless/core.c", "drivers/net/wireless/virt_wifi.c"]
    assert series.tree_subject_prefix(series.PATCH_AUTO, maintainers, mixed) == "PATCH"
    assert series.tree_subject_prefix(series.RFC_AUTO, maintainers, mixed) == "RFC"
    assert series.tree_subject_prefix("PATCH v2", maintainers, netdev) == "PATCH v2"
    assert series.tree_subject_prefix(series.PATCH_AUTO, None, netdev) == "PATCH"
    assert series.numbered_subject("PATCH net-next", 0, 15, "s") == \
        "[PATCH net-next 00/15] s"


def test_plain_words_for_template_ids() -> None:
    assert messages.plain("T4: T4 needs a human: result of f() is not stored") == \
        "result of f() is not stored"
    assert messages.plain("nd_lock API declarations (SPEC §2)") == "nd_lock API declarations"
    assert messages.plain("T8 not applied: no exit") == "not rewritten: no exit"
    text = messages.plain("vtun_locate() reaches register_netdevice() (renamed by T1); T6 "
                        "family: a, b; T7 caller not bracketed")
    assert not re.search(r"\bT\d\b", text), text


def test_log_says_what_this_driver_does(tmp_path: Path) -> None:
    """Subjects and logs name the driver's own callbacks and functions; the evidence
    stays out of the log."""
    t1 = site("drivers/net/bond.c", "T1", function="bond_newlink",
              text="__register_netdevice(", evidence=(
                  "call chain: bond_newlink -> register_netdevice",
                  "callback: rtnl_link_ops bond_link_ops (drivers/net/bond.c:9) "
                  ".newlink = bond_newlink"))
    deps = site("drivers/net/bond.c", "link_deps", function="bond_link_ops", text="d")
    deps = replace(deps, reason="bond_link_ops: link_deps (newlink: optional.data "
                   "IFLA_BOND_PRIMARY; changelink: optional.data IFLA_BOND_PRIMARY)")
    only = grouping.PatchGroup(key="drivers/net/bond.c", sites=[t1], files=["drivers/net/bond.c"])
    subject, message = messages.commit_message(only, 2, "bonding:", "Signed-off-by: A <a@b>")
    assert subject == "bonding: Use __register_netdevice() in .newlink"
    assert "bond_newlink()" in message and "changelink" not in message
    both = grouping.PatchGroup(key="drivers/net/bond.c", sites=[t1, deps],
                             files=["drivers/net/bond.c"])
    subject, message = messages.commit_message(both, 2, "bonding:", "Signed-off-by: A <a@b>")
    assert subject == "bonding: Declare the devices .newlink and .changelink look up"
    flat = " ".join(message.split())
    assert ("The .newlink and .changelink callbacks look up another device by the ifindex "
            "in IFLA_BOND_PRIMARY.") in flat
    assert "drivers/net/bond.c:9" not in message and "call chain" not in message
    assert "drivers/net/bond.c:9" in messages.notes(both)


def test_review_list_groups_a_drivers_sites_with_one_reason(tmp_path: Path) -> None:
    sites = [site("net/ipv6/sit.c", "T6", function=name) for name in ("get", "add")]
    sites.append(site("net/ipv6/sit.c", "T4", function="fb"))
    sites = [replace(item, outcome=Outcome.REVIEW) for item in sites]
    sites[2] = replace(sites[2], reason="T4 needs a human: no NULL check")
    [(driver, items)] = series.review_by_driver(tmp_path, sites)
    assert driver == "ipv6 (net/ipv6/)"  # no Makefile: the leaf directory is one group
    assert [item.where for item in items] == ["get() at net/ipv6/sit.c:1, add() at "
                                              "net/ipv6/sit.c:1", "fb() at net/ipv6/sit.c:1"]
    assert items[1].reason == "no NULL check"


def test_wrap_never_starts_a_line_with_a_diff_marker() -> None:
    """`->exit_rtnl()` or `-ENODEV` at a line start would be indented and overflow 75
    columns (checkpatch COMMIT_LOG_LONG_LINE): such a word stays with the one before."""
    text = ("The netns core calls ->exit_rtnl() once for each dying network namespace, "
            "with RTNL and that namespace's own RTNL held, before it calls "
            "->exit_batch_rtnl() for the whole batch; a failed lock gives -ENODEV.")
    lines = messages.wrap(text).splitlines()
    assert all(len(line) <= 75 and not line.lstrip().startswith(("-", "+")) for line in lines)
    assert " ".join(lines) == text


def test_own_texts_name_rules_and_have_their_wording() -> None:
    """Every key of the pack's prose.own_texts names one of its rules (id, or
    id:template of that rule) and texts.j2 words it: a rule renamed or split keeps
    its commit subject, never the default one."""
    pack = load_pack("nd_lock")
    rules = {rule.id: rule for rule in pack.rules()}
    module = messages.texts(pack)
    for key in pack.prose.own_texts:
        rule_id, _, template = key.partition(":")
        assert rule_id in rules, key
        assert not template or template in (rules[rule_id].template, "core"), key
        assert module.summary(key, {}).strip() != pack.prose.default_summary, key
