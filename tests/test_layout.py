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


# A rule's finder.py is loaded from its folder, so import-linter does not see it: its
# imports are checked here. A finder sits with the rules: it may import the layers
# below the engine and its own pack, never the engine, verification, output or CLI.
FINDER_MAY_IMPORT = ("migrator.model", "migrator.parse", "migrator.index",
                     "migrator.callgraph", "migrator.edit", "migrator.rules")


def finder_import_faults(finder: Path, pack: str) -> list[str]:
    """`module imported` for each import of `finder` outside what a finder may use."""
    allowed = (*FINDER_MAY_IMPORT, f"migrator.packs.{pack}")
    faults = []
    for line in finder.read_text().splitlines():
        found = re.match(r"\s*(?:from\s+(\S+)\s+import|import\s+(\S+))", line)
        if found is None:
            continue
        module = found.group(1) or found.group(2)
        if module.startswith("migrator") and not any(
                module == a or module.startswith(a + ".") for a in allowed):
            faults.append(f"{finder}: imports {module}")
    return faults


def test_finders_import_only_the_layers_below_the_engine() -> None:
    finders = sorted((PACKAGE / "packs").glob("*/rules/*/finder.py"))
    assert finders
    assert [f for finder in finders
            for f in finder_import_faults(finder, finder.parents[2].name)] == []


def test_the_finder_check_catches_a_wrong_import(tmp_path: Path) -> None:
    finder = tmp_path / "finder.py"
    finder.write_text("from migrator.engine.planner import Engine\n"
                      "from migrator.packs.other import x\n"
                      "from migrator.packs.mine.common import y\n"
                      "import migrator.output.series\n"
                      "from migrator.rules.context import RuleContext\n")
    assert finder_import_faults(finder, "mine") == [
        f"{finder}: imports migrator.engine.planner",
        f"{finder}: imports migrator.packs.other",
        f"{finder}: imports migrator.output.series"]
