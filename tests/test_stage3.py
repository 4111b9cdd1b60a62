"""Stage 3 before/after fixtures (corpus/stages/stage3): T3, T4, T5 (--t5=rewrite), T7
helper + callers, and the review cases; a second run on the result changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrator.commands.status import census
from migrator.edit import cedit
from migrator.edit.edits import apply_edits, group_by_file
from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine
from migrator.parse.tree import count_errors
from migrator.testing import finder_module

FIX = Path(__file__).resolve().parent.parent / "corpus" / "stages" / "stage3"
T5_FINDER = finder_module("stage3-t5-notifier")  # the rule's finder.py, as the engine loads it
OPTS = {"families": ["net/wfam", "net/wlock"], "t5": "rewrite"}
# drivers/net/s3t5.c: one function per registration shape, all run by t5_event().
T5_REWRITE = ("t5_tested", "t5_tested_braced", "t5_assigned", "t5_stored_neg", "t5_returned",
              "t5_returned_bare")
T5_REVIEW = {
    "t5_returned_inner": "`err` is declared in an inner block",
    "t5_nested": "used inside another expression: `return notifier_from_errno(",
    "t5_warn_only": "error branch does not end in return, goto, break or continue",
    "t5_ignored": "result of register_netdevice() is ignored",
    "t5_declared": "initializer of a declaration",
}


def _plan(tree: Path, **opts: object):  # type: ignore[no-untyped-def]
    return open_engine(tree, PlanOptions(use_cache=False, rule_options=opts)).plan(3)


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tree = tmp_path_factory.mktemp("s3") / "tree"
    shutil.copytree(FIX / "before", tree)
    p = _plan(tree, **OPTS)
    for f, es in group_by_file(p.edits).items():
        (tree / f).write_bytes(apply_edits((tree / f).read_bytes(), es))
    return tree, p


def _files() -> list[str]:
    return sorted(str(p.relative_to(FIX / "after")) for p in (FIX / "after").rglob("*.c"))


@pytest.mark.parametrize("rel", _files())
def test_after_exact(converted, rel: str) -> None:  # type: ignore[no-untyped-def]
    tree, _ = converted
    assert (tree / rel).read_bytes() == (FIX / "after" / rel).read_bytes()


def test_outcomes(converted) -> None:  # type: ignore[no-untyped-def]
    _, p = converted
    got = {s.function: (s.template, s.outcome) for s in p.sites}
    assert got == {
        "s3_private": ("T4", "rewrite"), "s3_child": ("T3", "rewrite"),
        "s3_child_store": ("T3", "rewrite"), "s3_probe": ("T4", "rewrite"),
        # the T0 form stage 1 writes: a private lock by design, converted already
        "s3_standalone": ("T4", "already_done"),
        "s3_returns": ("T4", "review"), "s3_leaky": ("T4", "review"),
        "s3_event": ("T5", "rewrite"), "register_netdev": ("core", "review"),
        "wfam_register": ("T7", "rewrite"), "wfam_add_iface": ("T7", "rewrite"),
        "wlock_register": ("T7", "review"), "wlock_add": ("T7", "review"),
        **{f: ("T5", "rewrite") for f in T5_REWRITE},
        **{f: ("T5", "review") for f in T5_REVIEW},
    }
    by = {s.function: s for s in p.sites}
    assert "core API" in by["register_netdev"].reason
    assert "line 114: goto out_free;" in by["s3_leaky"].reason
    assert "return statement" in by["s3_returns"].reason
    assert not by["wlock_register"].edits and not by["wlock_add"].edits
    # the caller holding the subsystem lock is the place to change: a site of its own
    assert any("wlock_add(): review site of its own" in e
               for e in by["wlock_register"].evidence)
    assert "before the subsystem's own lock" in by["wlock_add"].reason
    assert any(e.startswith("lock held: mutex_lock(&phy->mtx)")
               for e in by["wlock_add"].evidence)
    assert any("parent device: lower" in e for e in by["s3_child"].evidence)


def test_idempotent(converted) -> None:  # type: ignore[no-untyped-def]
    tree, _ = converted
    assert not _plan(tree, **OPTS).edits


def test_defaults_review(tmp_path: Path) -> None:
    shutil.copytree(FIX / "before", tmp_path / "t")
    p = _plan(tmp_path / "t", t5="review")
    got = {s.function: (s.template, s.outcome, bool(s.edits)) for s in p.sites}
    assert got["s3_event"] == ("T5", "review", False)
    for f in (*T5_REWRITE, *T5_REVIEW):
        assert got[f] == ("T5", "review", False)
    assert got["wfam_register"] == ("T4", "review", False)  # not a configured family
    assert "wfam_add_iface" not in got


S6 = FIX.parent / "stage6"
SAMPLE_DEV_C = FIX.parent.parent / "sample" / "net" / "core" / "dev.c"  # the before text


def _core_sites(tree: Path, with_core: bool = True) -> list:  # type: ignore[type-arg]
    opts = PlanOptions(use_cache=False, rule_options={"with_core": with_core})
    return [s for s in open_engine(tree, opts).plan(6).sites if s.template == "core"]


def _sample_dev_c(tmp_path: Path) -> Path:
    (tmp_path / "t/net/core").mkdir(parents=True)
    shutil.copy(SAMPLE_DEV_C, tmp_path / "t/net/core/dev.c")
    return tmp_path / "t"


def test_stage6_core_rewrite(tmp_path: Path) -> None:
    """--with-core: the replayed NETDEV_REGISTER runs under lock_netdev(); a device whose
    lock cannot be taken leaves by the replay's existing error exit."""
    tree = _sample_dev_c(tmp_path)
    sites = _core_sites(tree)
    assert [(s.file, s.function, s.line, s.outcome) for s in sites] == [
        ("net/core/dev.c", "call_netdevice_register_notifiers", 32, "rewrite")]
    assert list(sites[0].evidence[1:]) == [
        "net/core/dev.c:59 caller: err = call_netdevice_register_notifiers(nb, dev);",
        "net/core/dev.c:67 rollback: for_each_netdev_continue_reverse(net, dev) -> "
        "NETDEV_UNREGISTER to the devices before the failing one only",
        "net/core/dev.c:82 replay entry: call_netdevice_register_net_notifiers()",
        "net/core/dev.c:34 if (err) return err; is the existing exit for a device that got "
        "no NETDEV_REGISTER; a failed lock_netdev() takes it with -ENODEV"]
    path = tree / "net/core/dev.c"
    path.write_bytes(apply_edits(path.read_bytes(), sites[0].edits))
    assert path.read_bytes() == (S6 / "after/net/core/dev.c").read_bytes()
    # idempotent: the converted replay is done, nothing left to edit
    assert [(s.function, s.outcome, s.edits) for s in _core_sites(tree)] == [
        ("call_netdevice_register_notifiers", "already_done", ())]


