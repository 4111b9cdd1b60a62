"""Call resolution and reachability over the index of a small kernel-style tree."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from kernel_mini import REQUEST, make_tree

from migrator.callgraph import CallGraph
from migrator.index.build import build_index

NEWLINK = ("rtnl_link_ops.newlink", "rtnl_link_ops.changelink")


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> CallGraph:
    tree = make_tree(tmp_path_factory.mktemp("cg") / "tree")
    return CallGraph(build_index(tree, REQUEST, jobs=1))


def test_roots(graph: CallGraph) -> None:
    roots = {(r.function.file, r.function.name, r.member) for r in graph.roots(NEWLINK)}
    assert roots == {("drivers/net/foo.c", "foo_newlink", "newlink"),
                     ("drivers/net/foo.c", "foo_changelink", "changelink"),
                     ("drivers/net/bar.c", "bar_newlink", "newlink"),
                     ("drivers/net/wcore.c", "wcore_newlink", "newlink")}
    root = next(r for r in graph.roots(NEWLINK) if r.function.name == "foo_newlink")
    assert "foo_link_ops" in root.describe() and ".newlink = foo_newlink" in root.describe()


def test_reachability_chains(graph: CallGraph) -> None:
    reach = graph.reach(graph.roots(NEWLINK))
    assert reach[("drivers/net/foo.c", "foo_setup")] == ["foo_newlink", "foo_setup"]
    assert reach[("drivers/net/lib.c", "deep_helper")] == [
        "foo_changelink", "shared_helper", "deep_helper"]
    # member call through `struct wops *ops`: only initializers of struct wops count
    assert reach[("drivers/net/wdrv.c", "wdrv_newlink")] == ["wcore_newlink", "wdrv_newlink"]
    assert ("drivers/net/other.c", "other_newlink") not in reach
    # RTNL-taking and unrelated functions are not reachable
    assert ("drivers/net/ioctl.c", "ioctl_create") not in reach


def test_static_vs_global_resolution(graph: CallGraph) -> None:
    in_bar = graph.resolve_name("drivers/net/bar.c", "shared_helper")
    assert [(f.file, f.is_static) for f in in_bar] == [("drivers/net/bar.c", True)]
    elsewhere = graph.resolve_name("drivers/net/foo.c", "shared_helper")
    assert [(f.file, f.is_static) for f in elsewhere] == [("drivers/net/lib.c", False)]
    reach = graph.reach(graph.roots(["rtnl_link_ops.newlink"]))
    assert ("drivers/net/bar.c", "shared_helper") in reach
    assert ("drivers/net/lib.c", "shared_helper") not in reach


def test_callers(graph: CallGraph) -> None:
    (deep,) = graph.index.functions_by_name["deep_helper"]
    assert [c.caller for c in graph.callers(deep)] == ["shared_helper"]
    (create,) = graph.index.functions_by_name["ioctl_create"]
    assert [(c.file, c.caller) for c in graph.callers(create)] == [
        ("drivers/net/ioctl.c", "foo_ioctl")]
