"""The completeness check (migrator/verify/complete.py) fed wrong inputs: each fault is
caught, and the correct tree passes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from migrator.packs import load_pack
from migrator.verify.complete import check_completeness, load_api

API = load_api(load_pack().api_file, "nd_lock")

NETDEVICE_H = """\
#ifndef _LINUX_NETDEVICE_H
#define _LINUX_NETDEVICE_H

#include <linux/mutex.h>

struct net_device {
	char			name[16];
	struct {
		struct list_head upper;
		struct list_head lower;
	} adj_list;
#ifdef CONFIG_X
	int			x;
#endif
	struct nd_lock __rcu	*nd_lock;
} ____cacheline_aligned;

struct packet_type {
	struct net_device	*dev;
	struct list_head	list;
};

struct nd_lock {
	struct mutex		mutex;
	struct list_head	list;
	int			nr;
	refcount_t		usage;
	struct rcu_head		rcu;
};

bool lock_netdev(struct net_device *dev, struct nd_lock **nd_lock);
void unlock_netdev(struct nd_lock *nd_lock);
void attach_nd_lock(struct net_device *dev, struct nd_lock *nd_lock);
void detach_nd_lock(struct net_device *dev);
struct nd_lock *attach_new_nd_lock(struct net_device *dev);
extern struct nd_lock fallback_nd_lock;

int __register_netdevice(struct net_device *dev);
int register_netdevice(struct net_device *dev);

#endif
"""

RTNETLINK_H = """\
#ifndef __NET_RTNETLINK_H
#define __NET_RTNETLINK_H

#define MAX_LINK_DEPS 5

struct link_deps_table {
	int tb[MAX_LINK_DEPS + 1];
	int data[MAX_LINK_DEPS + 1];
};

struct link_deps {
	struct link_deps_table mandatory;
	struct link_deps_table optional;
};

extern struct link_deps generic_newlink_deps;

struct rtnl_link_ops {
	const char		*kind;
	struct link_deps	*newlink_deps;
	int			(*newlink)(struct net *src_net, struct net_device *dev);
};

#endif
"""

RTNETLINK_C = """\
#include <net/rtnetlink.h>

struct link_deps generic_newlink_deps = {
	.mandatory.tb = { IFLA_LINK, },
};
EXPORT_SYMBOL_GPL(generic_newlink_deps);
"""

DEV_C = """\
#include <linux/netdevice.h>

struct nd_lock fallback_nd_lock = {
	.mutex	= __MUTEX_INITIALIZER(fallback_nd_lock.mutex),
};
EXPORT_SYMBOL_GPL(fallback_nd_lock);
"""

DRIVER_C = """\
#include <linux/netdevice.h>
#include <net/rtnetlink.h>

static int foo_newlink(struct net *src_net, struct net_device *dev)
{
	struct net_device *peer = NULL;
	int err;

	attach_nd_lock(peer, rcu_dereference_protected(dev->nd_lock, true));
	err = __register_netdevice(peer);
	if (err)
		detach_nd_lock(peer);
	mutex_lock(&fallback_nd_lock.mutex);
	mutex_unlock(&fallback_nd_lock.mutex);
	return err;
}

