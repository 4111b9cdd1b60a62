"""`migrate status --pack netns_rtnl`: stage 1 and 2 done / to do (from the rules), the
doit()s registered per namespace (flags read from the tree's include/net/rtnetlink.h),
and the rtnl_lock() calls by what their function has in scope, in net/ and drivers/net/
apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.cli import main

HEADER = """enum rtnl_link_flags {
	RTNL_FLAG_DOIT_UNLOCKED		= BIT(0),
#define RTNL_FLAG_DOIT_PERNET		RTNL_FLAG_DOIT_UNLOCKED
#define RTNL_FLAG_DOIT_PERNET_WIP	RTNL_FLAG_DOIT_UNLOCKED
#define RTNL_FLAG_DOIT_PERNET_ALIAS	RTNL_FLAG_DOIT_PERNET	/* an alias of an alias */
	RTNL_FLAG_BULK_DEL_SUPPORTED	= BIT(1),
	RTNL_FLAG_DUMP_UNLOCKED		= BIT(2),
};

struct rtnl_msg_handler {
	struct module *owner;
	int protocol;
	int msgtype;
	rtnl_doit_func doit;
	rtnl_dumpit_func dumpit;
	int flags;
};
"""

HANDLERS = """static const struct rtnl_msg_handler example_rtnl_msg_handlers[] __initconst = {
	{.msgtype = RTM_NEWADDR, .doit = example_newaddr, .flags = RTNL_FLAG_DOIT_PERNET},
	{.msgtype = RTM_DELADDR, .doit = example_deladdr, .flags = RTNL_FLAG_DOIT_PERNET_WIP},
	{.msgtype = RTM_SETADDR, .doit = example_setaddr, .flags = RTNL_FLAG_DOIT_PERNET_ALIAS},
	{.msgtype = RTM_GETADDR, .doit = example_getaddr, .dumpit = example_dumpaddr,
		.flags = RTNL_FLAG_DOIT_UNLOCKED | RTNL_FLAG_DUMP_UNLOCKED},
	{.msgtype = RTM_NEWROUTE, .doit = example_newroute},
};

void __init example_rtnl_init(void)
{
	rtnl_register(PF_INET, RTM_DELROUTE, example_delroute, NULL, 0);
	rtnl_register_many(example_rtnl_msg_handlers);
}
"""

PERNET = """static void __net_exit a_exit_batch_rtnl(struct list_head *net_list,
						struct list_head *dev_kill_list)
{
}

static struct pernet_operations a_net_ops = {
	.exit_batch_rtnl = a_exit_batch_rtnl,
};

static struct pernet_operations b_net_ops = {
	.exit_batch_rtnl = b_exit_batch_rtnl,
	.id = &b_net_id,
};

static struct pernet_operations c_net_ops = {
	.exit_rtnl = c_exit_rtnl,
};
"""

LOCKS = """static void with_net(struct net *net)
{
	rtnl_lock();
	example_flush(net);
	rtnl_unlock();
}

static void with_dev(struct net_device *dev)
{
	rtnl_lock();
	example_reset(dev);
	rtnl_unlock();
}

static void with_neither(struct work_struct *work)
{
	if (!rtnl_trylock())
		return;
	example_all();
	rtnl_unlock();
}

