"""Lock balance on every path (migrator.verify.locks via source.check_rewrite): each
wrong rewrite is caught with its path, each right one passes, and each construct the
right one relies on is shown to be analysed (its wrong twin is caught)."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.packs import load_pack
from migrator.verify.cfg import build_cfg
from migrator.verify.locks import HELD_AT_EXIT, NOT_HELD, TAKEN_TWICE, check_function
from migrator.verify.model import LockPair, Violation
from migrator.verify.source import check_rewrite, functions, load_pairs

CASES = Path("/work/shared/cases")
TWINLINK = Path(__file__).resolve().parent / "fixtures" / "verify" / "twinlink.c"
PAIRS = load_pairs(load_pack().pairs_file)


def lock_violations(original: str, patched: str) -> list[Violation]:
    found = check_rewrite("drivers/net/x.c", original.encode(), patched.encode(), PAIRS)
    return [v for v in found if v.check == "lock-balance"]


def findings(text: str) -> list[tuple[str, tuple[str, str]]]:
    """Every finding of every function of `text`, pre-existing ones included."""
    out = []
    for fn in functions(text.encode()):
        cfg = build_cfg(fn.chunk, fn.node, fn.line_base, fn.name)
        out.extend((f.kind, f.lock) for f in check_function(cfg, fn.chunk, PAIRS, fn.line_base))
    return out


def path_lines(violation: Violation) -> list[int]:
    line = next(e for e in violation.evidence if e.startswith("path"))
    return [int(n) for n in line.split(":", 1)[1].replace("...", "").split(",") if n.strip()
            and n.strip().isdigit()]


def line_of(text: str, needle: str, nth: int = 0) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return lines[nth]


def test_pairs_are_data_of_the_rule_set() -> None:
    names = {(p.acquire, p.release) for p in PAIRS}
    assert ("lock_netdev", "unlock_netdev") in names
    assert ("double_lock_netdev", "double_unlock_netdev") in names
    assert ("attach_nd_lock", "detach_nd_lock") in names
    assert ("rtnl_lock_killable", "rtnl_unlock") in names
    assert load_pairs(Path("/nonexistent-pack/data/locks.toml")) == ()


def test_load_pairs_rejects_a_malformed_file(tmp_path: Path) -> None:
    from migrator.model.errors import MigratorError

    (tmp_path / "locks.toml").write_text(
        '[[pair]]\nacquire = "a"\nrelease = "b"\nheld_on = "sometimes"\n')
    with pytest.raises(MigratorError, match="held_on"):
        load_pairs(tmp_path / "locks.toml")


# --- T2 with the shared label (cases/t2-shared-label) ----------------------------------

T2_BAD_ATTACH = "\terr = register_netdevice(peer);"
T2_ATTACH = ("\tattach_nd_lock(peer, rcu_dereference_protected(dev->nd_lock, true));\n"
             "\terr = __register_netdevice(peer);")


def twinlink() -> str:
    return TWINLINK.read_text()


def test_detach_at_a_label_reached_before_the_attach_is_caught() -> None:
    original = twinlink()
    patched = original.replace(T2_BAD_ATTACH, T2_ATTACH).replace(
        "err_register_peer:\n\tfree_netdev(peer);",
        "err_register_peer:\n\tdetach_nd_lock(peer);\n\tfree_netdev(peer);")
    found = lock_violations(original, patched)
    assert len(found) == 1, found
    violation = found[0]
    assert violation.function == "twinlink_newlink"
    assert "detach_nd_lock(peer)" in violation.message and "never took" in violation.message
    path = path_lines(violation)
    # the early goto (headroom check) is on the path, the attach is not
    assert line_of(patched, "goto err_register_peer;") in path
    assert line_of(patched, "attach_nd_lock(peer") not in path
    assert path[-1] == line_of(patched, "detach_nd_lock(peer);")


def test_split_label_is_accepted() -> None:
    original = twinlink()
    patched = original.replace(T2_BAD_ATTACH, T2_ATTACH).replace(
        "\terr = __register_netdevice(peer);\n\tif (err < 0)\n\t\tgoto err_register_peer;",
        "\terr = __register_netdevice(peer);\n\tif (err < 0)\n\t\tgoto err_detach_peer;",
    ).replace("err_register_peer:\n\tfree_netdev(peer);",
              "err_detach_peer:\n\tdetach_nd_lock(peer);\nerr_register_peer:\n"
              "\tfree_netdev(peer);")
    assert "err_detach_peer:" in patched and "goto err_detach_peer;" in patched
    assert lock_violations(original, patched) == []


# --- lock_netdev() / unlock_netdev() ----------------------------------------------------

ORIGINAL = """\
static int foo_move(struct net_device *dev, struct net *net)
{
	int err;

	err = foo_prepare(dev);
	if (err)
		goto out;
	err = dev_change_net_namespace(dev, net, "foo%d");
	if (err)
		goto out;
	foo_done(dev);
out:
	return err;
}
"""

GOOD = """\
static int foo_move(struct net_device *dev, struct net *net)
{
	struct nd_lock *nd_lock;
	int err;

	err = foo_prepare(dev);
	if (err)
		goto out;
	if (!lock_netdev(dev, &nd_lock))
		return -ENODEV;
	err = dev_change_net_namespace(dev, net, "foo%d");
	unlock_netdev(nd_lock);
	if (err)
		goto out;
	foo_done(dev);
out:
	return err;
}
"""


def test_correct_bracket_passes() -> None:
    assert lock_violations(ORIGINAL, GOOD) == []


def test_unlock_missing_on_one_goto_path_is_caught() -> None:
    bad = GOOD.replace("""\
	err = dev_change_net_namespace(dev, net, "foo%d");
	unlock_netdev(nd_lock);
	if (err)
		goto out;
	foo_done(dev);