def test_stage6_core_off_by_default(tmp_path: Path) -> None:
    assert _core_sites(_sample_dev_c(tmp_path), with_core=False) == []


def test_stage6_core_review_without_existing_exit(tmp_path: Path) -> None:
    shutil.copytree(S6 / "review", tmp_path / "t")
    sites = _core_sites(tmp_path / "t")
    assert [(s.line, s.outcome, s.edits) for s in sites] == [(12, "review", ())]
    assert "does not return err right after the call" in sites[0].reason


def test_t5_review_reasons(converted) -> None:  # type: ignore[no-untyped-def]
    """Shapes T5 cannot make safe stay review, untouched, with the precise reason."""
    _, p = converted
    by = {s.function: s for s in p.sites}
    for f, why in T5_REVIEW.items():
        assert why in by[f].reason, (f, by[f].reason)
        assert not by[f].edits
    after = (FIX / "after" / "drivers/net/s3t5.c").read_text()
    for f in T5_REVIEW:
        fn = after[after.index(f"{f}("):]
        body = fn[:fn.index("\n}\n")]
        assert "register_netdevice(dev)" in body and "nd_lock" not in body, f


def test_t5_rewritten_parse(converted) -> None:  # type: ignore[no-untyped-def]
    """The rewritten file parses as cleanly as the original, and each rewritten function
    releases the lock: one unlock per path (tested: branch + after the if)."""
    tree, _ = converted
    before = (FIX / "before" / "drivers/net/s3t5.c").read_bytes()
    after = (tree / "drivers/net/s3t5.c").read_bytes()
    assert count_errors(before) == count_errors(after) == 0
    text = after.decode()
    unlocks = {"t5_tested": 2, "t5_tested_braced": 2, "t5_assigned": 2, "t5_stored_neg": 1,
               "t5_returned": 1, "t5_returned_bare": 1}
    for f, n in unlocks.items():
        start = text.index(f"static int {f}(")
        fn = text[start:text.index("\n}\n", start)]
        assert fn.count("unlock_netdev(nd_lock);") == n, f
        assert fn.count("detach_nd_lock(dev);") == 1, f
        assert fn.count("__register_netdevice(dev)") == 1, f
        assert fn.index("alloc_nd_lock()") < fn.index("attach_nd_lock(dev, nd_lock);") \
            < fn.index("__register_netdevice(dev)"), f


