"""One review site per place a human must edit: a review names the function and line a
maintainer has to change (each caller that holds the wrong lock, each caller reaching a
link without the locks), not only the helper it reaches."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from migrator.cli import main
from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine
from migrator.model import Site

SAMPLE = Path(__file__).resolve().parent.parent / "corpus" / "sample"
CASES = Path(__file__).resolve().parent.parent / "corpus" / "review-sites"


def plan(tree: Path, stage: int) -> list[Site]:
    return open_engine(tree, PlanOptions(use_cache=False)).plan(stage).sites


def _line(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# Callers of the sample's wsub_register_netdevice(), which asserts phy->mtx held.
WSUB_IFACE = (CASES / "net/wireless/iface.c").read_text()


def test_t7_each_caller_holding_the_subsystem_lock_is_a_site(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    shutil.copytree(SAMPLE, tree)
    (tree / "net/wireless/iface.c").write_text(WSUB_IFACE)
    sites = [s for s in plan(tree, 3) if s.template == "T7"]
    by = {(s.file, s.function): s for s in sites}
    helper = by[("net/wireless/core.c", "wsub_register_netdevice")]
    assert helper.outcome == "review" and not helper.edits
    for function, needle in (("wsub_add_iface", "err = wsub_register_netdevice(dev);"),
                             ("wsub_add_monitor", "err = wsub_register_netdevice(mon);")):
        site = by[("net/wireless/iface.c", function)]
        assert site.outcome == "review" and not site.edits
        assert site.line == _line(WSUB_IFACE, needle)
        assert any(e.startswith("lock held: phy->mtx") for e in site.evidence), site.evidence
        assert any("wsub_register_netdevice() registers on fallback_nd_lock "
                   "(net/wireless/core.c:" in e for e in site.evidence)
        assert any(f"net/wireless/iface.c:{site.line} {function}()" in e
                   for e in helper.evidence)
    held = by[("net/wireless/iface.c", "wsub_add_iface")]
    assert "lock held: mutex_lock(&phy->mtx) taken earlier in wsub_add_iface()" in held.evidence
    assert len(sites) == 3


# An enslave function reached from .ndo_add_slave (the core holds both locks), from an
# ioctl and from an option setter (neither does), whose link sits in a helper.
MD_C = (CASES / "drivers/net/md/md_main.c").read_text()


def _md_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "t"
    for rel in ("include/linux/netdevice.h", "net/core/rtnetlink.c"):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE / rel, tree / rel)
    (tree / "drivers/net/md").mkdir(parents=True)
    (tree / "drivers/net/md/md_main.c").write_text(MD_C)
    return tree


def test_t8_each_caller_without_the_locks_is_a_site(tmp_path: Path) -> None:
    sites = [s for s in plan(_md_tree(tmp_path), 4) if s.file == "drivers/net/md/md_main.c"]
    by = {s.function: s for s in sites}
    assert set(by) == {"md_link", "md_option_slaves_set", "md_ioctl"}
    assert all(s.outcome == "review" and not s.edits for s in sites)
    assert by["md_option_slaves_set"].line == _line(MD_C, "return md_enslave(md->dev, p);")
    assert by["md_ioctl"].line == _line(MD_C, "err = md_enslave(m, p);")
    for name in ("md_option_slaves_set", "md_ioctl"):
        evidence = "\n".join(by[name].evidence)
        assert f"{name}() calls md_enslave(" in evidence and "without both locks" in evidence
        assert (f"link: drivers/net/md/md_main.c:{_line(MD_C, 'return netdev_master')} "
                "md_link() links p, m") in evidence
    assert "ioctl/sysfs entry point" in "\n".join(by["md_ioctl"].evidence)


def test_manifest_carries_the_caller_sites(tmp_path: Path) -> None:
    tree = _md_tree(tmp_path)
    manifest = tmp_path / "m.json"
    assert main(["scan", "--tree", str(tree), "--no-cache", "--stage", "4",
                 "--json", str(manifest)]) == 0
    records = [r for r in json.loads(manifest.read_text()) if r["file"].endswith("md_main.c")]
    assert sorted((r["function"], r["outcome"]) for r in records) == [
        ("md_ioctl", "review"), ("md_link", "review"), ("md_option_slaves_set", "review")]
