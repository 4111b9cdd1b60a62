"""Stage 2 rewrites, each shown as before -> after on a tiny tree (reads as documentation)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrator.edit.edits import apply_edits, group_by_file
from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine
from migrator.model import StagePlan

SAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "sample"
FIXTURES = Path(__file__).resolve().parents[1] / "corpus" / "stage2"


def plan(tree: Path) -> StagePlan:
    return open_engine(tree, PlanOptions(use_cache=False, jobs=1)).plan(2)


def rewritten(tree: Path, the_plan: StagePlan) -> dict[str, bytes]:
    return {f: apply_edits((tree / f).read_bytes(), edits)
            for f, edits in group_by_file(the_plan.edits).items()}


def assert_rewrite(tmp_path: Path, files: dict[str, str], path: str, after: str) -> StagePlan:
    """Write `files` into a tree, plan stage 2, and check `path` becomes `after`."""
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    the_plan = plan(tmp_path)
    out = rewritten(tmp_path, the_plan)
    assert out.get(path, (tmp_path / path).read_bytes()).decode() == after
    return the_plan


@pytest.fixture(scope="module")
def sample_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, StagePlan]:
    tree = tmp_path_factory.mktemp("sample") / "tree"
    shutil.copytree(SAMPLE, tree)
    return tree, plan(tree)


@pytest.mark.parametrize("fixture, path", [
    ("t2-peer", "drivers/net/vpair.c"),
    ("t3-parent", "net/qvlan/qvlan.c"),
    ("t6-vtun", "drivers/net/vtun/vtun_main.c"),
])
def test_sample_fixture(sample_plan: tuple[Path, StagePlan], fixture: str, path: str) -> None:
    tree, the_plan = sample_plan
    after = (FIXTURES / fixture / "after.c").read_bytes()
    assert rewritten(tree, the_plan)[path] == after


def test_t6_header_prototype(sample_plan: tuple[Path, StagePlan]) -> None:
    tree, the_plan = sample_plan
    after = (FIXTURES / "t6-vtun" / "after.h").read_bytes()
    assert rewritten(tree, the_plan)["drivers/net/vtun/vtun.h"] == after
    t6 = [s for s in the_plan.sites if s.template == "T6"]
    assert {s.outcome for s in t6} == {"rewrite"}
    # definitions, netlink callers and ioctl callers all name the family: one commit
    assert all("vtun_locate" in " ".join(s.evidence) for s in t6)
    assert {s.function for s in t6} == {"vtun_create", "vtun_locate", "vtun_newlink",
                                        "vtun_changelink", "vtun_siocdevprivate"}


def test_review_sites_have_evidence_and_no_edits(sample_plan: tuple[Path, StagePlan]) -> None:
    _, the_plan = sample_plan
    reviews = {(s.file, s.template) for s in the_plan.sites if s.outcome == "review"}
    assert ("drivers/net/ppx.c", "T4") in reviews  # result not stored: no error variable
    for site in the_plan.sites:
        if site.outcome == "review":
            assert site.evidence and not site.edits


def test_link_deps_tables(sample_plan: tuple[Path, StagePlan]) -> None:
    tree, the_plan = sample_plan
    out = rewritten(tree, the_plan)
    qux = out["drivers/net/qux.c"].decode()
    assert ("static struct link_deps qux_newlink_deps = {\n"
            "\t.mandatory.data = { IFLA_QUX_LINK, },\n"
            "\t.optional.data = { IFLA_QUX_BACKUP, },\n};\n") in qux
    assert "\t.newlink_deps\t= &qux_newlink_deps,\n\t.newlink\t= qux_newlink,\n" in qux
    assert "\t.newlink_deps\t= &generic_newlink_deps,\n" in \
        out["net/qvlan/qvlan_netlink.c"].decode()
    vtun = out["drivers/net/vtun/vtun_main.c"].decode()
    assert "\t.optional.data = { IFLA_VTUN_LINK, },\n" in vtun
    assert "struct link_deps {" in out["include/net/rtnetlink.h"].decode()


def test_stage_is_idempotent(sample_plan: tuple[Path, StagePlan], tmp_path: Path) -> None:
    tree, the_plan = sample_plan
    converted = tmp_path / "tree"
    shutil.copytree(tree, converted)
    for path, data in rewritten(tree, the_plan).items():
        (converted / path).write_bytes(data)
    again = plan(converted)
    assert again.edits == []
    # what was left for review stays listed once the rest is applied (an outside caller
    # of a helper T1 renamed: the renamed call is the rule's converted form, not gone)
    listed = {(s.rule, s.file, s.function) for s in the_plan.sites if s.outcome.listed}
    assert listed
    assert listed <= {(s.rule, s.file, s.function) for s in again.sites if s.outcome.listed}


T2_BEFORE = """\
static int foo_newlink(struct net *src_net, struct net_device *dev,
		struct nlattr *tb[], struct nlattr *data[], struct netlink_ext_ack *extack)
{
	struct net_device *other;
	int ret;

	other = alloc_netdev(0, "o%d", NET_NAME_ENUM, foo_setup);
	if (!other)
		return -ENOMEM;
	ret = register_netdevice(other);
	if (ret) {
		free_netdev(other);
		return ret;
	}
	return register_netdevice(dev);
}

static struct rtnl_link_ops foo_link_ops = {
	.newlink	= foo_newlink,
};
"""


def test_t2_error_branch_in_place_and_ret(tmp_path: Path) -> None:
    after = T2_BEFORE.replace(
        "\tret = register_netdevice(other);\n\tif (ret) {\n\t\tfree_netdev(other);",
        "\tattach_nd_lock(other, rcu_dereference_protected(dev->nd_lock, true));\n"
        "\tret = __register_netdevice(other);\n\tif (ret) {\n"
        "\t\tdetach_nd_lock(other);\n\t\tfree_netdev(other);").replace(
        "return register_netdevice(dev);", "return __register_netdevice(dev);")
    assert_rewrite(tmp_path, {"drivers/net/foo.c": T2_BEFORE}, "drivers/net/foo.c", after)
