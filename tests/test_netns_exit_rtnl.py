"""netns_rtnl stage 1: pernet .exit_batch_rtnl -> per-namespace .exit_rtnl.

Fixtures: tests/fixtures/netns_rtnl/tree is a small kernel-style tree (one driver per
shape or review reason, plus a shared tunnel core); tests/fixtures/netns_rtnl/after
holds every file the rewrite changes, as it must be afterwards.

  drivers/net/wisp.c    braced loop, loop locals moved (reverse xmas tree),
                        ASSERT_RTNL(), rtnl_dereference() of a net_generic() local
  drivers/net/brine.c   unbraced loop (with an unbraced inner iterator), tab-aligned
                        initializer
  drivers/net/sleet.c   <prefix>_exit_rtnl already taken -> <prefix>_exit_rtnl_net
  drivers/net/drift.c   single static helper: it becomes the callback, wrapper goes
  drivers/net/hail.c    local outside the loop stored at the top of each iteration,
                        comment kept, comment naming the old function reported
  drivers/net/frost.c   `_exit_batch_net` suffix; static helper only the callback calls
                        with its namespace converted too
  net/drizzle/*, include/net/drizzle.h   exported batch helper shared by two drivers:
                        per-namespace variant in its own site, callers call it
  mist rime smog gale haze squall flurry thaw   one review reason each
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from migrator.edit.edits import group_by_file, rewrite_checked
from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine
from migrator.model import Site
from migrator.packs import load_pack
from migrator.packs.netns_rtnl import csrc
from migrator.packs.netns_rtnl.exit_rtnl_file import new_name, plan_file
from migrator.testing import finder_module
from migrator.verify import source as verify_source

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "netns_rtnl"
TREE = FIXTURES / "tree"
AFTER = FIXTURES / "after"
# The rule's finder.py, loaded as the engine loads it: plan_forwards() is its own.
plan_forwards = finder_module("1-exit-rtnl", pack="netns_rtnl").plan_forwards


def plan_tree(root: Path) -> list[Site]:
    """The rule's planning on a plain directory, without the engine."""
    sites: list[Site] = []
    forwards = []
    for path in sorted(root.rglob("*.c")):
        rel = str(path.relative_to(root))
        plan = plan_file(rel, path.read_bytes())
        sites += plan.sites
        forwards += plan.forwards
    sites += plan_forwards(forwards, root, lambda f: (root / f).read_bytes())
    return sites


def rewritten(root: Path, sites: list[Site]) -> dict[str, bytes]:
    edits = [e for s in sites if s.outcome == "rewrite" for e in s.edits]
    return {f: rewrite_checked(f, (root / f).read_bytes(), es)
            for f, es in group_by_file(edits).items()}


def by_file(sites: list[Site]) -> dict[str, list[Site]]:
    out: dict[str, list[Site]] = {}
    for site in sites:
        out.setdefault(site.file, []).append(site)
    return out


@pytest.fixture(scope="module")
def sites() -> list[Site]:
    return plan_tree(TREE)


@pytest.fixture(scope="module")
def results(sites: list[Site]) -> dict[str, bytes]:
    return rewritten(TREE, sites)


def test_rewritten_files_are_the_after_files(results: dict[str, bytes]) -> None:
    want = {str(p.relative_to(AFTER)): p.read_bytes() for p in AFTER.rglob("*") if p.is_file()}
    assert sorted(results) == sorted(want)
    for path, text in want.items():
        assert results[path].decode() == text.decode(), path


def test_rewrites_keep_everything_else_byte_for_byte(sites: list[Site]) -> None:
    """Every edit is a byte range of the original file; text outside stays."""
    for site in sites:
        src = (TREE / site.file).read_bytes()
        for edit in site.edits:
            assert 0 <= edit.start <= edit.end <= len(src)
    edits = [e for s in sites if s.outcome == "rewrite" for e in s.edits]
    for path, es in group_by_file(edits).items():
        src = (TREE / path).read_bytes()
        after = (AFTER / path).read_bytes()
        es = sorted(es, key=lambda e: e.start)
        assert after.startswith(src[:es[0].start])
        assert after.endswith(src[es[-1].end:])