static struct rtnl_link_ops foo_link_ops = {
	.newlink_deps	= &generic_newlink_deps,
	.newlink	= foo_newlink,
};
"""

FILES = {
    "include/linux/netdevice.h": NETDEVICE_H,
    "include/net/rtnetlink.h": RTNETLINK_H,
    "net/core/rtnetlink.c": RTNETLINK_C,
    "net/core/dev.c": DEV_C,
    "drivers/net/foo.c": DRIVER_C,
}

# What the series added (every line using or declaring API names).
ADDED_TEXT = {
    "include/linux/netdevice.h": ["\tstruct nd_lock __rcu\t*nd_lock;",
                                  "extern struct nd_lock fallback_nd_lock;"],
    "include/net/rtnetlink.h": ["extern struct link_deps generic_newlink_deps;",
                                "\tstruct link_deps\t*newlink_deps;"],
    "net/core/rtnetlink.c": ["struct link_deps generic_newlink_deps = {"],
    "drivers/net/foo.c": [
        "\tattach_nd_lock(peer, rcu_dereference_protected(dev->nd_lock, true));",
        "\terr = __register_netdevice(peer);",
        "\t\tdetach_nd_lock(peer);",
        "\tmutex_lock(&fallback_nd_lock.mutex);",
        "\t.newlink_deps\t= &generic_newlink_deps,",
    ],
}


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def added(root: Path) -> dict[str, list[tuple[int, str]]]:
    """ADDED_TEXT located in the files of `root` (line numbers of the patched text)."""
    out: dict[str, list[tuple[int, str]]] = {}
    for name, lines in ADDED_TEXT.items():
        text = (root / name).read_text().splitlines()
        for wanted in lines:
            if wanted in text:
                out.setdefault(name, []).append((text.index(wanted) + 1, wanted))
    return out


def messages(tree: Path) -> list[str]:
    return [v.message for v in check_completeness(tree, added(tree), API)]


@pytest.fixture(params=["plain", "git"])
def tree(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The correct tree after the series, as a plain folder and as a git work tree
    (files found with git grep; the series' new files may be untracked)."""
    root = make_tree(tmp_path / "tree", FILES)
    if request.param == "git":
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        subprocess.run(["git", "-C", str(root), "add", "include"], check=True)
    return root


def replace(tree: Path, path: str, old: str, new: str) -> None:
    text = (tree / path).read_text()
    assert old in text
    (tree / path).write_text(text.replace(old, new))


def test_correct_series_passes(tree: Path) -> None:
    use = added(tree)
    assert sum(len(v) for v in use.values()) == sum(len(v) for v in ADDED_TEXT.values())
    assert check_completeness(tree, use, API) == []


def test_member_added_to_the_wrong_struct(tree: Path) -> None:
    replace(tree, "include/linux/netdevice.h", "\tstruct nd_lock __rcu\t*nd_lock;\n} ____",
            "} ____")
    replace(tree, "include/linux/netdevice.h", "\tstruct list_head\tlist;\n};\n\nstruct nd_lock",
            "\tstruct list_head\tlist;\n\tstruct nd_lock __rcu\t*nd_lock;\n};\n\n"
            "struct nd_lock")
    found = check_completeness(tree, added(tree), API)
    assert [(v.file, v.message) for v in found] == [
        ("drivers/net/foo.c", "->nd_lock: struct net_device has no member nd_lock after the "
         "series")]
    assert any("struct packet_type has nd_lock" in e for e in found[0].evidence)


def test_member_in_nested_struct_is_not_a_member(tree: Path) -> None:
    """`nd_lock` inside the named member struct `adj_list` is not net_device's member."""
    replace(tree, "include/linux/netdevice.h", "\tstruct nd_lock __rcu\t*nd_lock;\n} ____",
            "} ____")
    replace(tree, "include/linux/netdevice.h", "\t\tstruct list_head lower;\n",
            "\t\tstruct list_head lower;\n\t\tstruct nd_lock __rcu *nd_lock;\n")
    assert messages(tree) == ["->nd_lock: struct net_device has no member nd_lock after the "
                              "series"]


def test_ops_member_in_the_wrong_struct(tree: Path) -> None:
    replace(tree, "include/net/rtnetlink.h", "\tstruct link_deps\t*newlink_deps;\n", "")
    replace(tree, "include/net/rtnetlink.h", "\tstruct link_deps_table optional;\n",
            "\tstruct link_deps_table optional;\n\tstruct link_deps *newlink_deps;\n")
    assert messages(tree) == [".newlink_deps: struct rtnl_link_ops has no member newlink_deps "
                              "after the series"]


@pytest.mark.parametrize("definition", [None, "static struct link_deps generic_newlink_deps;",
                                        "extern struct link_deps generic_newlink_deps;"])