""", """\
	err = dev_change_net_namespace(dev, net, "foo%d");
	if (err)
		goto out;
	unlock_netdev(nd_lock);
	foo_done(dev);
""")
    found = lock_violations(ORIGINAL, bad)
    assert [v.message for v in found] == [
        "foo_move(): a path returns without unlock_netdev(nd_lock) after taking that lock "
        f"(line {line_of(bad, 'return err;')})"]
    path = path_lines(found[0])
    assert line_of(bad, "if (!lock_netdev") in path
    assert line_of(bad, "goto out;", 1) in path
    assert line_of(bad, "unlock_netdev(nd_lock);") not in path


def test_lock_taken_twice_is_caught() -> None:
    bad = GOOD.replace("\tunlock_netdev(nd_lock);\n",
                       "\tif (!lock_netdev(dev, &nd_lock))\n\t\treturn -ENODEV;\n"
                       "\tunlock_netdev(nd_lock);\n")
    kinds = {(f[0], f[1][1]) for f in findings(bad)}
    assert (TAKEN_TWICE, "nd_lock") in kinds
    assert any("while already holding it" in v.message for v in lock_violations(ORIGINAL, bad))


def test_unlock_without_lock_is_caught() -> None:
    bad = ORIGINAL.replace("\tfoo_done(dev);\n", "\tfoo_done(dev);\n\tunlock_netdev(nd_lock);\n")
    found = lock_violations(ORIGINAL, bad)
    assert len(found) == 1 and "never took" in found[0].message
    assert found[0].line == line_of(bad, "unlock_netdev(nd_lock);")


def test_false_branch_of_lock_netdev_must_not_unlock() -> None:
    good = ORIGINAL.replace('\terr = dev_change_net_namespace(dev, net, "foo%d");\n', """\
	err = -ENODEV;
	if (lock_netdev(dev, &nd_lock)) {
		err = dev_change_net_namespace(dev, net, "foo%d");
		unlock_netdev(nd_lock);
	}
