"""A small kernel-style git tree for the index and call-graph tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from migrator.index.tree_index import IndexRequest

FILES: dict[str, str] = {
    "include/linux/netdevice.h": """\
struct net_device { int ifindex; };
int register_netdevice(struct net_device *dev);
int register_netdev(struct net_device *dev);
""",
    # root callbacks; a static helper; a cross-file global helper
    "drivers/net/foo.c": """\
#include <linux/netdevice.h>

static int foo_setup(struct net_device *dev)
{
	int err;

	err = register_netdevice(dev);
	return err;
}

static int foo_newlink(struct net_device *dev)
{
	return foo_setup(dev);
}

static int foo_changelink(struct net_device *dev)
{
	return shared_helper(dev);
}

static struct rtnl_link_ops foo_link_ops = {
	.kind		= "foo",
	.newlink	= foo_newlink,
	.changelink	= foo_changelink,
};
""",
    "drivers/net/lib.c": """\
#include <linux/netdevice.h>

int shared_helper(struct net_device *dev)
{
	return deep_helper(dev);
}

int deep_helper(struct net_device *dev)
{
	return register_netdevice(dev);
}
""",
    # a static function with the same name as lib.c's global one wins in its file
    "drivers/net/bar.c": """\
#include <linux/netdevice.h>

static int shared_helper(struct net_device *dev)
{
	return dev->ifindex;
}

static int bar_newlink(struct net_device *dev)
{
	return shared_helper(dev);
}

static struct rtnl_link_ops bar_link_ops = {
	.kind = "bar",
	.newlink = bar_newlink,
};
""",
    # framework dispatch through a member call, resolved by the receiver's type
    "drivers/net/wcore.c": """\
#include <linux/netdevice.h>

struct wops { int (*newlink)(struct net_device *dev); };

static int wcore_newlink(struct net_device *dev)
{
	struct wops *ops = wops_get(dev);

	return ops->newlink(dev);
}

static struct rtnl_link_ops wcore_link_ops = {
	.kind = "wcore",
	.newlink = wcore_newlink,
};
""",
    "drivers/net/wdrv.c": """\
#include <linux/netdevice.h>

static int wdrv_newlink(struct net_device *dev)
{
	return register_netdevice(dev);
}

static const struct wops wdrv_ops = {
	.newlink = wdrv_newlink,
};
""",
    "drivers/net/other.c": """\
#include <linux/netdevice.h>

static int other_newlink(struct net_device *dev)
{
	return register_netdevice(dev);
}

static const struct other_ops other = {
	.newlink = other_newlink,
};
""",
    # RTNL boundary: foo_ioctl takes RTNL itself; its callers are not searched
    "drivers/net/ioctl.c": """\
#include <linux/netdevice.h>

int ioctl_create(struct net_device *dev)
{
	return register_netdevice(dev);
}

int foo_ioctl(struct net_device *dev)
{
	int err;

	rtnl_lock();
	err = ioctl_create(dev);
	rtnl_unlock();
	return err;
}
""",
    "drivers/net/ioctl_user.c": """\
#include <linux/netdevice.h>

int ioctl_user(struct net_device *dev)
{
	return foo_ioctl(dev);
}
""",
    # local names: callers of register_netdev() are followed within their file only
    "drivers/net/loc.c": """\
#include <linux/netdevice.h>

static int loc_helper(struct net_device *dev)
{
	return register_netdev(dev);
}

int loc_probe(struct net_device *dev)
{
	return loc_helper(dev);
}
""",
    "drivers/net/loc_user.c": """\
#include <linux/netdevice.h>

int loc_user(struct net_device *dev)
{
	return loc_probe(dev);
}
""",
    # arrays of structs and nested designators
    "net/core/handlers.c": """\
#include <linux/netdevice.h>

static const struct rtnl_msg_handler handlers[] = {
	{.msgtype = RTM_NEWLINK, .doit = h_newlink, .flags = RTNL_FLAG_DOIT_UNLOCKED},
	{.msgtype = RTM_GETLINK, .dumpit = h_dump},
};

static struct nested_ops nested = {
	.inner = { .newlink = h_newlink, .deep = { .x = h_x } },
	.name = "n",
};

static struct rtnl_msg_handler *tag = &handlers[0];
""",
    "fs/unrelated.c": "int unrelated(void)\n{\n\treturn 0;\n}\n",
}

REQUEST = IndexRequest(
    names=frozenset({"register_netdevice", "register_netdev", "rtnl_msg_handler",
                     "nested_ops"}),
    root_members=frozenset({"rtnl_link_ops.newlink", "rtnl_link_ops.changelink"}),
    stats_targets=frozenset({"register_netdevice", "register_netdev"}),
    boundaries=frozenset({"rtnl_lock", "rtnl_unlock"}),
    local_names=frozenset({"register_netdev", "rtnl_msg_handler", "nested_ops"}),
    scope_names=frozenset({"net_device"}),
)


def git(tree: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", "-C", str(tree), *args], check=True, capture_output=True, env=env)


def make_tree(root: Path, files: dict[str, str] | None = None, *, commit: bool = True) -> Path:
    for rel, text in (FILES if files is None else files).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if commit:
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "tree")
    return root
