"""`migrate scan` and `migrate status` on the bundled sample tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrator.cli import main

SAMPLE = Path(__file__).resolve().parent.parent / "corpus" / "sample"


def scan_json(tmp_path: Path, *args: str) -> list[dict[str, object]]:
    manifest = tmp_path / "m.json"
    assert main(["scan", "--tree", str(SAMPLE), "--no-cache", "--json", str(manifest),
                 *args]) == 0
    return json.loads(manifest.read_text())


def test_manifest_records_have_the_spec_fields(tmp_path: Path) -> None:
    sites = scan_json(tmp_path)
    assert sites
    for site in sites:
        assert {"stage", "template", "outcome", "file", "function", "line", "evidence",
                "patch"} <= site.keys()
        assert site["outcome"] in ("rewrite", "review", "report", "already_done")
        assert isinstance(site["evidence"], list) and site["evidence"]


def test_newlink_helper_in_another_file_is_found_with_its_chain(tmp_path: Path) -> None:
    sites = scan_json(tmp_path, "--stage", "2")
    helper = [s for s in sites if s["file"] == "drivers/net/foo/foo_dev_setup.c"
              and s["template"] == "T1"]
    assert helper, "register_netdevice() in a helper of another file's .newlink"
    chains = [e for s in helper for e in s["evidence"] if e.startswith("call chain:")]
    assert any("foo_newlink -> " in c and c.endswith("register_netdevice") for c in chains)
    assert all(s["outcome"] == "rewrite" for s in helper)


def test_register_outside_newlink_is_not_a_stage2_site(tmp_path: Path) -> None:
    stage2 = scan_json(tmp_path, "--stage", "2")
    stage3 = scan_json(tmp_path, "--stage", "3")
    notifier = [s for s in stage3 if s["function"] == "ghost_netdev_event"]
    assert notifier and notifier[0]["outcome"] == "review"
    assert not [s for s in stage2 if s["function"] == "ghost_netdev_event"]


def test_stage_selection(tmp_path: Path) -> None:
    assert {s["stage"] for s in scan_json(tmp_path, "--stage", "4-5")} == {4, 5}


def test_stats_report_parse_quality(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--tree", str(SAMPLE), "--no-cache", "--stats"]) == 0
    out = capsys.readouterr().out
    assert "target functions:" in out
    line = next(li for li in out.splitlines() if "target functions:" in li)
    assert "normalised" in line and "(100.00%)" in line.split("normalised")[1]


def test_status_census(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--tree", str(SAMPLE), "--no-cache"]) == 0
    out = capsys.readouterr().out
    # include/net/rtnetlink.h defines RTNL_FLAG_UNLOCKED_ALL over two lines as an alias
    # of both unlocked flags.  Registrations: net/core/rtnetlink.c has three
    # rtnl_register() calls and a designated table of five rows; net/qroute/qroute.c a
    # table of three rows without designators and one rtnl_register_module() call.
    assert ("rtnetlink: 3 out of 10 doit()s, 4 out of 5 dumpit()s run without RTNL "
            "(by registration)") in out
    # rtnl_newlink (NEWLINK, SETLINK) and qroute_getroute (locked in the table, unlocked
    # by rtnl_register_module()) count once; rtnl_dump_all is locked for RTM_GETROUTE.
    assert ("rtnetlink: 2 out of 8 doit()s, 3 out of 4 dumpit()s run without RTNL "
            "(by distinct function)") in out
    # one row per rule, from the rules themselves (migrator.commands.status)
    assert "stage1-t0-register-netdev: Register under a private nd_lock" in out


def test_scan_leaves_the_tree_untouched(tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in SAMPLE.rglob("*") if p.is_file()}
    scan_json(tmp_path)
    assert before == {p: p.read_bytes() for p in SAMPLE.rglob("*") if p.is_file()}


def test_cache_gives_the_same_answer(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for manifest in (first, second):
        assert main(["scan", "--tree", str(SAMPLE), "--cache-dir", str(cache),
                     "--json", str(manifest)]) == 0
    assert any(cache.iterdir())
    assert json.loads(first.read_text()) == json.loads(second.read_text())


def test_scan_result_is_reused_until_the_tree_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    import subprocess

    import migrator.engine.planner as engine

    tree = tmp_path / "tree"
    shutil.copytree(SAMPLE, tree)
    for cmd in (["init", "-q"], ["add", "-A"],
                ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(tree), *cmd], check=True)
    cache = tmp_path / "cache"
    args = ["scan", "--tree", str(tree), "--cache-dir", str(cache), "--stage", "2"]
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert main([*args, "--json", str(first)]) == 0
    opened: list[Path] = []
    real_open = engine.open_engine
    monkeypatch.setattr(engine, "open_engine",
                        lambda t, o, **kw: opened.append(t) or real_open(t, o, **kw))
    assert main([*args, "--json", str(second)]) == 0
    assert opened == []  # answered from the cached result
    assert json.loads(first.read_text()) == json.loads(second.read_text())
    trivnet = tree / "drivers/net/trivnet.c"
    trivnet.write_bytes(trivnet.read_bytes().replace(b"register_netdevice(dev)",
                                                     b"__register_netdevice(dev)"))
    assert main([*args, "--json", str(second)]) == 0
    assert len(opened) == 1  # a modified file means a new scan
    # the renamed call is the rule's converted form (done_when callee): done, not a rewrite
    assert [s["outcome"] for s in json.loads(second.read_text())
            if s["file"].endswith("trivnet.c") and s["template"] == "T1"] == ["already_done"]
    # Other code (an upgrade, a local change to a finder) never reuses the result.
    assert main([*args, "--json", str(second)]) == 0
    assert len(opened) == 1
    monkeypatch.setattr(engine, "FACTS_VERSION", "other-code")
    assert main([*args, "--json", str(second)]) == 0
    assert len(opened) == 2