""")
    assert lock_violations(ORIGINAL, good) == []
    bad = good.replace("\t\tunlock_netdev(nd_lock);\n\t}\n",
                       "\t\tunlock_netdev(nd_lock);\n\t} else {\n"
                       "\t\tunlock_netdev(nd_lock);\n\t}\n")
    found = lock_violations(ORIGINAL, bad)
    assert len(found) == 1 and "never took" in found[0].message
    assert found[0].line == line_of(bad, "unlock_netdev(nd_lock);", 1)


def test_what_the_original_already_does_is_not_the_rewrites() -> None:
    # A function returning with RTNL held for its caller: not reported after a rewrite
    # that only adds a balanced bracket, but the analysis does see it.
    original = """\
static int foo_begin(struct net_device *dev)
{
	rtnl_lock();
	foo_prepare(dev);
	return 0;
}
"""
    patched = original.replace("\tfoo_prepare(dev);\n",
                               "\tif (lock_netdev(dev, &nd_lock)) {\n\t\tfoo_prepare(dev);\n"
                               "\t\tunlock_netdev(nd_lock);\n\t}\n")
    assert (HELD_AT_EXIT, ("rtnl_unlock", "")) in findings(patched)
    assert lock_violations(original, patched) == []
    # ...while a new lock left held is reported
    worse = patched.replace("\t\tunlock_netdev(nd_lock);\n", "")
    assert len(lock_violations(original, worse)) == 1


# --- acquires that can fail ------------------------------------------------------------

T0_ORIGINAL = """\
static int __net_init foo_net_init(struct net *net)
{
	struct net_device *dev = foo_alloc(net);
	int err;

	err = register_netdev(dev);
	if (err)
		goto out_free;
	return 0;
out_free:
	free_netdev(dev);
	return err;
}
"""

T0_GOOD = T0_ORIGINAL.replace("""\
	err = register_netdev(dev);
""", """\
	err = rtnl_lock_killable();
	if (!err) {
		err = register_netdevice(dev);
		rtnl_unlock();
	}
""")


def test_rtnl_lock_killable_held_only_when_it_returned_zero() -> None:
    assert lock_violations(T0_ORIGINAL, T0_GOOD) == []
    early = T0_ORIGINAL.replace("""\
	err = register_netdev(dev);
	if (err)
		goto out_free;
""", """\
	err = rtnl_lock_killable();
	if (err)
		return err;
	err = register_netdevice(dev);
	rtnl_unlock();
	if (err)
		goto out_free;
""")
    assert lock_violations(T0_ORIGINAL, early) == []
    # the unlock outside the `if (!err)`: reached when the lock was not taken
    bad = T0_GOOD.replace("\t\trtnl_unlock();\n\t}\n", "\t}\n\trtnl_unlock();\n")
    found = lock_violations(T0_ORIGINAL, bad)
    assert len(found) == 1 and "rtnl_unlock()" in found[0].message
    assert "never took" in found[0].message


def test_condition_forms() -> None:
    original = "int f(struct net_device *a, struct net_device *b)\n{\n\treturn g(a, b);\n}\n"
    forms = [
        "\tif (!double_lock_netdev(a, &nd_lock, b, &nd_lock2))\n\t\treturn -ENODEV;\n"
        "\terr = g(a, b);\n\tdouble_unlock_netdev(nd_lock, nd_lock2);\n\treturn err;\n",
        "\tok = lock_netdev(a, &nd_lock);\n\tif (!ok)\n\t\treturn -ENODEV;\n"
        "\terr = g(a, b);\n\tunlock_netdev(nd_lock);\n\treturn err;\n",
        "\tif (a && lock_netdev(a, &nd_lock)) {\n\t\terr = g(a, b);\n"
        "\t\tunlock_netdev(nd_lock);\n\t}\n\treturn err;\n",
        "\tif ((err = rtnl_lock_killable()) != 0)\n\t\treturn err;\n"
        "\terr = g(a, b);\n\trtnl_unlock();\n\treturn err;\n",
        "\tif (!rtnl_trylock())\n\t\treturn restart_syscall();\n"
        "\terr = g(a, b);\n\trtnl_unlock();\n\treturn err;\n",
        "\tif (!attach_new_nd_lock(a)) {\n\t\tfree_netdev(a);\n\t\treturn -ENOMEM;\n\t}\n"
        "\terr = g(a, b);\n\tif (err)\n\t\tdetach_nd_lock(a);\n\treturn err;\n",
    ]
    for body in forms:
        patched = original.replace("\treturn g(a, b);\n", body)
        assert lock_violations(original, patched) == [], body
        # each form's release moved to the failure branch is caught
        swapped = patched.replace("\t\treturn -ENODEV;\n", "\t\tgoto bad;\n").replace(
            "\t\treturn err;\n", "\t\tgoto bad;\n").replace(
            "\t\treturn restart_syscall();\n", "\t\tgoto bad;\n").replace(
            "\t\treturn -ENOMEM;\n", "\t\tgoto bad;\n")
        if "goto bad;" in swapped:
            release = next(line for line in swapped.splitlines()
                           if "unlock" in line or "detach" in line).strip()
            swapped = swapped.rstrip("}\n") + f"\nbad:\n\t{release}\n\treturn -1;\n}}\n"
            assert lock_violations(original, swapped), swapped


# --- constructs: right versions pass, broken twins are caught --------------------------

CONSTRUCTS = {
    "switch fall-through": """\
	if (!lock_netdev(dev, &nd_lock))
		return -ENODEV;
	switch (mode) {
	case 1:
		err = prep(dev);
		/* fall through */
	case 2:
		err = work(dev);
		unlock_netdev(nd_lock);
		break;
	default:
		unlock_netdev(nd_lock);
		err = 0;
	}
