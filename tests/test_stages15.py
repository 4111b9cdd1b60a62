"""Stages 1, 3-6 on corpus/sample: exact rewrites and review evidence."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrator.edit.edits import apply_edits, group_by_file
from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine
from migrator.parse.tree import count_errors

SAMPLE = Path(__file__).resolve().parent.parent / "corpus" / "sample"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("s") / "tree"
    shutil.copytree(SAMPLE, dst)
    return dst


def plan(tree: Path, stage: int, **opts: object):  # type: ignore[no-untyped-def]
    return open_engine(tree, PlanOptions(use_cache=False, rule_options=opts)).plan(stage)


def applied(tree: Path, p) -> dict[str, str]:  # type: ignore[no-untyped-def]
    out = {}
    for f, es in group_by_file(p.edits).items():
        src = (tree / f).read_bytes()
        new = apply_edits(src, es)
        assert count_errors(new) <= count_errors(src), f
        out[f] = new.decode("latin-1")
    return out


def test_t0_default_pernet_only(tree: Path) -> None:
    p = plan(tree, 1)
    assert [(s.file, s.outcome) for s in p.sites] == [("drivers/net/sinkhole.c", "rewrite")]
    assert ("\terr = rtnl_lock_killable();\n\tif (!err) {\n\t\terr = register_netdevice(dev);"
            "\n\t\trtnl_unlock();\n\t}\n\tif (err)\n\t\tgoto out_free_netdev;"
            ) in applied(tree, p)["drivers/net/sinkhole.c"]


def test_t0_forms_and_rtnl_held(tree: Path) -> None:
    p = plan(tree, 1, t0_families=["drivers/net/ethernet/acme"])
    acme = {s.line: s for s in p.sites if "acme" in s.file}
    assert acme[120].outcome == "review" and "RTNL already held" in acme[120].reason
    assert all(acme[n].outcome == "rewrite" for n in (52, 74, 82, 163))
    text = applied(tree, p)["drivers/net/ethernet/acme/acme_main.c"]
    assert "\tint err;\n\n\tmdev = alloc_netdev" in text
    assert "\t\trtnl_unlock();\n\t}\n\treturn err;\n}" in text
    assert "\t\tif (err) {\n\t\t\tdev_err(&ad->pdev->dev, \"port %d" in text
    assert "ret = rtnl_lock_killable();\n\tif (!ret) {" in text


def test_core_idempotent(tree: Path) -> None:
    p = plan(tree, 1, with_core=True)
    text = applied(tree, p)["include/linux/netdevice.h"]
    assert "struct nd_lock __rcu\t*nd_lock;" in text and "extern struct nd_lock fallback" in text
    t2 = tree.parent / "t2"
    shutil.copytree(tree, t2)
    (t2 / "include/linux/netdevice.h").write_text(text, encoding="latin-1")
    assert not [s for s in plan(t2, 1, with_core=True).sites if s.template == "core"]


def test_t3_t5_t7(tree: Path) -> None:
    p = plan(tree, 3)
    by = {s.file: s for s in p.sites}
    assert by["drivers/net/ghost.c"].template == "T5"
    assert by["drivers/net/ghost.c"].outcome == "review"
    # the rule's default configuration lists the cfg80211/ieee802154 directories
    assert by["net/wireless/core.c"].outcome == "rewrite"
    assert ("\tattach_nd_lock(dev, &fallback_nd_lock);\n\tret = __register_netdevice(dev);"
            in applied(tree, p)["net/wireless/core.c"])
    unconfigured = {s.file: s for s in plan(tree, 3, families=[]).sites}
    assert unconfigured["net/wireless/core.c"].outcome == "review"


def test_t8(tree: Path) -> None:
    p = plan(tree, 4)
    out = {(s.file, s.line): s for s in p.sites}
    assert out[("drivers/net/fover.c", 64)].outcome == "review"
    br = [s for (f, _), s in out.items() if f == "net/bridge/br_if.c"]
    assert [(s.outcome, s.edits) for s in br] == [("review", ())]
    assert "every caller holds both locks" in br[0].reason
    assert sum(1 for s in p.sites if s.template == "T8" and s.function in
               ("br_add_if", "bond_enslave", "qteam_port_add", "fover_slave_register")) == 4
    text = applied(tree, p)
    # double_lock_netdev() fails for a device being unregistered: -ENODEV, no link.
    assert ("\tif (isadd) {\n\t\tret = -ENODEV;\n"
            "\t\tif (double_lock_netdev(br->dev, &nd_lock, dev, &nd_lock2)) {\n"
            "\t\t\tnd_lock_transfer_devices(&nd_lock, &nd_lock2);\n"
            "\t\t\tret = br_add_if(br, dev, NULL);\n"
            "\t\t\tdouble_unlock_netdev(nd_lock, nd_lock2);\n\t\t}\n\t} else {\n"
            "\t\tret = br_del_if(br, dev);\n\t}\n") in text["net/bridge/br_ioctl.c"]
    assert ("\t\tdouble_unlock_netdev(nd_lock, nd_lock2);\n\t}\n\tif (err) {"
            in text["drivers/net/qteam.c"])
    assert "netdev_master" not in "".join(
        line for line in text["drivers/net/bonding/bond_main.c"].splitlines()
        if "double_lock" in line)


def _with_sample_core(tree: Path) -> None:
    """The sample's netdevice.h and rtnetlink.c (do_set_master()'s ops->ndo_add_slave())."""
    for rel in ("include/linux/netdevice.h", "net/core/rtnetlink.c"):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE / rel, tree / rel)


def test_t8_link_in_the_ndo_add_slave_callback_itself(tmp_path: Path) -> None:
    """The core's `ops->ndo_add_slave(...)` dispatch is the locked path, not a caller
    without the locks: a link made in the callback itself needs no edit."""
    _with_sample_core(tmp_path)
    (tmp_path / "drivers/net").mkdir(parents=True)
    (tmp_path / "drivers/net/mux.c").write_text(
        "static int mux_add_port(struct net_device *dev, struct net_device *port,\n"
        "\t\t\tstruct netlink_ext_ack *extack)\n{\n"
        "\treturn netdev_master_upper_dev_link(port, dev, NULL, NULL, extack);\n}\n\n"
        "static const struct net_device_ops mux_netdev_ops = {\n"
        "\t.ndo_add_slave = mux_add_port,\n};\n")
    p = plan(tmp_path, 4)
    assert [(s.function, s.outcome, s.edits) for s in p.sites] == [
        ("mux_add_port", "review", ())]
    assert "reached only from .ndo_add_slave" in p.sites[0].reason


def _enslave_driver(name: str, link_args: str) -> str:
    """An enslave function reached from .ndo_add_slave (core holds the locks) and from an
    ioctl (it does not), whose link sits one helper further down."""
    return (
        f"static int {name}_link(struct net_device *m, struct net_device *p,\n"
        f"\t\t\tstruct {name}_port *port)\n{{\n"
        "\treturn netdev_master_upper_dev_link(" + link_args + ", NULL, NULL, NULL);\n}\n\n"
        f"int {name}_enslave(struct net_device *m, struct net_device *p)\n{{\n"
        f"\tstruct {name}_port *port;\n\tint err;\n\n"
        "\tport = kzalloc(sizeof(*port), GFP_KERNEL);\n\tif (!port)\n\t\treturn -ENOMEM;\n"
        "\tport->dev = p;\n"
        f"\terr = {name}_link(m, p, port);\n\tif (err)\n\t\tkfree(port);\n\treturn err;\n}}\n\n"
        f"static int {name}_add_slave(struct net_device *m, struct net_device *p,\n"
        "\t\t\t     struct netlink_ext_ack *extack)\n{\n"
        f"\treturn {name}_enslave(m, p);\n}}\n\n"
        f"static int {name}_ioctl(struct net_device *m, struct ifreq *ifr, void __user *data,\n"
        "\t\t\tint cmd)\n{\n\tstruct net_device *p;\n\tint err;\n\n"
        "\tp = __dev_get_by_index(dev_net(m), ifr->ifr_ifindex);\n\tif (!p)\n"
        "\t\treturn -ENODEV;\n"
        f"\terr = {name}_enslave(m, p);\n\treturn err;\n}}\n\n"
        f"static const struct net_device_ops {name}_netdev_ops = {{\n"
        f"\t.ndo_add_slave\t\t= {name}_add_slave,\n"
        f"\t.ndo_siocdevprivate\t= {name}_ioctl,\n}};\n")


def test_t8_entry_point_is_never_on_the_locked_path(tmp_path: Path) -> None:
    """{mb,mc}_enslave() runs under the core's locks from .ndo_add_slave: the bracket goes
    to its ioctl caller, never inside it (6.12 bond_enslave() ->
    bond_master_upper_dev_link()).  The link's devices are carried up the chain of
    calls; a device held in a local of the enslave function cannot be: review."""
    _with_sample_core(tmp_path)
    (tmp_path / "drivers/net").mkdir(parents=True)
    (tmp_path / "drivers/net/mb.c").write_text(_enslave_driver("mb", "port->dev, m"))
    (tmp_path / "drivers/net/mc.c").write_text(_enslave_driver("mc", "p, m"))
    p = plan(tmp_path, 4)
    got = {(s.file, s.function): (s.outcome, s.reason) for s in p.sites}
    assert got[("drivers/net/mb.c", "mb_ioctl")] == (
        "review", "T8 entry point not applied: link argument 'port->dev' is not derived "
        "from a parameter of mb_enslave()")
    assert got[("drivers/net/mc.c", "mc_ioctl")][0] == "rewrite"
    assert not [s for s in p.sites if s.function.endswith("_enslave") and s.edits]
    text = applied(tmp_path, p)["drivers/net/mc.c"]
    assert ("\terr = -ENODEV;\n\tif (double_lock_netdev(m, &nd_lock, p, &nd_lock2)) {\n"
            "\t\tnd_lock_transfer_devices(&nd_lock, &nd_lock2);\n"
            "\t\terr = mc_enslave(m, p);\n") in text


def test_t9_and_fallback_loops(tree: Path) -> None:
    unconfigured = plan(tree, 5, families=[])
    assert {s.template: s.outcome for s in unconfigured.sites} == {"T9": "rewrite",
                                                                  "T7": "review"}
    p = plan(tree, 5)  # the default configuration lists net/wireless
    assert {s.template: s.outcome for s in p.sites} == {"T9": "rewrite", "T7": "rewrite"}
    text = applied(tree, p)["net/wireless/core.c"]
    assert text.count("mutex_lock(&fallback_nd_lock.mutex);") == 2
    assert ("\t\t}\n\t\tmutex_unlock(&fallback_nd_lock.mutex);\n\t\treturn err;" in text)


def test_t9_long_form_and_wrapper(tmp_path: Path) -> None:
    """__dev_change_net_namespace() is bracketed like the short form; the inline wrapper
    dev_change_net_namespace() is not a site itself (its callers are)."""
    (tmp_path / "include/linux").mkdir(parents=True)
    (tmp_path / "include/linux/netdevice.h").write_text(
        "static inline\nint dev_change_net_namespace(struct net_device *dev, struct net *net,"
        "\n\t\t\t     const char *pat)\n{\n"
        "\treturn __dev_change_net_namespace(dev, net, pat, 0, NULL);\n}\n")
    (tmp_path / "net/core").mkdir(parents=True)
    (tmp_path / "net/core/setlink.c").write_text(
        "static int do_move(struct net_device *dev, struct net *net, int ifindex)\n{\n"
        "\tint err;\n\n"
        "\terr = __dev_change_net_namespace(dev, net, \"eth%d\", ifindex, NULL);\n"
        "\tput_net(net);\n\tif (err)\n\t\treturn err;\n\treturn 0;\n}\n")
    p = plan(tmp_path, 5)
    assert [(s.file, s.function, s.outcome) for s in p.sites] == [
        ("net/core/setlink.c", "do_move", "rewrite")]
    assert applied(tmp_path, p)["net/core/setlink.c"] == (
        "static int do_move(struct net_device *dev, struct net *net, int ifindex)\n{\n"
        "\tstruct nd_lock *nd_lock;\n\tint err;\n\n"
        "\terr = -ENODEV;\n\tif (lock_netdev(dev, &nd_lock)) {\n"
        "\t\terr = __dev_change_net_namespace(dev, net, \"eth%d\", ifindex, NULL);\n"
        "\t\tunlock_netdev(nd_lock);\n\t}\n"
        "\tput_net(net);\n\tif (err)\n\t\treturn err;\n\treturn 0;\n}\n")


def test_t9_lock_failure_and_shapes(tmp_path: Path) -> None:
    """lock_netdev() can fail (device being unregistered): a stored result gets -ENODEV
    through the existing check, an ignored one skips the move, an unbraced branch gets
    braces; a returned result has no place for the check: review."""
    (tmp_path / "drivers/net").mkdir(parents=True)
    (tmp_path / "drivers/net/mv.c").write_text(
        "static void mv_quiet(struct net_device *dev, struct net *net)\n{\n"
        "\tdev_change_net_namespace(dev, net, \"mv%d\");\n}\n\n"
        "static int mv_ret(struct net_device *dev, struct net *net)\n{\n"
        "\treturn dev_change_net_namespace(dev, net, \"mv%d\");\n}\n\n"
        "static int mv_unbraced(struct net_device *dev, struct net *net, int err)\n{\n"
        "\tif (!err)\n\t\terr = dev_change_net_namespace(dev, net, \"mv%d\");\n"
        "\treturn err;\n}\n")
    p = plan(tmp_path, 5)
    got = {s.function: (s.outcome, s.reason) for s in p.sites}
    assert got["mv_quiet"][0] == "rewrite"
    assert got["mv_ret"] == ("review", "T9 not applied: call inside a return statement; "
                             "the unlock needs the result stored first")
    assert got["mv_unbraced"][0] == "rewrite"
    text = applied(tmp_path, p)["drivers/net/mv.c"]
    assert text.startswith(
        "static void mv_quiet(struct net_device *dev, struct net *net)\n{\n"
        "\tstruct nd_lock *nd_lock;\n\n\tif (lock_netdev(dev, &nd_lock)) {\n"
        "\t\tdev_change_net_namespace(dev, net, \"mv%d\");\n"
        "\t\tunlock_netdev(nd_lock);\n\t}\n}\n")
    assert ("\tif (!err) {\n\t\terr = -ENODEV;\n\t\tif (lock_netdev(dev, &nd_lock)) {\n"
            "\t\t\terr = dev_change_net_namespace(dev, net, \"mv%d\");\n"
            "\t\t\tunlock_netdev(nd_lock);\n\t\t}\n\t}\n\treturn err;\n") in text


def test_exits_unlocked(tmp_path: Path) -> None:
    (tmp_path / "net/wireless").mkdir(parents=True)
    (tmp_path / "net/wireless/x.c").write_text(
        "int x_move(struct phy *phy, struct net *net)\n{\n\tstruct wdev *w;\n\tint err;\n\n"
        "\tlist_for_each_entry(w, &phy->list, list) {\n"
        "\t\tif (w->bad)\n\t\t\treturn -EINVAL;\n"
        "\t\tif (w->skip)\n\t\t\tgoto out;\n"
        "\t\terr = dev_change_net_namespace(w->netdev, net, \"w%d\");\n"
        "\t\tif (err)\n\t\t\tbreak;\n\t}\nout:\n\treturn err;\n}\n")
    p = plan(tmp_path, 5, families=["net/wireless"])
    text = applied(tmp_path, p)["net/wireless/x.c"]
    assert ("\t\tif (w->bad) {\n\t\t\tmutex_unlock(&fallback_nd_lock.mutex);\n"
            "\t\t\treturn -EINVAL;\n\t\t}\n") in text
    assert "\t\t\tmutex_unlock(&fallback_nd_lock.mutex);\n\t\t\tgoto out;" in text
    assert "\t\t\tbreak;\n\t\t}" not in text  # break leaves only the loop: unlocked after it


def test_stage6_report(tree: Path) -> None:
    p = plan(tree, 6)
    assert sorted(s.file for s in p.sites) == ["drivers/net/fover.c", "drivers/net/ghost.c"]
    fover = next(s for s in p.sites if "fover" in s.file)
    assert any("fover.c:64 netdev_master_upper_dev_link" in e for e in fover.evidence)