@pytest.mark.parametrize("path, old, new", [
    ("drivers/net/wisp.c", "wisp_exit_batch_rtnl", "wisp_exit_rtnl"),
    ("drivers/net/brine.c", "brine_net_exit_batch_rtnl", "brine_net_exit_rtnl"),
    ("drivers/net/sleet.c", "sleet_exit_batch_rtnl", "sleet_exit_rtnl_net"),
    ("drivers/net/drift.c", "drift_exit_batch_rtnl", "drift_exit_rtnl_net"),
    ("drivers/net/hail.c", "hail_net_exit_batch_rtnl", "hail_net_exit_rtnl"),
    ("drivers/net/frost.c", "frost_exit_batch_net", "frost_exit_rtnl"),
    ("net/drizzle/drizzle_gre.c", "dz_gre_exit_batch_rtnl", "dz_gre_exit_rtnl"),
    ("net/drizzle/drizzle_tap.c", "dz_tap_exit_batch_rtnl", "dz_tap_exit_rtnl"),
])
def test_shapes_rewritten(sites: list[Site], results: dict[str, bytes], path: str, old: str,
                          new: str) -> None:
    (site,) = by_file(sites)[path]
    assert (site.outcome, site.function, site.template) == ("rewrite", old, "exit_rtnl")
    assert f"per-namespace callback {new}()" in site.reason
    text = results[path].decode()
    assert f".exit_rtnl = {new}," in text.replace("\t\t= ", " = ")
    code = csrc.code_only(results[path]).decode()  # comments may still name the old one
    assert "exit_batch_rtnl" not in code
    assert "list_for_each_entry(net, net_list, exit_list)" not in text
    assert "struct net *net;\n" not in text


def test_braced_loop_locals_and_dereferences(results: dict[str, bytes]) -> None:
    text = results["drivers/net/wisp.c"].decode()
    # loop locals joined the function's, longest first; the cursor local is gone
    assert ("{\n\tstruct wisp_net *wn = net_generic(net, wisp_net_id);\n"
            "\tstruct wisp_tunnel __rcu **tp;\n\tstruct wisp_tunnel *t;\n\tint i;\n\n"
            "\tASSERT_RTNL_NET(net);\n\tfor (i = 0;") in text
    # rooted at a net_generic(net, ...) local: converted; *tp (a cursor): left alone
    assert "t = rtnl_net_dereference(net, wn->fallback); /* not hashed */" in text
    assert "(t = rtnl_dereference(*tp)) != NULL;" in text


def test_unbraced_loop_and_tab_alignment(results: dict[str, bytes]) -> None:
    text = results["drivers/net/brine.c"].decode()
    assert ("\tASSERT_RTNL_NET(net);\n\tfor_each_netdev(net, dev)\n"
            "\t\tif (netif_is_brine_master(dev))\n\t\t\tbrine_dev_delete(dev, dev_to_kill);\n"
            "}\n") in text
    # `=` stays in the column the tabs put it in
    assert "\t.exit_rtnl\t\t= brine_net_exit_rtnl,\n\t.id\t\t\t= NULL,\n" in text


def test_collapse_makes_the_helper_the_callback(sites: list[Site],
                                                results: dict[str, bytes]) -> None:
    text = results["drivers/net/drift.c"].decode()
    assert "drift_destroy_tunnels" not in text
    assert ("static void __net_exit drift_exit_rtnl_net(struct net *net,\n"
            "\t\t\t\t\t   struct list_head *head)\n") in text
    assert "\tint h;\n\n\tASSERT_RTNL_NET(net);\n\tfor_each_netdev_safe" in text
    assert "t = rtnl_net_dereference(net, dn->tunnels[h]);" in text
    assert "t = rtnl_dereference(t->next);" in text  # not rooted at the namespace
    # the verifier accepts the rewrite (the wrapper is gone whole, nothing names it)
    src = (TREE / "drivers/net/drift.c").read_bytes()
    assert verify_source.check_rewrite("drivers/net/drift.c", src, results[
        "drivers/net/drift.c"], verify_source.load_pairs(load_pack("netns_rtnl").pairs_file)) == []