""",
    "loop with break and continue": """\
	for (i = 0; i < n; i++) {
		if (!lock_netdev(devs[i], &nd_lock))
			continue;
		if (bad(devs[i])) {
			unlock_netdev(nd_lock);
			break;
		}
		err = work(devs[i]);
		unlock_netdev(nd_lock);
	}
	while (mode--) {
		if (!lock_netdev(dev, &nd_lock))
			break;
		unlock_netdev(nd_lock);
	}
	do {
		mutex_lock(&fallback_nd_lock.mutex);
		err = work(dev);
		mutex_unlock(&fallback_nd_lock.mutex);
	} while (err == -EAGAIN);
""",
    "statement expression": """\
	err = ({
		int __r = -ENODEV;

		if (lock_netdev(dev, &nd_lock)) {
			__r = work(dev);
			unlock_netdev(nd_lock);
		}
		__r;
	});
""",
    "scoped_guard": """\
	scoped_guard(mutex, &foo_mutex) {
		if (!lock_netdev(dev, &nd_lock))
			return -ENODEV;
		err = work(dev);
		unlock_netdev(nd_lock);
	}
	list_for_each_entry(p, &foo_list, list) {
		if (!lock_netdev(p->dev, &nd_lock))
			continue;
		work(p->dev);
		unlock_netdev(nd_lock);
	}
""",
    "ifdef arms": """\
	if (!lock_netdev(dev, &nd_lock))
		return -ENODEV;
#ifdef CONFIG_FOO
	err = work(dev);
#else
	err = 0;
#endif
	unlock_netdev(nd_lock);
