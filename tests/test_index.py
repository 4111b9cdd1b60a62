"""Tree index on a small kernel-style tree: what is found, closure, cache, determinism."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from kernel_mini import REQUEST, make_tree

from migrator.index import cache as cachedb
from migrator.index.build import IndexBuilder, build_index
from migrator.index.tree_index import TreeIndex
from migrator.parse.tree import extract_chunk


def fnset(index: TreeIndex) -> set[tuple[str, str]]:
    return {(f.file, f.name) for f in index.functions()}


def snapshot(index: TreeIndex) -> tuple[object, ...]:
    return (sorted((f.file, f.name, f.line, f.start, f.end) for f in index.functions()),
            sorted((c.file, c.line, c.start, c.caller, c.callee, c.via_member, c.args)
                   for c in index.calls()),
            sorted((s.file, s.line, s.var, s.members) for s in index.inits))


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "tree")


def test_finds_functions_calls_and_cross_file_closure(tree: Path) -> None:
    index = build_index(tree, REQUEST, jobs=1)
    fns = fnset(index)
    assert {("drivers/net/foo.c", "foo_setup"), ("drivers/net/foo.c", "foo_newlink"),
            ("drivers/net/foo.c", "foo_changelink")} <= fns
    # foo_changelink -> shared_helper (lib.c) -> deep_helper -> register_netdevice
    assert {("drivers/net/lib.c", "shared_helper"), ("drivers/net/lib.c", "deep_helper")} <= fns
    calls = {(c.caller, c.callee, c.line) for c in index.calls()}
    assert ("foo_setup", "register_netdevice", 7) in calls
    assert ("deep_helper", "register_netdevice", 10) in calls
    call = next(c for c in index.calls() if c.caller == "foo_setup")
    assert call.args == ("dev",) and not call.via_member
    assert tree.joinpath(call.file).read_bytes()[call.start:call.end] == b"register_netdevice(dev)"
    assert index.rounds >= 2
    assert ("fs/unrelated.c", "unrelated") not in fns


def test_static_definition_wins_in_its_file(tree: Path) -> None:
    index = build_index(tree, REQUEST, jobs=1)
    defs = index.functions_by_name["shared_helper"]
    assert {(d.file, d.is_static) for d in defs} >= {("drivers/net/lib.c", False),
                                                       ("drivers/net/bar.c", True)}


def test_member_call_and_initializers(tree: Path) -> None:
    index = build_index(tree, REQUEST, jobs=1)
    fns = fnset(index)
    assert ("drivers/net/wdrv.c", "wdrv_newlink") in fns
    member = [c for c in index.calls() if c.via_member and c.caller == "wcore_newlink"]
    assert [(c.callee, c.receiver) for c in member] == [("newlink", "ops")]
    (wdrv_ops,) = [s for s in index.inits if s.var == "wdrv_ops"]
    assert wdrv_ops.struct_type == "wops" and wdrv_ops.members == (("newlink", "wdrv_newlink"),)
    (handlers,) = index.inits_of("rtnl_msg_handler")
    assert handlers.is_array
    assert handlers.elements() == [
        {"msgtype": "RTM_NEWLINK", "doit": "h_newlink", "flags": "RTNL_FLAG_DOIT_UNLOCKED"},
        {"msgtype": "RTM_GETLINK", "dumpit": "h_dump"}]
    (nested,) = index.inits_of("nested_ops")
    assert nested.members == (("inner.newlink", "h_newlink"), ("inner.deep.x", "h_x"),
                              ("name", '"n"'))
    (ops,) = [s for s in index.inits if s.var == "foo_link_ops"]
    assert ("newlink", "foo_newlink") in ops.members


def test_rtnl_boundary_and_local_names_stop_the_search(tree: Path) -> None:
    index = build_index(tree, REQUEST, jobs=1)
    fns = fnset(index)
    assert ("drivers/net/ioctl.c", "ioctl_create") in fns
    # foo_ioctl takes RTNL: nobody looks for its callers
    assert "drivers/net/ioctl_user.c" not in index.files
    # loc_probe only reaches the local name register_netdev: followed in loc.c only
    assert {("drivers/net/loc.c", "loc_helper"), ("drivers/net/loc.c", "loc_probe")} <= fns
    assert "drivers/net/loc_user.c" not in index.files


def test_scope_limits_tree_wide_searches(tmp_path: Path) -> None:
    files = {
        "a.c": "int helper(struct net_device *d)\n{\n\treturn register_netdevice(d);\n}\n",
        "b.c": "int user_b(struct net_device *d)\n{\n\treturn helper(d);\n}\n",
        "c.c": "int user_c(void *d)\n{\n\treturn helper(d);\n}\n",  # no net_device
    }
    tree = make_tree(tmp_path / "t", files)
    fns = fnset(build_index(tree, REQUEST, jobs=1))
    assert ("b.c", "user_b") in fns and ("c.c", "user_c") not in fns


def test_untracked_files_are_indexed(tree: Path) -> None:
    (tree / "drivers/net/new.c").write_text(
        "int newf(struct net_device *d)\n{\n\treturn register_netdevice(d);\n}\n")
    assert ("drivers/net/new.c", "newf") in fnset(build_index(tree, REQUEST, jobs=1))


def test_not_a_git_tree(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "plain", commit=False)
    index = build_index(tree, REQUEST, jobs=1)
    assert ("drivers/net/lib.c", "deep_helper") in fnset(index)


def test_deterministic_and_parallel_equal(tree: Path) -> None:
    first = snapshot(build_index(tree, REQUEST, jobs=1))
    assert snapshot(build_index(tree, REQUEST, jobs=1)) == first
    assert snapshot(build_index(tree, REQUEST, jobs=2)) == first


def test_nested_calls_get_their_own_callee() -> None:
    """Regression: tree-sitter's per-name capture lists are not aligned with each other
    (nor stably ordered) for nested calls; each call must keep its own callee/args."""
    chunk = (b"static int f(void *t)\n{\n\tswitch (x) {\n\tcase 1:\n\t\ta(0);\n\t\tbreak;\n"
             b"\tcase 2:\n\t\tb()->s = c();\n\t\td(e(f(1)), g(2));\n\t}\n\treturn 0;\n}\n")
    seen = set()
    for _ in range(50):
        facts = extract_chunk(chunk)
        seen.add(tuple((c.callee, c.line, c.args) for c in facts.calls))
    assert seen == {(("a", 4, ("0",)), ("b", 7, ()), ("c", 7, ()),
                     ("d", 8, ("e(f(1))", "g(2)")), ("e", 8, ("f(1)",)), ("f", 8, ("1",)),
                     ("g", 8, ("2",)))}


def test_cache_hit_and_corrupt_cache(tree: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    first = snapshot(build_index(tree, REQUEST, jobs=1, cache_dir=cache))
    cachedb.close_all()
    database = cache / "cache.sqlite3"
    assert sorted(p.name for p in cache.iterdir()) == ["cache.sqlite3"]

    def no_closure(self: IndexBuilder) -> None:
        raise AssertionError("the cached index should have been used")

    with monkeypatch.context() as m:
        m.setattr(IndexBuilder, "_closure", no_closure)
        assert snapshot(build_index(tree, REQUEST, jobs=1, cache_dir=cache)) == first
    # a changed file invalidates the index (the chunk cache still serves the rest)
    lib = tree / "drivers/net/lib.c"
    lib.write_text(lib.read_text().replace("deep_helper", "deeper_helper"))
    changed = build_index(tree, REQUEST, jobs=1, cache_dir=cache)
    assert ("drivers/net/lib.c", "deeper_helper") in fnset(changed)
    lib.write_text(lib.read_text().replace("deeper_helper", "deep_helper"))
    # a corrupt database is rebuilt, with a warning
    cachedb.close_all()
    database.write_bytes(b"\x80\x04garbage" * 1000)
    assert snapshot(build_index(tree, REQUEST, jobs=1, cache_dir=cache)) == first
    assert f"{database}: unreadable cache" in capsys.readouterr().err
    info = cachedb.open_cache(cache).info()
    assert info.results == {"index": 1} and info.chunks > 0  # rewritten
    cachedb.close_all()