def test_static_helper_called_with_the_namespace(sites: list[Site],
                                                 results: dict[str, bytes]) -> None:
    text = results["drivers/net/frost.c"].decode()
    assert ("\tASSERT_RTNL_NET(net);\n\trt = rtnl_net_dereference(net, fn->routes);\n"
            in text)
    (site,) = by_file(sites)["drivers/net/frost.c"]
    assert any("frost_flush_routes() is only called by" in e for e in site.evidence)


def test_outer_local_kept_and_stale_comment_reported(sites: list[Site]) -> None:
    (site,) = by_file(sites)["drivers/net/hail.c"]
    assert any("a comment still names hail_net_exit_batch_rtnl()" in e
               for e in site.evidence)


def test_shared_helper_variant_is_its_own_site(sites: list[Site]) -> None:
    (site,) = by_file(sites)["net/drizzle/drizzle_core.c"]
    assert site.outcome == "rewrite" and site.function == "drizzle_delete_nets"
    assert sorted({e.file for e in site.edits}) == ["include/net/drizzle.h",
                                                    "net/drizzle/drizzle_core.c"]
    assert "add drizzle_delete_net()" in site.reason
    header = (AFTER / "include/net/drizzle.h").read_text()
    assert "void drizzle_delete_net(struct net *net, unsigned int id,\n" in header
    core = (AFTER / "net/drizzle/drizzle_core.c").read_text()
    assert "EXPORT_SYMBOL_GPL(drizzle_delete_net);\n" in core


REVIEWS = {
    "drivers/net/mist.c": "does more than loop over the batch: it runs code outside the loop",
    "drivers/net/rime.c": "uses the batch (net_list or exit_list)",
    "drivers/net/smog.c": "uses the loop cursor net after the loop",
    "drivers/net/gale.c": "already sets .exit_rtnl",
    "drivers/net/haze.c": "is shared with several ops structs (haze_net_ops, haze_tap_net_ops)",
    "drivers/net/squall.c": "walks &squall_dying, not its first parameter net_list",
    "drivers/net/flurry.c": "leaves the loop (break;)",
    "drivers/net/thaw.c": "keeps seq across loop iterations",
}


@pytest.mark.parametrize("path", sorted(REVIEWS))
def test_review_reasons(sites: list[Site], path: str) -> None:
    found = by_file(sites)[path]
    assert found and all(s.outcome == "review" and not s.edits for s in found)
    for site in found:
        assert REVIEWS[path] in site.reason
        assert any(e.startswith(f"{path}:") for e in site.evidence)
    assert path not in rewritten(TREE, found)


