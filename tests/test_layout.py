"""The layout: the engine knows no migration by name, data flows one way."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import migrator

PACKAGE = Path(migrator.__file__).resolve().parent
# The generic layers: everything but the packs, the command line and the test helper.
GENERIC = ["engine", "index", "callgraph.py", "edit", "verify", "output", "parse", "model",
           "rules"]
PACK_NAMES = re.compile(r"(?<![A-Za-z0-9])(?:nd_lock|rtnl)|RTNL")


def generic_files() -> list[Path]:
    out = []
    for name in GENERIC:
        path = PACKAGE / name
        out += [path] if path.is_file() else sorted(p for p in path.rglob("*")
                                                      if p.suffix in (".py", ".j2"))
    return out


def test_generic_layers_name_no_lock_of_a_pack() -> None:
    hits = [f"{p.relative_to(PACKAGE)}:{n}: {line.strip()}"
            for p in generic_files()
            for n, line in enumerate(p.read_text().splitlines(), 1)
            if PACK_NAMES.search(line)]
    assert hits == []


def test_the_grep_catches_a_name(tmp_path: Path) -> None:
    assert PACK_NAMES.search("\tlock = rtnl_lock_killable();")
    assert PACK_NAMES.search("struct nd_lock *nd_lock;")
    assert PACK_NAMES.search("mutex_lock(&fallback_nd_lock.mutex);")
    assert PACK_NAMES.search("__rtnl_unlock();")
    assert not PACK_NAMES.search("__cond_lock_acquires")


def test_import_layers_contract() -> None:
    beside = Path(sys.executable).parent / "lint-imports"  # the venv's, unactivated
    tool = str(beside) if beside.is_file() else shutil.which("lint-imports")
    if tool is None:
        pytest.skip("lint-imports (import-linter) not installed: pip install -e '.[test]'")
    done = subprocess.run([tool], cwd=PACKAGE.parent, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout[-3000:]
