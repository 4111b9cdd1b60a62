#!/usr/bin/env python3
"""Stage-2 coverage check, independent of the tool's index and call graph.

Plain regex over the files `git grep` finds: every `register_netdevice()` /
`unregister_netdevice()` call inside a function named in a `.newlink =` or
`.changelink =` initializer (of a struct rtnl_link_ops: the initializer's struct
type is checked) must be a stage-2 site of `migrate scan --stage 2 --json`.
Misses are listed with file:line; exit status 1 when there is any.

Usage: python bench/stage2_coverage.py [--tree DIR] [--json MANIFEST]
                                       [--cache-dir DIR]
Without --json the scan is run (PYTHONPATH must point at this checkout).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_TREE = Path("/work/kcache/linux-source-6.12")
CALLS = re.compile(r"\b(register_netdevice|unregister_netdevice)\s*\(")
MEMBER = re.compile(r"\.(newlink|changelink)\s*=\s*&?(\w+)")
OPS_DECL = re.compile(r"struct\s+(\w+)\s+[\w\s]*?=\s*\{[^{}]*$")


def git_grep(tree: Path, pattern: str) -> list[tuple[str, int, str]]:
    out = subprocess.run(["git", "-C", str(tree), "grep", "-n", "-E", pattern, "--",
                          "*.c"], capture_output=True, text=True, check=False).stdout
    hits = []
    for line in out.splitlines():
        path, lineno, text = line.split(":", 2)
        hits.append((path, int(lineno), text))
    return hits


def struct_type_at(src: str, offset: int) -> str | None:
    """Struct type of the designated initializer holding `offset`."""
    depth = 0
    for i in range(offset, -1, -1):
        c = src[i]
        if c == "}":
            depth += 1
        elif c == "{":
            if depth == 0:
                m = re.search(r"struct\s+(\w+)[^;{}=]*=\s*$", src[max(0, i - 300):i])
                return m.group(1) if m else None
            depth -= 1
    return None


def function_body(src: str, name: str) -> tuple[int, int] | None:
    """(start, end) of the body of the definition of `name` in `src`."""
    for m in re.finditer(rf"(?m)^[\w \t\*]*\b{re.escape(name)}\s*\(", src):
        i = src.index("(", m.end() - 1)
        depth = 0
        j = i
        while j < len(src):
            if src[j] == "(":
                depth += 1
            elif src[j] == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        k = j + 1
        while k < len(src) and src[k] in " \t\n":
            k += 1
        if src[k:k + 1] != "{":
            continue  # a prototype or a call
        depth = 0
        for e in range(k, len(src)):
            if src[e] == "{":
                depth += 1
            elif src[e] == "}":
                depth -= 1
                if depth == 0:
                    return k, e + 1
    return None


def expected_sites(tree: Path) -> list[tuple[str, int, str, str]]:
    """(file, line, function, callee) of every target call in a newlink/changelink."""
    out = []
    seen = set()
    for path, _lineno, _text in git_grep(tree, r"\.(newlink|changelink)\s*=\s*&?\w+"):
        src = (tree / path).read_text(errors="surrogateescape")
        for m in MEMBER.finditer(src):
            if struct_type_at(src, m.start()) != "rtnl_link_ops":
                continue
            name = m.group(2)
            if (path, name) in seen:
                continue
            seen.add((path, name))
            body = function_body(src, name)
            if body is None:
                print(f"note: {path}: {name} not defined in the file", file=sys.stderr)
                continue
            for c in CALLS.finditer(src, *body):
                out.append((path, src.count("\n", 0, c.start()) + 1, name, c.group(1)))
    return sorted(set(out))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", type=Path, default=DEFAULT_TREE)
    ap.add_argument("--json", type=Path, help="manifest of `migrate scan --stage 2`")
    ap.add_argument("--cache-dir", default="/tmp/mc-s2b")
    args = ap.parse_args()
    manifest = args.json
    if manifest is None:
        manifest = Path(tempfile.mkdtemp()) / "stage2.json"
        cmd = [sys.executable, "-m", "migrator.cli", "scan", "--tree", str(args.tree),
               "--stage", "2", "--json", str(manifest), "--cache-dir", args.cache_dir]
        env = {**os.environ,
               "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        subprocess.run(cmd, check=False, env=env, stdout=subprocess.DEVNULL)
    records = json.loads(manifest.read_text())
    if isinstance(records, dict):
        records = records.get("sites", [])
    have = {(r["file"], r["line"]) for r in records if r.get("stage") == 2}
    expected = expected_sites(args.tree)
    misses = [e for e in expected if (e[0], e[1]) not in have]
    print(f"{len(expected)} register/unregister_netdevice calls in newlink/changelink "
          f"functions; {len(expected) - len(misses)} are stage-2 sites; "
          f"{len(misses)} missed")
    for path, line, fn, callee in misses:
        print(f"MISS {path}:{line} {fn}() {callee}()")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