def test_t5_error_value(converted) -> None:  # type: ignore[no-untyped-def]
    """-ENOMEM is set only where the registration stored its result; the bare test keeps
    the value the function set before (rc = -ENODEV)."""
    _, p = converted
    by = {s.function: s for s in p.sites}
    assert any("with the error value the function set before" in e
               for e in by["t5_tested"].evidence)
    assert any("with err = -ENOMEM" in e for e in by["t5_assigned"].evidence)
    text = (FIX / "after" / "drivers/net/s3t5.c").read_text()
    tested = text[text.index("static int t5_tested("):text.index("static int t5_tested_b")]
    assert "-ENOMEM;\n\t\tgoto" not in tested and "if (!nd_lock)\n\t\tgoto out_free;" in tested


@pytest.mark.parametrize(("cond", "want"), [
    ("register_netdevice(dev)", ""),
    ("register_netdevice(dev) < 0", ""),
    ("unlikely(register_netdevice(dev))", ""),
    ("(err = register_netdevice(dev))", "err"),
    ("(ret = register_netdevice(dev)) != 0", "ret"),
    ("unlikely((err = register_netdevice(dev)) < 0)", "err"),
    ("!register_netdevice(dev)", None),
    ("register_netdevice(dev) > 0", None),
    ("register_netdevice(dev) || busy", None),
    ("unlikely(register_netdevice(dev)) && busy(dev)", None),
    ("err = register_netdevice(dev) < 0", None),
    ("register_netdevice(other)", None),
])
def test_t5_failure_test(cond: str, want: str | None) -> None:
    """Only conditions true exactly when the registration failed are T5 error tests."""
    src = f"static int f(void)\n{{\n\tif ({cond})\n\t\treturn -EIO;\n\treturn 0;\n}}\n"
    data = src.encode()
    fn = cedit.function_node(data, data.index(b"if"))
    assert fn is not None
    check = cedit.enclosing_statement(fn, data.index(b"if"))
    assert T5_FINDER._failure_test(data, check, "dev") == want


def test_census_counts_the_t0_form_as_done(converted) -> None:  # type: ignore[no-untyped-def]
    """status: register_netdevice() in the T0 form (s3_standalone) is done before any
    rewrite; after the stage, each registration it renamed is done (done_when callee)
    and what it left for review is still to do."""

    def stage3(tree: Path) -> tuple[int, int]:
        engine = open_engine(tree, PlanOptions(use_cache=False, rule_options=OPTS))
        rows = [r for r in census(engine) if r.stage == 3]
        assert len(rows) >= 5  # stage 3's rules, one row each
        return sum(r.done for r in rows), sum(r.todo for r in rows)

    tree, plan = converted
    left = sum(s.outcome == "review" for s in plan.sites)
    # the registrations the stage converted: the new __register_netdevice() calls
    renamed = sum(p.read_bytes().count(b"__register_netdevice(") for p in tree.rglob("*.c")) \
        - sum(p.read_bytes().count(b"__register_netdevice(")
              for p in (FIX / "before").rglob("*.c"))
    assert stage3(FIX / "before") == (1, len(plan.sites) - 1)
    assert renamed >= 10
    assert stage3(tree) == (1 + renamed, left)