def test_shared_helper_with_another_user_is_review(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    (tree / "net/drizzle/drizzle_debug.c").write_text(
        "// SPDX-License-Identifier: GPL-2.0\n#include <net/drizzle.h>\n\n"
        "static LIST_HEAD(drizzle_stale);\n\n"
        "void drizzle_debug_flush(struct list_head *kill)\n{\n"
        "\tdrizzle_delete_nets(&drizzle_stale, 0, NULL, kill);\n}\n")
    found = by_file(plan_tree(tree))
    assert "net/drizzle/drizzle_core.c" not in found
    for path in ("net/drizzle/drizzle_gre.c", "net/drizzle/drizzle_tap.c"):
        (site,) = found[path]
        assert site.outcome == "review"
        assert "passes list_net to drizzle_delete_nets()" in site.reason
        assert "other code uses too" in site.reason
        assert any("drizzle_debug.c:8" in e and "drizzle_debug_flush()" in e
                   for e in site.evidence)


def test_after_tree_has_nothing_left_to_rewrite(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    shutil.copytree(AFTER, tree, dirs_exist_ok=True)
    assert all(s.outcome == "review" for s in plan_tree(tree))


def test_engine_end_to_end(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    options = PlanOptions(pack="netns_rtnl", use_cache=False, jobs=1)
    plan = open_engine(tree, options).plan(1)
    assert {s.rule for s in plan.sites} == {"1-exit-rtnl"}
    outcomes = {(s.file, s.outcome) for s in plan.sites if s.outcome != "already_done"}
    assert outcomes == {(s.file, s.outcome) for s in plan_tree(TREE)}
    # an initializer setting .exit_rtnl (and no .exit_batch_rtnl) is converted already
    for site in (s for s in plan.sites if s.outcome == "already_done"):
        text = (tree / site.file).read_bytes()[site.start:site.end]
        assert b".exit_rtnl" in text and b".exit_batch_rtnl" not in text, site
    assert any(s.outcome == "already_done" for s in plan.sites)
    got = rewritten(tree, plan.sites)
    want = {str(p.relative_to(AFTER)): p.read_bytes() for p in AFTER.rglob("*") if p.is_file()}
    assert got == want
    pairs = verify_source.load_pairs(load_pack("netns_rtnl").pairs_file)
    for path, text in got.items():
        assert verify_source.check_rewrite(path, (tree / path).read_bytes(), text, pairs) == []


def test_render_head_wraps_under_the_parenthesis() -> None:
    head = csrc.render_head("static void __net_exit ", "ipgre_exit_rtnl",
                            ["struct net *net", "struct list_head *dev_to_kill"])
    assert head == ("ipgre_exit_rtnl(struct net *net,\n"
                    "\t\t\t\t       struct list_head *dev_to_kill)")
    assert csrc.render_head("\t", "f", ["a", "b"], close=");") == "f(a, b);"


@pytest.mark.parametrize("old, new", [
    ("vxlan_exit_batch_rtnl", "vxlan_exit_rtnl"),
    ("frost_exit_batch_net", "frost_exit_rtnl"),
    ("ipgre_exit_batch", "ipgre_exit_rtnl"),
])
def test_new_name_prefix(old: str, new: str) -> None:
    assert new_name(old, lambda _n: False) == new
    assert new_name(old, lambda n: n == new) == new + "_net"
    assert new_name(old, lambda _n: True) is None


SEVENTEEN = {
    "drivers/net/bareudp.c", "drivers/net/bonding/bond_main.c", "drivers/net/geneve.c",
    "drivers/net/gtp.c", "drivers/net/vxlan/vxlan_core.c", "net/bridge/br.c",
    "net/ipv4/ip_gre.c", "net/ipv4/ip_vti.c", "net/ipv4/ipip.c", "net/ipv4/nexthop.c",
    "net/ipv6/ip6_gre.c", "net/ipv6/ip6_tunnel.c", "net/ipv6/ip6_vti.c", "net/ipv6/sit.c",
    "net/xfrm/xfrm_interface_core.c",
}


@pytest.mark.kernel
def test_linux_612_callbacks(kernel_612: Path) -> None:
    """All 17 .exit_batch_rtnl callbacks of 6.12 are rewritten (ip_gre has three), plus
    the ip_tunnel_delete_net() variant; the verifier accepts every file."""
    listed = subprocess.run(["git", "-C", str(kernel_612), "grep", "-l", "-w",
                             "exit_batch_rtnl", "--", "*.c"], capture_output=True,
                            text=True, check=True).stdout.split()
    sites: list[Site] = []
    forwards = []
    for rel in listed:
        plan = plan_file(rel, (kernel_612 / rel).read_bytes())
        sites += plan.sites
        forwards += plan.forwards
    sites += plan_forwards(forwards, kernel_612, lambda f: (kernel_612 / f).read_bytes())
    callbacks = [s for s in sites if s.file != "net/ipv4/ip_tunnel.c"]
    assert len(callbacks) == 17 and {s.file for s in callbacks} == SEVENTEEN
    assert all(s.outcome == "rewrite" for s in sites), [s.reason for s in sites]
    pairs = verify_source.load_pairs(load_pack("netns_rtnl").pairs_file)
    for path, text in rewritten(kernel_612, sites).items():
        before = (kernel_612 / path).read_bytes()
        assert verify_source.check_rewrite(path, before, text, pairs) == [], path