""",
}

TEMPLATE = """\
static int foo_op(struct net_device *dev, struct net_device **devs, int n, int mode)
{
	struct nd_lock *nd_lock;
	struct foo_port *p;
	int err = 0, i;

{body}	return err;
}
"""

# How to break each right version: (old, new) replacements.
BREAKS = {
    "switch fall-through": [("\tdefault:\n\t\tunlock_netdev(nd_lock);\n", "\tdefault:\n")],
    "loop with break and continue": [("\t\t\tunlock_netdev(nd_lock);\n\t\t\tbreak;",
                                      "\t\t\tbreak;")],
    "statement expression": [("\t\t\tunlock_netdev(nd_lock);\n\t\t}\n\t\t__r;",
                              "\t\t}\n\t\tunlock_netdev(nd_lock);\n\t\t__r;")],
    "scoped_guard": [("\t\t\tcontinue;\n\t\twork(p->dev);\n\t\tunlock_netdev(nd_lock);",
                      "\t\t\tcontinue;\n\t\twork(p->dev);")],
    "ifdef arms": [("#else\n\terr = 0;\n", "#else\n\terr = 0;\n\tunlock_netdev(nd_lock);\n")],
}


@pytest.mark.parametrize("name", sorted(CONSTRUCTS))
def test_construct_right_passes_and_broken_twin_is_caught(name: str) -> None:
    original = TEMPLATE.replace("{body}", "")
    right = TEMPLATE.replace("{body}", CONSTRUCTS[name])
    assert functions(right.encode())[0].has_error is False
    assert lock_violations(original, right) == []
    broken = right
    for old, new in BREAKS[name]:
        assert old in broken, (name, old)
        broken = broken.replace(old, new, 1)
    assert lock_violations(original, broken), name


def test_lock_twice_in_a_loop_body_without_unlock() -> None:
    bad = TEMPLATE.replace("{body}", """\
	for (i = 0; i < n; i++)
		mutex_lock(&fallback_nd_lock.mutex);
	mutex_unlock(&fallback_nd_lock.mutex);
""")
    assert (TAKEN_TWICE, ("mutex_unlock", "fallback_nd_lock.mutex")) in findings(bad)
    assert (NOT_HELD, ("mutex_unlock", "fallback_nd_lock.mutex")) in findings(bad)
    # other mutexes are not the pack's: `only` keeps them out
    other = bad.replace("fallback_nd_lock.mutex", "priv->lock")
    assert findings(other) == []


def test_pair_instance_member() -> None:
    pairs = [LockPair("mutex_trylock", "unlock_netdev", "true", 0, 0, only="nd_lock",
                      acquire_member="mutex")]
    text = b"""int f(struct net_device *dev)
{
	nd_lock = alloc_nd_lock();
	WARN_ON_ONCE(!mutex_trylock(&nd_lock->mutex));
	attach_nd_lock(dev, nd_lock);
	unlock_netdev(nd_lock);
	unlock_netdev(nd_lock);
	return 0;
}
"""
    fn = functions(text)[0]
    cfg = build_cfg(fn.chunk, fn.node, fn.line_base, fn.name)
    found = check_function(cfg, fn.chunk, pairs, fn.line_base)
    assert [(f.kind, f.lock, f.line) for f in found] == [(NOT_HELD, ("unlock_netdev", "nd_lock"),
                                                          7)]


def test_a_function_that_no_longer_parses_is_a_violation() -> None:
    broken = GOOD.replace("\tif (!lock_netdev(dev, &nd_lock))\n",
                          "\tif (!lock_netdev(dev, &nd_lock)\n")
    found = check_rewrite("x.c", ORIGINAL.encode(), broken.encode(), PAIRS)
    assert any(v.check == "parse" and v.function == "foo_move" for v in found)


@pytest.mark.skipif(not (CASES / "t2-shared-label" / "twinlink.c").is_file(),
                    reason="shared cases folder not present")
def test_fixture_is_the_shared_case() -> None:
    assert TWINLINK.read_text() == (CASES / "t2-shared-label" / "twinlink.c").read_text()


# --- attach -> detach: the device must not be freed while attached ----------------------

PEER_ORIGINAL = """\
static int foo_newlink(struct net_device *dev, struct net_device *peer)
{
	int err;

	err = register_netdevice(peer);
	if (err < 0)
		goto err_register_peer;
	err = register_netdevice(dev);
	if (err < 0)
		goto err_register_dev;
	return 0;

err_register_dev:
	unregister_netdevice(peer);
	return err;
err_register_peer:
	free_netdev(peer);
	return err;
}
"""

PEER_GOOD = PEER_ORIGINAL.replace(
    "\terr = register_netdevice(peer);\n",
    "\tattach_nd_lock(peer, rcu_dereference_protected(dev->nd_lock, true));\n"
    "\terr = __register_netdevice(peer);\n").replace(
    "err_register_peer:\n\tfree_netdev(peer);", "err_register_peer:\n\tdetach_nd_lock(peer);\n"
    "\tfree_netdev(peer);").replace("\tunregister_netdevice(peer);",
                                     "\t__unregister_netdevice(peer);")


def test_detach_before_free_and_unregister_detaches() -> None:
    assert lock_violations(PEER_ORIGINAL, PEER_GOOD) == []
    bad = PEER_GOOD.replace("\tdetach_nd_lock(peer);\n", "")
    found = lock_violations(PEER_ORIGINAL, bad)
    assert [v.message for v in found] == [
        "foo_newlink(): a path reaches free_netdev(peer) without detach_nd_lock(peer) first "
        f"(line {line_of(bad, 'free_netdev(peer);')})"]
    assert line_of(bad, "goto err_register_peer;") in path_lines(found[0])
    # after __unregister_netdevice() the device is no longer attached: a detach there is
    # a release of something not held
    worse = PEER_GOOD.replace("\t__unregister_netdevice(peer);\n",
                              "\t__unregister_netdevice(peer);\n\tdetach_nd_lock(peer);\n")
    assert any("never took" in v.message for v in lock_violations(PEER_ORIGINAL, worse))


def test_detach_on_the_error_test_then_errno_goto() -> None:
    # `if (ret) detach; if (ret < 0) goto err;` -- err frees: ret != 0 was detached
    original = """\
