"""The verifier in the series writer: a rewrite it finds wrong becomes review with the
path as evidence, all of the site's edits dropped (every file), never a wrong patch."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from migrator import cli
from migrator.model import Edit, Site, StagePlan
from migrator.output import apply
from migrator.packs import load_pack
from migrator.verify.source import check_rewrite, load_pairs

PAIRS = load_pairs(load_pack().pairs_file)

SAMPLE = Path(__file__).resolve().parent.parent / "corpus" / "sample"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "verify"

HELPER_A = """\
int foo_create(struct net_device *dev)
{
	int err;

	err = foo_prepare(dev);
	if (err)
		goto out;
	err = foo_register(dev);
out:
	return err;
}
"""
CALLER_B = """\
int foo_ioctl(struct net_device *dev)
{
	return foo_create(dev);
}

int foo_other(struct net_device *dev)
{
	return foo_prepare(dev);
}
"""


def site(name: str, file: str, edits: list[Edit], template: str = "T4") -> Site:
    return Site(2, template, "rewrite", file, name, 1, edits[0].start, edits[0].end, "r-" + name,
                "planned", evidence=["call chain: x"], edits=edits)


def test_violating_site_becomes_review_in_every_file(tmp_path: Path) -> None:
    (tmp_path / "a.c").write_text(HELPER_A)
    (tmp_path / "b.c").write_text(CALLER_B)
    # T6-like site: threads a lock into the helper (a.c) and brackets the caller (b.c);
    # its edit of a.c detaches at `out:`, a label the early goto reaches unattached.
    register = HELPER_A.index("\terr = foo_register(dev);")
    out_label = HELPER_A.index("out:\n") + len("out:\n")
    threaded = site("foo_create", "a.c", [
        Edit("a.c", register, register, "\tattach_nd_lock(dev, nd_lock);\n", "r-t6"),
        Edit("a.c", out_label, out_label, "\tif (err)\n\t\tdetach_nd_lock(dev);\n", "r-t6"),
        Edit("b.c", CALLER_B.index("\treturn foo_create"), CALLER_B.index("\treturn foo_create"),
             "\t/* caller bracket */\n", "r-t6"),
    ], template="T6")
    other = CALLER_B.index("\treturn foo_prepare")
    fine = site("foo_other", "b.c", [Edit("b.c", other, other, "\t/* fine */\n", "r-fine")])
    plan = StagePlan(2, str(tmp_path), [threaded, fine])
    messages: list[str] = []
    contents = apply.apply_plan(tmp_path, plan, messages.append, PAIRS)
    threaded, fine = plan.sites
    assert threaded.outcome == "review" and fine.outcome == "rewrite"
    assert "a.c" not in contents  # the refused site's edits are dropped everywhere
    assert b"caller bracket" not in contents["b.c"] and b"/* fine */" in contents["b.c"]
    assert threaded.reason.startswith("rewrite not applied: the verifier found foo_create(): ")
    assert "detach_nd_lock(dev) is reached on a path that never took that lock" in \
        threaded.reason
    path = next(e for e in threaded.evidence if e.startswith("verifier: path"))
    goto_line = HELPER_A[:HELPER_A.index("goto out;")].count("\n") + 1
    assert f" {goto_line}," in path
    assert threaded.evidence[0].startswith("planned T6 rewrite")
    assert any("the verifier refused 1 rewrite(s)" in m for m in messages)


def test_correct_site_is_kept(tmp_path: Path) -> None:
    (tmp_path / "a.c").write_text(HELPER_A)
    register = HELPER_A.index("\terr = foo_register(dev);")
    end = register + len("\terr = foo_register(dev);\n")
    good = site("foo_create", "a.c", [
        Edit("a.c", register, register, "\tattach_nd_lock(dev, nd_lock);\n", "r"),
        Edit("a.c", end, end, "\tif (err)\n\t\tdetach_nd_lock(dev);\n", "r"),
    ])
    plan = StagePlan(2, str(tmp_path), [good])
    contents = apply.apply_plan(tmp_path, plan, lambda _m: None, PAIRS)
    assert good.outcome == "rewrite" and b"detach_nd_lock" in contents["a.c"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout


def test_t2_shared_label_case_is_review_or_a_checked_rewrite(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo)
    case = repo / "drivers" / "net" / "twinlink"
    case.mkdir()
    shutil.copy(FIXTURES / "twinlink.c", case / "twinlink.c")
    (case / "Makefile").write_text("obj-m += twinlink.o\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Test Dev")
    git(repo, "config", "user.email", "dev@example.org")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    out, manifest = tmp_path / "out", tmp_path / "sites.json"
    rc = cli.main(["stage", "2", "--tree", str(repo), "--out", str(out), "--no-cache", "-j", "1",
                   "--json", str(manifest)])
    err = capsys.readouterr().err
    assert rc == 0, err
    records = [r for r in json.loads(manifest.read_text())
               if r["file"] == "drivers/net/twinlink/twinlink.c"]
    t2 = [r for r in records if r["template"] == "T2"]
    assert t2, records
    for record in t2:
        if record["outcome"] == "review":
            assert "never took" in record["reason"]
            assert any(e.startswith("verifier: path") for e in record["evidence"])
            assert "detach_nd_lock(peer)" in err
        else:
            assert record["outcome"] == "rewrite" and record["patch"]
    # whatever was written: applied in order, twinlink.c has no lock-balance violation
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    git(clone, "config", "user.name", "Test Dev")
    git(clone, "config", "user.email", "dev@example.org")
    written = sorted(p for p in out.rglob("*.patch") if not p.name.startswith("0000-"))
    assert written
    git(clone, "am", "-q", *map(str, written))
    original = (FIXTURES / "twinlink.c").read_bytes()
    final = (clone / "drivers/net/twinlink/twinlink.c").read_bytes()
    pairs = PAIRS
    assert any(p.release == "detach_nd_lock" for p in pairs)
    assert [v for v in check_rewrite("twinlink.c", original, final, pairs)
            if v.check == "lock-balance"] == []
    # the same, read off the text: the label the early (headroom) goto jumps to, before
    # any attach, does not lead to a detach before the peer is freed
    text = final.decode()
    early = re.search(r"twinlink_set_headroom\(peer[^;]*;\s*if \(err\)\s*goto (\w+);", text)
    assert early is not None
    after_label = text[text.index(f"\n{early.group(1)}:"):]
    assert "detach_nd_lock" not in after_label[:after_label.index("free_netdev(peer)")]


def test_ifdef_before_else_case_never_loses_a_directive(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo)
    case = repo / "drivers" / "net" / "brisk"
    case.mkdir()
    for name in ("brisk_main.c", "pz.c"):
        shutil.copy(FIXTURES / name, case / name)
    (case / "Makefile").write_text("obj-m += brisk.o\nbrisk-objs := brisk_main.o pz.o\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Test Dev")
    git(repo, "config", "user.email", "dev@example.org")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    out, manifest = tmp_path / "out", tmp_path / "sites.json"
    rc = cli.main(["stage", "4-5", "--tree", str(repo), "--out", str(out), "--no-cache",
                   "-j", "1", "--json", str(manifest)])
    assert rc == 0, capsys.readouterr().err
    records = [r for r in json.loads(manifest.read_text()) if "/brisk/" in r["file"]]
    assert {r["function"] for r in records} >= {"brisk_port_move", "pz_move", "pz_link"}
    for record in records:
        if record["outcome"] == "review" and "verifier" in record["reason"]:
            assert any(e.startswith("verifier: original") for e in record["evidence"])
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    git(clone, "config", "user.name", "Test Dev")
    git(clone, "config", "user.email", "dev@example.org")
    written = sorted(out.rglob("*.patch"), key=lambda p: (p.parent.name, p.name))
    git(clone, "am", "-q", *(str(p) for p in written if not p.name.startswith("0000-")))
    for name in ("brisk_main.c", "pz.c"):
        original = (FIXTURES / name).read_text()
        final = (clone / "drivers/net/brisk" / name).read_text()
        # read off the text: every directive and comment line of the original is kept
        for line in original.splitlines():
            if line.startswith("#") or line.strip().startswith("/*"):
                assert final.count(line) >= original.count(line), (name, line)
        assert [v for v in check_rewrite(name, original.encode(), final.encode(), PAIRS)
                if v.check == "preserve"] == []