def test_extern_object_never_defined(tree: Path, definition: str | None) -> None:
    """Declared extern in the header; no .c file defines it (a static or extern one in a
    .c file does not count)."""
    (tree / "net/core/rtnetlink.c").write_text(
        "#include <net/rtnetlink.h>\n\n" + (definition + "\n" if definition else ""))
    found = check_completeness(tree, added(tree), API)
    assert [(v.file, v.message.split(" is ")[0]) for v in found] == [
        ("include/net/rtnetlink.h", "extern object generic_newlink_deps")]


def test_api_function_used_but_not_declared(tree: Path) -> None:
    replace(tree, "include/linux/netdevice.h",
            "void detach_nd_lock(struct net_device *dev);\n", "")
    found = check_completeness(tree, added(tree), API)
    assert [(v.file, v.line, v.message) for v in found] == [
        ("drivers/net/foo.c", 12, "detach_nd_lock (function of the nd_lock API) is used but "
         "not declared after the series")]


def test_api_function_declared_in_the_same_file(tree: Path) -> None:
    replace(tree, "include/linux/netdevice.h",
            "void detach_nd_lock(struct net_device *dev);\n", "")
    replace(tree, "drivers/net/foo.c", "#include <net/rtnetlink.h>\n",
            "#include <net/rtnetlink.h>\n\nvoid detach_nd_lock(struct net_device *dev);\n")
    assert messages(tree) == []


def test_forward_declared_struct_is_not_enough(tree: Path) -> None:
    """`fallback_nd_lock.mutex` needs struct nd_lock in full, not `struct nd_lock;`."""
    text = (tree / "include/linux/netdevice.h").read_text()
    start = text.index("struct nd_lock {")
    end = text.index("};\n", start) + 3
    (tree / "include/linux/netdevice.h").write_text(text[:start] + "struct nd_lock;\n" +
                                                    text[end:])
    found = messages(tree)
    assert "struct nd_lock is used but not defined in full after the series" in found
    assert "fallback_nd_lock.mutex: struct nd_lock is not defined under include/" in found


def test_object_member_must_exist(tree: Path) -> None:
    replace(tree, "drivers/net/foo.c", "mutex_lock(&fallback_nd_lock.mutex);",
            "mutex_lock(&fallback_nd_lock.lock);")
    ADDED = "\tmutex_lock(&fallback_nd_lock.lock);"
    use = added(tree)
    text = (tree / "drivers/net/foo.c").read_text().splitlines()
    use["drivers/net/foo.c"].append((text.index(ADDED) + 1, ADDED))
    assert [v.message for v in check_completeness(tree, use, API)] == [
        "fallback_nd_lock.lock: struct nd_lock has no member lock after the series"]


def test_comments_and_strings_are_not_uses(tree: Path) -> None:
    replace(tree, "include/linux/netdevice.h", "void unlock_netdev(struct nd_lock *nd_lock);\n",
            "")
    lines = ["\t/* see unlock_netdev() and dev->nd_lock */",
             " * unlock_netdev() releases what lock_netdev() took",
             '\tpr_debug("unlock_netdev %s\\n", name);']
    assert check_completeness(tree, {"drivers/net/foo.c": [(1, t) for t in lines]}, API) == []
    found = check_completeness(tree, {"drivers/net/foo.c": [(1, "\tunlock_netdev(l);")]}, API)
    assert len(found) == 1 and found[0].message.startswith("unlock_netdev ")


def test_api_is_data_and_not_a_rule() -> None:
    api = load_api(load_pack().api_file, "nd_lock")
    assert load_pack().api_file.parent.name == "data"
    assert "lock_netdev" in api.functions and api.members["nd_lock"][0] == "net_device"
    assert api.objects["generic_newlink_deps"] == ("link_deps", "include/net/rtnetlink.h")
    assert all(rule.path.parent.parent.name == "rules" for rule in load_pack().rules())


def test_checker_is_independent_of_the_edit_code() -> None:
    code = ("import sys, migrator.verify.complete\n"
            "bad = [m for m in sys.modules if m.startswith(('migrator.packs.nd_lock', "
            "'migrator.edit.cedit', 'migrator.engine.planner', 'migrator.edit.edits'))]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)
