#!/usr/bin/env python3
"""The yardstick: how `migrate scan` compares with `git grep` (floor) and Coccinelle.

Measures, on a real kernel tree (default: ``kernel_tree()``, Debian linux-source-6.12):

  (a) grep floor   git grep -l -w -F -e TOKEN... over the tree
  (b) scan cold    migrate scan --tree T --stage all --json OUT --cache-dir <fresh dir>
      scan warm    the same again with the cache dir of the last cold run
  (c) spatch       spatch --sp-file bench/newlink_t1.cocci --dir . --jobs 2 --very-quiet
                   run from the top of the tree (so the kernel's .cocciconfig applies:
                   --timeout 200 --use-gitgrep), the way a kernel developer runs it

Each is run --runs times (>= 3); the median wall time is reported, and the peak RSS
(the largest single process, from wait4(), and the largest sampled sum over the
whole process tree).  Every spatch-changed site (file + function) must be in the
manifest as a stage-2 T1 site.  Results go to <project>/.cache/bench/latest.json.

Usage: python bench/bench_scan.py [--tree DIR] [--runs N] [--skip-scan] [--skip-spatch]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
for _path in (PROJECT_ROOT, PROJECT_ROOT / "tests"):  # kernel_tree.py is a test helper
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from kernel_tree import (  # noqa: E402
    KernelTreeUnavailable,
    apt_install,
    kernel_tree,
)

STAGE_TOKENS = (
    "register_netdevice",
    "register_netdev",
    "unregister_netdevice",
    "netdev_master_upper_dev_link",
    "dev_change_net_namespace",
    "rtnl_link_ops",
)
COCCI = BENCH_DIR / "newlink_t1.cocci"
RESULTS_DIR = PROJECT_ROOT / ".cache" / "bench"
MB = 1024 * 1024

TARGETS = {
    "scan_cold/grep_floor": ("<=", 2.0),
    "spatch/scan_cold": (">=", 5.0),
    "scan_warm_s": ("<=", 1.5),
    "peak_rss_mb": ("<=", 1024.0),
    "coverage": (">=", 1.0),
}


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    seconds: float
    returncode: int
    maxrss_mb: float  # largest single process (wait4 ru_maxrss)
    tree_rss_mb: float  # largest sampled sum of RSS over the process tree
    stdout: str = ""
    stderr: str = ""


@dataclass
class Measure:
    name: str
    command: list[str]
    cwd: str
    runs: list[Run] = field(default_factory=list)
    skipped: str | None = None

    @property
    def median(self) -> float | None:
        ok = [r.seconds for r in self.runs]
        return statistics.median(ok) if ok else None

    @property
    def peak_rss_mb(self) -> float | None:
        if not self.runs:
            return None
        return max(max(r.maxrss_mb, r.tree_rss_mb) for r in self.runs)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "command": shlex.join(self.command),
            "cwd": self.cwd,
            "skipped": self.skipped,
            "median_s": self.median,
            "runs_s": [round(r.seconds, 3) for r in self.runs],
            "returncodes": [r.returncode for r in self.runs],
            "peak_rss_mb": self.peak_rss_mb,
            "maxrss_single_process_mb": max((r.maxrss_mb for r in self.runs), default=None),
            "rss_process_tree_sampled_mb": max((r.tree_rss_mb for r in self.runs), default=None),
        }


def _proc_children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may contain spaces/parens
        rest = stat[stat.rfind(b")") + 2 :].split()
        kids.setdefault(int(rest[1]), []).append(int(entry.name))
    return kids


def _tree_rss_bytes(root: int) -> int:
    kids = _proc_children()
    total, todo, page = 0, [root], os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        todo.extend(kids.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
    return total


def run_once(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run *cmd*, returning wall time, exit code and peak memory of its process tree."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.05):
                peak = max(peak, _tree_rss_bytes(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            seconds=seconds,
            returncode=proc.returncode,
            maxrss_mb=usage.ru_maxrss / 1024,  # Linux: KiB
            tree_rss_mb=peak / MB,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def _check(run: Run, what: str, ok_codes: tuple[int, ...] = (0,)) -> None:
    if run.returncode not in ok_codes:
        tail = "\n".join(run.stderr.strip().splitlines()[-15:])
        raise SystemExit(f"bench: {what} exited {run.returncode}:\n{tail}")


# --------------------------------------------------------------------------- (a) grep floor


def bench_grep(tree: Path, runs: int) -> Measure:
    cmd = ["git", "grep", "-l", "-w", "-F"]
    for tok in STAGE_TOKENS:
        cmd += ["-e", tok]
    m = Measure("grep_floor", cmd, str(tree))
    for _ in range(runs):
        r = run_once(cmd, tree)
        _check(r, "git grep", (0, 1))
        m.runs.append(r)
    return m


# --------------------------------------------------------------------------- (b) migrate scan


def migrate_command() -> tuple[list[str], dict[str, str]] | None:
    """How to run `migrate` from this checkout (preferred) or from PATH; None if absent."""
    env = dict(os.environ)
    if (PROJECT_ROOT / "migrator" / "cli.py").is_file():
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
        )
        code = "import sys; from migrator.cli import main; sys.exit(main())"
        return [sys.executable, "-c", code], env
    exe = shutil.which("migrate")
    if exe:
        return [exe], env
    return None


def bench_scan(tree: Path, runs: int, workdir: Path) -> tuple[Measure, Measure, Path | None]:
    found = migrate_command()
    skip_cold = Measure("scan_cold", ["migrate", "scan"], str(tree))
    skip_warm = Measure("scan_warm", ["migrate", "scan"], str(tree))
    if found is None:
        why = "`migrate` is not importable from this checkout nor on PATH"
        skip_cold.skipped = skip_warm.skipped = why
        return skip_cold, skip_warm, None
    base, env = found
    help_run = run_once([*base, "scan", "--help"], PROJECT_ROOT, env)
    if help_run.returncode != 0:
        why = f"`migrate scan --help` failed: {help_run.stderr.strip()[-300:]}"
        skip_cold.skipped = skip_warm.skipped = why
        return skip_cold, skip_warm, None
    has_cache_opt = "--cache-dir" in help_run.stdout
    manifest = workdir / "scan.json"

    def cmd(cache: Path) -> list[str]:
        c = [*base, "scan", "--tree", str(tree), "--stage", "all", "--json", str(manifest)]
        return [*c, "--cache-dir", str(cache)] if has_cache_opt else c

    cache = workdir / "cache-0"
    cold = Measure("scan_cold", cmd(cache), str(tree))
    if not has_cache_opt:
        print("bench: note: `migrate scan` has no --cache-dir; cold == warm", file=sys.stderr)
    for i in range(runs):
        cache = workdir / f"cache-{i}"
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        r = run_once(cmd(cache), tree, env)
        _check(r, "migrate scan (cold)", (0, 1))
        cold.runs.append(r)
    warm = Measure("scan_warm", cmd(cache), str(tree))
    for _ in range(runs):
        r = run_once(cmd(cache), tree, env)
        _check(r, "migrate scan (warm)", (0, 1))
        warm.runs.append(r)
    return cold, warm, manifest


def load_manifest(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("sites", [])
    if not isinstance(data, list):
        raise SystemExit(f"bench: {path}: manifest is neither a list nor a dict with 'sites'")
    return [rec for rec in data if isinstance(rec, dict)]


# --------------------------------------------------------------------------- (c) spatch


def ensure_spatch() -> str | None:
    """Path of spatch, installing coccinelle if needed; None (and a message) if impossible."""
    exe = shutil.which("spatch")
    if exe:
        return exe
    print("bench: spatch not found, trying apt-get install -y coccinelle ...", file=sys.stderr)
    try:
        apt_install(["coccinelle"])
    except KernelTreeUnavailable as exc:
        print(f"bench: skipping the spatch yardstick: {exc.reason}", file=sys.stderr)
        return None
    return shutil.which("spatch")


def bench_spatch(tree: Path, runs: int, jobs: int) -> Measure:
    exe = ensure_spatch()
    cmd = [exe or "spatch", "--sp-file", str(COCCI), "--dir", ".", "--jobs", str(jobs)]
    cmd.append("--very-quiet")
    m = Measure("spatch", cmd, str(tree))
    if exe is None:
        m.skipped = "spatch (coccinelle) not installed and not installable"
        return m
    for _ in range(runs):
        r = run_once(cmd, tree)
        _check(r, "spatch")
        m.runs.append(r)
    return m


_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@")
_RENAMED = re.compile(r"\b(?:un)?register_netdevice\s*\(")


def parse_spatch_diff(diff: str, tree: Path) -> list[tuple[str, int]]:
    """(file relative to tree, old line) of every removed line that renames a call."""
    sites: list[tuple[str, int]] = []
    prefix = str(tree).rstrip("/") + "/"
    file: str | None = None
    old = 0
    for line in diff.splitlines():
        if line.startswith("--- "):
            name = line[4:].split("\t")[0].strip()
            if name.startswith(prefix):
                name = name[len(prefix) :]
            elif name.startswith(("a/", "b/")):
                name = name[2:]
            file = name.removeprefix("./")
            continue
        if line.startswith("+++ "):
            continue
        h = _HUNK.match(line)
        if h:
            old = int(h.group(1))
            continue
        if file is None or not line:
            continue
        tag = line[0]
        if tag == "-":
            if _RENAMED.search(line):
                sites.append((file, old))
            old += 1
        elif tag == " ":
            old += 1
    return sites


def _ts_functions(source: bytes) -> list[tuple[int, int, str]] | None:
    try:
        import tree_sitter
        import tree_sitter_c
    except ImportError:
        return None
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))
    tree = parser.parse(source)
    out: list[tuple[int, int, str]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "function_definition":
            decl = node.child_by_field_name("declarator")
            while decl is not None and decl.type != "identifier":
                nxt = decl.child_by_field_name("declarator")
                if nxt is None:
                    ids = [c for c in decl.children if c.type == "identifier"]
                    nxt = ids[0] if ids else None
                decl = nxt
            if decl is not None and decl.text is not None:
                name = decl.text.decode(errors="replace")
                out.append((node.start_point[0] + 1, node.end_point[0] + 1, name))
            continue
        stack.extend(node.children)
    return out


_DEF_NAME = re.compile(r"(\w+)\s*\(")


def _regex_function(lines: list[str], line: int) -> str | None:
    """Kernel style fallback: body '{' in column 0, name before the first '(' above it."""
    i = line - 1
    while i >= 0 and lines[i].rstrip() != "{":
        if lines[i].startswith("}"):
            return None
        i -= 1
    j = i - 1
    header: list[str] = []
    while j >= 0 and lines[j].strip() and not lines[j].rstrip().endswith((";", "}", "*/")):
        header.insert(0, lines[j])
        j -= 1
    m = _DEF_NAME.search(" ".join(header))
    return m.group(1) if m else None


def enclosing_function(path: Path, line: int) -> str | None:
    source = path.read_bytes()
    funcs = _ts_functions(source)
    if funcs:
        inner = [f for f in funcs if f[0] <= line <= f[1]]
        if inner:
            return min(inner, key=lambda f: f[1] - f[0])[2]
    return _regex_function(source.decode(errors="replace").splitlines(), line)


def spatch_sites(m: Measure, tree: Path) -> list[dict[str, Any]]:
    if not m.runs:
        return []
    sites = []
    for file, line in parse_spatch_diff(m.runs[-1].stdout, tree):
        func = enclosing_function(tree / file, line)
        sites.append({"file": file, "function": func, "line": line})
    return sites


# --------------------------------------------------------------------------- report


def coverage(sites: list[dict[str, Any]], manifest: list[dict[str, Any]]) -> dict[str, Any]:
    def norm(f: str) -> str:
        return f.removeprefix("./")

    t1 = {
        (norm(str(r.get("file", ""))), r.get("function"))
        for r in manifest
        if str(r.get("stage")) == "2" and str(r.get("template", "")).upper() == "T1"
    }
    t1_lines = {
        (norm(str(r.get("file", ""))), r.get("line"))
        for r in manifest
        if str(r.get("stage")) == "2" and str(r.get("template", "")).upper() == "T1"
    }
    want = {(s["file"], s["function"]) for s in sites}
    missing = sorted(want - t1, key=str)
    return {
        "spatch_sites": len(want),
        "covered": len(want) - len(missing),
        "ratio": (len(want) - len(missing)) / len(want) if want else None,
        "missing": [{"file": f, "function": fn} for f, fn in missing],
        "line_matches": sum((s["file"], s["line"]) in t1_lines for s in sites),
        "manifest_t1_sites": len(t1),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _verdict(key: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    op, target = TARGETS[key]
    ok = value <= target if op == "<=" else value >= target
    return "ok" if ok else "MISS"


def _fmt(v: float | None, unit: str = "") -> str:
    return "-" if v is None else f"{v:.2f}{unit}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tree", type=Path, help="kernel git tree (default: kernel_tree())")
    ap.add_argument("--runs", type=int, default=3, help="runs per measurement (>= 3)")
    ap.add_argument("--jobs", type=int, default=2, help="spatch --jobs (default 2)")
    ap.add_argument("--skip-scan", action="store_true", help="do not run migrate scan")
    ap.add_argument("--skip-spatch", action="store_true", help="do not run spatch")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR / "latest.json")
    args = ap.parse_args(argv)
    if args.runs < 3:
        ap.error("--runs must be >= 3 (the median of at least three runs is reported)")

    if args.tree is None:
        try:
            args.tree = kernel_tree()
        except KernelTreeUnavailable as exc:
            print(f"bench: no kernel tree: {exc.reason}", file=sys.stderr)
            return 2
    tree = args.tree.resolve()
    if not (tree / ".git").exists():
        ap.error(f"--tree {tree}: not a git work tree")

    workdir = Path(tempfile.mkdtemp(prefix="migrator-bench-"))
    try:
        grep = bench_grep(tree, args.runs)
        if args.skip_scan:
            cold = Measure("scan_cold", ["migrate", "scan"], str(tree), skipped="--skip-scan")
            warm = Measure("scan_warm", ["migrate", "scan"], str(tree), skipped="--skip-scan")
            manifest_path = None
        else:
            cold, warm, manifest_path = bench_scan(tree, args.runs, workdir)
        if args.skip_spatch:
            spatch = Measure("spatch", [], str(tree), skipped="--skip-spatch")
        else:
            spatch = bench_spatch(tree, args.runs, args.jobs)
        sites = spatch_sites(spatch, tree)
        manifest = (
            load_manifest(manifest_path) if manifest_path and manifest_path.is_file() else None
        )
        cov = coverage(sites, manifest) if manifest is not None and sites else None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    scan_rss = [x for x in (cold.peak_rss_mb, warm.peak_rss_mb) if x is not None]
    ratios: dict[str, float | None] = {
        "scan_cold/grep_floor": _ratio(cold.median, grep.median),
        "spatch/scan_cold": _ratio(spatch.median, cold.median),
        "scan_warm_s": warm.median,
        "peak_rss_mb": max(scan_rss) if scan_rss else None,
        "coverage": cov["ratio"] if cov else None,
    }
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tree, capture_output=True, text=True, check=False
    ).stdout.strip()
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "tree": str(tree),
        "tree_head": head,
        "measures": [m.summary() for m in (grep, cold, warm, spatch)],
        "grep_floor_files": len(grep.runs[-1].stdout.split()) if grep.runs else None,
        "spatch": {
            "sites": sites,
            "n_sites": len(sites),
            "n_functions": len({(s["file"], s["function"]) for s in sites}),
            "n_files": len({s["file"] for s in sites}),
        },
        "coverage": cov,
        "ratios": ratios,
        "targets": {k: f"{op} {v}" for k, (op, v) in TARGETS.items()},
        "verdicts": {k: _verdict(k, v) for k, v in ratios.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")

    print(f"tree {tree} @ {head[:12]}   runs={args.runs}")
    print(f"{'measure':<12} {'median s':>9} {'peak RSS MB':>12}  note")
    for m in (grep, cold, warm, spatch):
        runs = " ".join(f"{r.seconds:.2f}" for r in m.runs)
        note = f"skipped: {m.skipped}" if m.skipped else f"runs: {runs}"
        print(f"{m.name:<12} {_fmt(m.median):>9} {_fmt(m.peak_rss_mb):>12}  {note}")
    print(
        f"spatch changed {len(sites)} call sites in {result['spatch']['n_functions']} functions,"
        f" {result['spatch']['n_files']} files; grep floor lists {result['grep_floor_files']} files"
    )
    print(f"{'ratio':<22} {'value':>8} {'target':>9}  verdict")
    for k, v in ratios.items():
        op, t = TARGETS[k]
        print(f"{k:<22} {_fmt(v):>8} {op + ' ' + str(t):>9}  {_verdict(k, v)}")
    if cov and cov["missing"]:
        print("spatch sites missing from the manifest (stage 2, T1):")
        for miss in cov["missing"]:
            print(f"  {miss['file']}: {miss['function']}")
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