static void converted(struct net *net)
{
	rtnl_net_lock(net);
	example_flush(net);
	rtnl_net_unlock(net);
}
"""

API = """void rtnl_net_lock(struct net *net)
{
	rtnl_lock();
	__rtnl_net_lock(net);
}
"""


def make_tree(root: Path, header: str = HEADER) -> Path:
    files = {
        "include/net/rtnetlink.h": header,
        "net/core/rtnetlink.c": API,
        "net/example/addr.c": HANDLERS,
        "net/example/pernet.c": PERNET,
        "net/example/locks.c": LOCKS,
        "drivers/net/example.c": LOCKS.replace("converted", "converted_too")
                                      .replace("with_", "drv_with_"),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def status(tree: Path, capsys: pytest.CaptureFixture[str], pack: str = "netns_rtnl") -> str:
    assert main(["status", "--pack", pack, "--tree", str(tree), "--no-cache", "-j", "1"]) == 0
    return capsys.readouterr().out


def test_status_counts_stages_handlers_and_scopes(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = status(make_tree(tmp_path), capsys)
    lines = out.splitlines()
    # stage 1: two pernet_operations with .exit_batch_rtnl (to do), one with .exit_rtnl.
    assert "    1      1      2      0  1-exit-rtnl: " in out
    # stage 2: with_net() in net/ and in drivers/net/ (to do); converted() in both (done,
    # the rule's done_when callee); rtnl_net_lock() itself (net/core/rtnetlink.c) is the
    # API, not a site.
    assert "    2      2      2      0  2-rtnl-net-lock: " in out
    # RTNL_FLAG_DOIT_PERNET_ALIAS is defined as RTNL_FLAG_DOIT_PERNET: it counts as one.
    assert ("rtnetlink: 2 with RTNL_FLAG_DOIT_PERNET, 1 with RTNL_FLAG_DOIT_PERNET_WIP, out of "
            "6 doit()s (by registration)") in lines
    assert ("rtnetlink: include/net/rtnetlink.h defines RTNL_FLAG_DOIT_PERNET = "
            "RTNL_FLAG_DOIT_UNLOCKED; RTNL_FLAG_DOIT_PERNET_WIP = RTNL_FLAG_DOIT_UNLOCKED") in lines
    assert ("rtnl_lock()/rtnl_trylock() in net/: 3 calls: 1 with a struct net *, 1 with only "
            "a struct net_device *, 1 with neither") in lines
    assert ("rtnl_lock()/rtnl_trylock() in drivers/net/: 3 calls: 1 with a struct net *, 1 "
            "with only a struct net_device *, 1 with neither") in lines


def test_flags_the_tree_does_not_define_count_nothing(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # A 6.12 header: no per-netns flags. A registration naming one anyway is not counted.
    header = "\n".join(line for line in HEADER.splitlines() if "PERNET" not in line)
    out = status(make_tree(tmp_path, header), capsys)
    assert ("rtnetlink: 0 with RTNL_FLAG_DOIT_PERNET, 0 with RTNL_FLAG_DOIT_PERNET_WIP, out of "
            "6 doit()s (by registration)") in out
    assert ("rtnetlink: include/net/rtnetlink.h does not define RTNL_FLAG_DOIT_PERNET, "
            "RTNL_FLAG_DOIT_PERNET_WIP") in out


def test_the_flags_are_read_not_assumed(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    # A tree defining PERNET as a flag of its own (not the unlocked one): still counted,
    # and its definition is what is printed.
    header = HEADER.replace("#define RTNL_FLAG_DOIT_PERNET		RTNL_FLAG_DOIT_UNLOCKED",
                            "	RTNL_FLAG_DOIT_PERNET		= BIT(5),")
    out = status(make_tree(tmp_path, header), capsys)
    assert "2 with RTNL_FLAG_DOIT_PERNET, 1 with RTNL_FLAG_DOIT_PERNET_WIP" in out
    assert "defines RTNL_FLAG_DOIT_PERNET = BIT(5);" in out


def test_nd_lock_counts_the_per_netns_flags_as_unlocked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The shared reading (migrator.packs.rtnetlink_handlers): the aliases of
    # RTNL_FLAG_DOIT_UNLOCKED (PERNET, PERNET_WIP, PERNET_ALIAS) run without RTNL for
    # nd_lock's census; RTM_NEWROUTE and the rtnl_register() call do not.
    out = status(make_tree(tmp_path), capsys, pack="nd_lock")
    assert "rtnetlink: 4 out of 6 doit()s, 1 out of 1 dumpit()s run without RTNL " \
           "(by registration)" in out
