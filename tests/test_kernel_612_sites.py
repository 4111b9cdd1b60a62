"""Review sites on the real Linux 6.12 tree name the places a maintainer must edit."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent


def migrate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "migrator.cli", *args], cwd=PROJECT,
                          capture_output=True, text=True, check=False, timeout=600)


@pytest.mark.kernel
def test_review_sites_are_the_places_to_edit_612(kernel_612: Path, tmp_path: Path) -> None:
    """Each caller of cfg80211_register_netdevice() (which asserts wiphy.mtx held) is a
    stage-3 review site of its own, found independently with git grep; the bonding
    callers that reach bond_enslave() without both locks are stage-4 review sites."""
    tree = kernel_612
    manifest = tmp_path / "m.json"
    scan = migrate("scan", "--tree", str(tree), "--stage", "3-4", "--json", str(manifest),
                   "--cache-dir", str(tmp_path / "cache"))
    assert scan.returncode == 0, scan.stderr
    records = json.loads(manifest.read_text())
    grep = subprocess.run(["git", "-C", str(tree), "grep", "-n", "-w", "-F",
                           "cfg80211_register_netdevice", "--", "*.c"],
                          capture_output=True, text=True, check=True).stdout
    callers = {(f, int(n)) for f, n, text in (x.split(":", 2) for x in grep.splitlines())
               if re.search(r"\bcfg80211_register_netdevice\s*\(", text)
               and not text.startswith("int cfg80211_register_netdevice")}
    assert len(callers) >= 9
    sites = {(r["file"], r["line"]): r for r in records
             if r["stage"] == 3 and r["outcome"] == "review"}
    assert not sorted(callers - set(sites)), sorted(callers - set(sites))
    for where in callers:
        assert any("wiphy.mtx" in e for e in sites[where]["evidence"]), sites[where]
    bonding = {r["function"] for r in records if r["stage"] == 4 and r["outcome"] == "review"
               and r["file"].startswith("drivers/net/bonding/")}
    assert {"bond_option_slaves_set", "bond_do_ioctl"} <= bonding
