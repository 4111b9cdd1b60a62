"""netns_rtnl stage 2 (rule 2-rtnl-net-lock): rtnl_lock() -> rtnl_net_lock(net) only where
the function knows its namespace, releases RTNL itself and touches only that namespace's
devices. Each test is a tiny file; the wrong inputs must give review, with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.edit.edits import apply_edits
from migrator.packs import load_pack
from migrator.testing import assert_migration
from migrator.verify.source import check_rewrite, load_pairs

RULE = "2-rtnl-net-lock"
PACK = "netns_rtnl"
PAIRS = load_pairs(load_pack(PACK).pairs_file)
CASES = load_pack(PACK).rules_dir / RULE / "cases"


def net(text: str) -> str:
    """The expected rewrite: every RTNL call of the text on `net`."""
    return (text.replace("rtnl_lock()", "rtnl_net_lock(net)")
            .replace("rtnl_unlock()", "rtnl_net_unlock(net)")
            .replace("rtnl_trylock()", "rtnl_net_trylock(net)"))


def review(text: str, words: str) -> None:
    assert_migration(text, rule=RULE, pack=PACK, review=[words] * text.count("rtnl_lock();"))


def rewrite(text: str) -> None:
    assert_migration(text, net(text), rule=RULE, pack=PACK)


# -- the catch: a device or a namespace that is not the one locked --------------------------

def test_a_device_from_another_namespaces_lookup_is_review() -> None:
    # The same function with the lookup in `net` is a rewrite; in the peer's namespace
    # (a wrong input for per-netns RTNL) it is review naming the lookup.
    good = """static int example_set(struct net *net, struct example_req *req)
{
	struct net_device *dev;
	int err = -ENODEV;

	rtnl_lock();
	dev = __dev_get_by_name(net, req->name);
	if (dev)
		err = example_dev_set(dev, req);
	rtnl_unlock();
	return err;
}
"""
    rewrite(good)
    wrong = good.replace("__dev_get_by_name(net, req->name)",
                         "__dev_get_by_name(req->peer_net, req->name)")
    review(wrong, "__dev_get_by_name(req->peer_net, ...) looks a device up outside net")


def test_a_device_looked_up_before_the_lock_in_another_namespace_is_review() -> None:
    review("""static void example_kick(struct net *net, int ifindex)
{
	struct net_device *dev = dev_get_by_index(&init_net, ifindex);

	rtnl_lock();
	example_kick_dev(dev);
	rtnl_unlock();
	dev_put(dev);
}
""", "uses device dev from dev_get_by_index(&init_net, ifindex)")


def test_a_second_namespace_used_under_the_lock_is_review() -> None:
    review("""static int example_dellink(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = sock_net(skb->sk);
	struct net *tgt = dev_net(info->user_ptr[0]);
	int err;

	rtnl_lock();
	err = example_del(net, tgt);
	rtnl_unlock();
	return err;
}
""", "touches namespace tgt, not the one locked (net)")


def test_a_file_variable_rtnl_protects_for_every_namespace_is_review() -> None:
    review("""static int example_generation;

static void example_bump(struct net *net)
{
	rtnl_lock();
	example_generation++;
	example_flush(net);
	rtnl_unlock();
}
""", "uses example_generation, not a local of the function")


def test_a_list_of_another_owner_is_review() -> None:
    review("""static void example_dump(struct net *net, struct sk_buff *skb)
{
	struct example_port *port;

	rtnl_lock();
	list_for_each_entry(port, &example_ports, list)
		example_fill(net, skb, port);
	rtnl_unlock();
}
""", "walks a list that is not net's")


# -- the lock must be the function's own --------------------------------------------------

@pytest.mark.parametrize(("body", "words"), [
    ("\tif (example_busy(net))\n\t\trtnl_lock();\n\texample_flush(net);\n\trtnl_unlock();\n",
     "some paths only"),
    ("\trtnl_lock();\n\tif (example_busy(net))\n\t\tgoto out;\n\trtnl_unlock();\nout:\n"
     "\texample_flush(net);\n", "reached with RTNL held and with RTNL free"),
    ("\trtnl_unlock();\n\texample_wait(net);\n\trtnl_lock();\n",
     "rtnl_unlock() of RTNL this function did not take"),
    ("\tswitch (example_mode(net)) {\n\tcase 1:\n\t\trtnl_lock();\n\tcase 2:\n"
     "\t\texample_flush(net);\n\t\trtnl_unlock();\n\t}\n", "some paths only"),
])
def test_a_lock_not_balanced_in_the_function_is_review(body: str, words: str) -> None:
    text = f"static void example_fn(struct net *net)\n{{\n{body}}}\n"
    sites = assert_migration(text, rule=RULE, pack=PACK)
    assert sites and all(s.outcome == "review" and words in s.reason for s in sites), sites


# -- shapes that are rewritten ------------------------------------------------------------

def test_an_error_path_inside_ifdef_after_the_return_is_rewritten() -> None:
    rewrite("""static int __net_init example_net_init(struct net *net)
{
	int err;

	err = example_rules_init(net);
	if (err)
		goto fail;
#ifdef CONFIG_PROC_FS
	err = -ENOMEM;
	if (!example_proc_init(net))
		goto proc_fail;
#endif
	return 0;

#ifdef CONFIG_PROC_FS
proc_fail:
	rtnl_lock();
	example_rules_exit(net);
	rtnl_unlock();
#endif
fail:
	return err;
}
""")


def test_a_device_copied_from_the_namespaces_walk_is_its() -> None:
    rewrite("""static struct net_device *example_find(struct net *net, int type)
{
	struct net_device *dev = NULL;
	struct net_device *tmp;

	rtnl_lock();
	for_each_netdev(net, tmp) {
		if (tmp->type == type) {
			dev = tmp;
			dev_hold(dev);
			break;
		}
	}
	rtnl_unlock();
	return dev;
}
""")


def test_a_function_without_namespace_is_not_a_site() -> None:
    assert_migration("""static void example_work(struct work_struct *work)
{
	struct example_priv *priv = container_of(work, struct example_priv, work);

	rtnl_lock();
	example_reset(priv);
	rtnl_unlock();
}
""", rule=RULE, pack=PACK, already_done=True)


def test_every_call_of_a_function_is_a_site_and_the_first_carries_the_edits() -> None:
    text = (CASES / "error-paths-rewrite.c").read_text()
    sites = assert_migration(text, net(text), rule=RULE, pack=PACK)
    assert [s.outcome for s in sites] == ["rewrite"]  # one rtnl_lock(), three unlocks
    text = text.replace("\treturn 0;\n", "\trtnl_lock();\n\trtnl_unlock();\n\treturn 0;\n")
    sites = assert_migration(text, net(text), rule=RULE, pack=PACK)
    assert [len(s.edits) for s in sites] == [6, 0]
    assert all(e.replacement.startswith("rtnl_net_") for e in sites[0].edits)


@pytest.mark.parametrize("case", sorted(CASES.glob("*-rewrite.c")), ids=lambda p: p.name)
def test_the_rewrites_keep_the_lock_balanced(case: Path) -> None:
    """The verifier's lock-balance check (the pack's pairs) finds nothing new."""
    before = case.read_text()
    sites = assert_migration(before, net(before), rule=RULE, pack=PACK)
    after = apply_edits(before.encode(), [e for s in sites for e in s.edits])
    found = check_rewrite("drivers/net/example.c", before.encode(), after, PAIRS)
    assert not [v for v in found if v.check == "lock-balance"], found