int foo_add(struct net_device *ndev)
{
	int ret;

	ret = register_netdevice(ndev);
	if (ret < 0)
		goto err;
	return 0;
err:
	free_netdev(ndev);
	return ret;
}
"""
    good = original.replace("\tret = register_netdevice(ndev);\n",
                            "\tattach_nd_lock(ndev, &fallback_nd_lock);\n"
                            "\tret = __register_netdevice(ndev);\n\tif (ret)\n"
                            "\t\tdetach_nd_lock(ndev);\n")
    assert lock_violations(original, good) == []
    bad = good.replace("\tif (ret)\n\t\tdetach_nd_lock(ndev);\n", "\tif (ret > 0)\n"
                       "\t\tdetach_nd_lock(ndev);\n")
    assert lock_violations(original, bad)


def test_error_returned_while_attached() -> None:
    original = """\
int foo_register(struct net_device *dev)
{
	int ret;

	ret = register_netdevice(dev);
	if (ret)
		return ret;
	foo_done(dev);
	return 0;
}
"""
    good = original.replace("\tret = register_netdevice(dev);\n\tif (ret)\n",
                            "\tattach_nd_lock(dev, &fallback_nd_lock);\n"
                            "\tret = __register_netdevice(dev);\n\tif (ret)\n"
                            "\t\tdetach_nd_lock(dev);\n\tif (ret)\n")
    assert lock_violations(original, good) == []
    bad = good.replace("\tif (ret)\n\t\tdetach_nd_lock(dev);\n", "")
    found = lock_violations(original, bad)
    assert [v.message for v in found] == [
        "foo_register(): a path returns an error without detach_nd_lock(dev) "
        f"(line {line_of(bad, 'return ret;')})"]
    # -ENOMEM and ERR_PTR() are errors too; a pointer known non-NULL is not
    for value in ("-ENOMEM", "ERR_PTR(ret)"):
        assert lock_violations(original, bad.replace("\t\treturn ret;", f"\t\treturn {value};"))
    pointer = """\
struct net_device *foo_add(struct foo *foo)
{
	struct net_device *ndev = foo_alloc(foo);

	if (!ndev)
		return ERR_PTR(-ENOMEM);
	attach_nd_lock(ndev, &fallback_nd_lock);
	if (__register_netdevice(ndev))
		goto err;
	return ndev;
err:
	detach_nd_lock(ndev);
	free_netdev(ndev);
	return ERR_PTR(-EINVAL);
}
"""
    assert [v for v in findings(pointer)] == []
