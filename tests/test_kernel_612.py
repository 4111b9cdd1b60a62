"""The whole pipeline on the real Linux 6.12 tree, checked against plain text search."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine

PROJECT = Path(__file__).resolve().parent.parent
OPS = re.compile(rb"^[^\n;(]*\bstruct\s+rtnl_link_ops\s+(\w+)[^=;\n]*=\s*\{(.*?)^\};",
                 re.MULTILINE | re.DOTALL)
CALLBACK = re.compile(rb"\.\s*(newlink|changelink)\s*=\s*(\w+)\s*,?")
REGISTER = re.compile(rb"\bregister_netdevice\s*\(")


def migrate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "migrator.cli", *args], cwd=PROJECT,
                          capture_output=True, text=True, check=False, timeout=600)


def function_body(src: bytes, name: str) -> tuple[int, bytes] | None:
    """(offset, text) of the kernel-style definition of `name`: header, `{` and `}` in
    column 0."""
    m = re.search(rb"^[^\n;#]*\b" + re.escape(name.encode()) + rb"\s*\([^;{]*?\)\s*\n\{\n(.*?)^\}",
                  src, re.MULTILINE | re.DOTALL)
    return (m.start(1), m.group(1)) if m else None


@pytest.mark.kernel
def test_scan_612(kernel_612: Path, tmp_path: Path) -> None:
    tree = kernel_612
    cache = tmp_path / "cache"
    manifest = tmp_path / "m.json"
    scan = migrate("scan", "--tree", str(tree), "--stage", "all", "--stats", "--json",
                   str(manifest), "--cache-dir", str(cache))
    assert scan.returncode == 0, scan.stderr
    # independent: every .newlink/.changelink of an rtnl_link_ops initializer
    files = subprocess.run(["git", "-C", str(tree), "grep", "-l", "-w", "-F", "rtnl_link_ops",
                            "--", "*.c"], capture_output=True, text=True, check=True).stdout
    expected: set[tuple[str, str]] = set()
    for rel in files.split():
        src = (tree / rel).read_bytes()
        for ops in OPS.finditer(src):
            for cb in CALLBACK.finditer(ops.group(2)):
                expected.add((rel, cb.group(2).decode()))
    assert len(expected) > 50
    engine = open_engine(tree, PlanOptions(cache_dir=cache))  # warm: from the cache
    names = engine.index.functions_by_name
    missing = sorted((f, n) for f, n in expected if n not in names)
    assert not missing, missing
    # every direct register_netdevice() in such a callback is a stage-2 site
    import json

    sites = {(r["file"], r["line"]) for r in json.loads(manifest.read_text())
             if r["stage"] == 2 and r["outcome"] in ("rewrite", "review")}
    wanted = set()
    for rel, name in expected:
        src = (tree / rel).read_bytes()
        found = function_body(src, name)
        if found is None:
            continue  # defined in another file: covered by the index check above
        offset, body = found
        for call in REGISTER.finditer(body):
            wanted.add((rel, src.count(b"\n", 0, offset + call.start()) + 1))
    assert len(wanted) > 10
    assert not sorted(wanted - sites), sorted(wanted - sites)
    # parse quality of the target functions after normalisation
    line = next(x for x in scan.stdout.splitlines() if "target functions:" in x)
    pct = float(re.findall(r"normalised\s+\d+\s+\(([\d.]+)%\)", line)[0])
    assert pct >= 99.5, line
    status = migrate("status", "--tree", str(tree), "--cache-dir", str(cache))
    assert status.returncode == 0, status.stderr
    m = re.search(r"(\d+) out of (\d+) doit\(\)s, (\d+) out of (\d+) dumpit\(\)s run without RTNL",
                  status.stdout)
    assert m is not None, status.stdout
    # the totals of the per-netns RTNL cover letter (seeds/), counted by registration
    assert (int(m.group(2)), int(m.group(4))) == (87, 44), m.group(0)
    assert "(by distinct function)" in status.stdout
