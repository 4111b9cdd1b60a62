#!/usr/bin/env python3
"""Mutation fuzzing of scan, stage planning and edit application on corpus/sample.

Each mutant is the sample tree with one file mutated 1-3 times (lines deleted or
duplicated, `__init` / iterator macros inserted, braces split with #ifdef,
identifiers renamed, whitespace and CRLF changes, non-UTF-8 bytes, truncation).
For every mutant: index + plan stages 1..6 (what `migrate scan` does; the `scan`
command itself runs on a share of them) and apply each stage's rewrite edits per
file with `edits.rewrite_checked`. MigratorError (with a file name) is an
accepted outcome; any other exception is a crash; an applied edit set that
leaves a file with more parse errors, edits outside the file, or a tree changed
by planning is an invalid patch. `--stage-mutants K` also runs `migrate stage 2`
(git, subprocess) on K mutants.

    python bench/fuzz.py --mutants 10000 [--jobs 2] [--seed 1] [--stage-mutants 20]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from migrator.cli import main as cli_main  # noqa: E402
from migrator.edit import edits  # noqa: E402
from migrator.engine.plan import PlanOptions  # noqa: E402
from migrator.engine.planner import open_engine  # noqa: E402
from migrator.model import Outcome as SiteOutcome  # noqa: E402
from migrator.model.errors import MigratorError  # noqa: E402
from migrator.parse import tree as parse  # noqa: E402

SAMPLE = ROOT / "corpus" / "sample"
IDENT = re.compile(rb"\b[A-Za-z_]\w*\b")
MACRO_LINES = (
    b"static int __init",
    b"\tlist_for_each_entry(a, b, c) {",
    b"\tlist_for_each_entry_safe(dev, tmp, &list, list) {",
    b"__cold",
    b"\tfor_each_netdev(net, dev)",
    b"EXPORT_SYMBOL(register_netdevice);",
    b"\terr = register_netdevice(dev);",
    b"\tunregister_netdevice(dev);",
    b"#define FOO(x) register_netdevice(x)",
)




# --- mutations --------------------------------------------------------------------------

def _lines(src: bytes) -> list[bytes]:
    return src.split(b"\n")


def m_delete_line(src: bytes, rng: random.Random) -> bytes:
    lines = _lines(src)
    if len(lines) > 1:
        del lines[rng.randrange(len(lines))]
    return b"\n".join(lines)


def m_duplicate_line(src: bytes, rng: random.Random) -> bytes:
    lines = _lines(src)
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return b"\n".join(lines)


def m_insert_macro(src: bytes, rng: random.Random) -> bytes:
    lines = _lines(src)
    lines.insert(rng.randrange(len(lines) + 1), rng.choice(MACRO_LINES))
    return b"\n".join(lines)


def m_split_braces(src: bytes, rng: random.Random) -> bytes:
    positions = [m.start() for m in re.finditer(rb"[{}]", src)]
    if not positions:
        return src
    pos = rng.choice(positions)
    brace = src[pos : pos + 1]
    return (src[:pos] + b"\n#ifdef CONFIG_FUZZ\n" + brace + b"\n#else\n" + brace
            + b"\n#endif\n" + src[pos + 1 :])


def m_rename_identifier(src: bytes, rng: random.Random) -> bytes:
    names = sorted({m.group() for m in IDENT.finditer(src)})
    if not names:
        return src
    old = rng.choice(names)
    new = rng.choice([b"register_netdevice", b"__register_netdevice", b"fuzzed_" + old,
                      b"unregister_netdevice", b"dev", b"x"])
    return re.sub(rb"\b" + re.escape(old) + rb"\b", new, src)


def m_whitespace(src: bytes, rng: random.Random) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        return src.replace(b"\t", b"        ")
    if choice == 1:
        return re.sub(rb"\n", b" \n", src)
    if choice == 2:
        return src.replace(b"\n", b"\r\n")
    return src.rstrip(b"\n")


def m_non_utf8(src: bytes, rng: random.Random) -> bytes:
    pos = rng.randrange(len(src) + 1)
    return src[:pos] + rng.choice([b"\xe9", b"\xff\xfe", b"/* caf\xe9 */", b"\x80"]) + src[pos:]


def m_truncate(src: bytes, rng: random.Random) -> bytes:
    return src[: rng.randrange(len(src) + 1)]


def m_unterminated(src: bytes, rng: random.Random) -> bytes:
    pos = rng.randrange(len(src) + 1)
    return src[:pos] + rng.choice([b"/* open", b'"open', b"'", b"{", b"}", b"(", b"#if 0\n"]) \
        + src[pos:]


MUTATIONS: tuple[Callable[[bytes, random.Random], bytes], ...] = (
    m_delete_line, m_duplicate_line, m_insert_macro, m_split_braces, m_rename_identifier,
    m_whitespace, m_non_utf8, m_truncate, m_unterminated,
)


def sample_files() -> list[str]:
    return sorted(str(p.relative_to(SAMPLE)) for p in SAMPLE.rglob("*")
                  if p.is_file() and p.suffix in (".c", ".h"))


def make_mutant(seed: int, files: list[str]) -> tuple[str, bytes, list[str]]:
    rng = random.Random(seed)
    path = rng.choice(files)
    src = (SAMPLE / path).read_bytes()
    applied = []
    for _ in range(rng.randint(1, 3)):
        mutation = rng.choice(MUTATIONS)
        src = mutation(src, rng)
        applied.append(mutation.__name__[2:])
    return path, src, applied


# --- checking one mutant ------------------------------------------------------------------

@dataclass
class Outcome:
    seed: int
    path: str
    mutations: list[str]
    kind: str = "ok"  # ok | error (MigratorError) | crash | invalid | timeout
    detail: str = ""
    sites: int = 0
    files_rewritten: int = 0


class Timeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Timeout


def snapshot(tree: Path) -> dict[str, bytes]:
    return {str(p.relative_to(tree)): p.read_bytes() for p in tree.rglob("*") if p.is_file()}


def check_mutant(tree: Path, seed: int, path: str, src: bytes, mutations: list[str],
                 run_scan: bool) -> Outcome:
    """`tree` holds the mutant; returns what happened."""
    out = Outcome(seed, path, mutations)
    before = snapshot(tree)
    try:
        if run_scan:
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()) as err:
                rc = cli_main(["scan", "--tree", str(tree), "--no-cache", "-j", "1"])
            if rc not in (0, 2):
                return _set(out, "crash", f"scan exit {rc}: {err.getvalue()[-300:]}")
        try:
            engine = open_engine(tree, PlanOptions(cache_dir=_CACHE, jobs=1))
        except MigratorError as exc:
            return _set(out, "error", str(exc))
        for stage in range(1, 7):
            try:
                plan = engine.plan(stage)
            except MigratorError as exc:
                out.kind, out.detail = "error", str(exc)
                continue
            out.sites += len(plan.sites)
            by_file = edits.group_by_file(
                e for s in plan.sites if s.outcome is SiteOutcome.REWRITE for e in s.edits)
            for file, file_edits in sorted(by_file.items()):
                original = (tree / file).read_bytes()
                for edit in file_edits:
                    if not 0 <= edit.start <= edit.end <= len(original):
                        return _set(out, "invalid", f"stage {stage}: {file}: edit "
                                    f"{edit.start}-{edit.end} outside the file")
                try:
                    new = edits.rewrite_checked(file, original, file_edits)
                except MigratorError as exc:
                    if file not in str(exc):
                        return _set(out, "crash", f"error without a file name: {exc}")
                    continue
                if parse.count_errors(new) > parse.count_errors(original):
                    return _set(out, "invalid", f"stage {stage}: {file}: more parse errors")
                out.files_rewritten += 1
        if snapshot(tree) != before:
            return _set(out, "invalid", "planning changed the tree")
    except Timeout:
        return _set(out, "timeout", "")
    except Exception:  # the point of the exercise: anything else is a crash
        return _set(out, "crash", traceback.format_exc()[-1500:])
    return out


def _set(out: Outcome, kind: str, detail: str) -> Outcome:
    out.kind, out.detail = kind, detail
    return out


# --- worker pool --------------------------------------------------------------------------

_WORK: Path | None = None
_CACHE: Path | None = None  # per worker: chunk facts of the unchanged chunks
_FILES: list[str] = []
_TIMEOUT = 20


def _init(timeout: int, parent: str | None = None) -> None:
    global _WORK, _FILES, _TIMEOUT, _CACHE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _TIMEOUT = timeout
    _FILES = sample_files()
    holder = Path(tempfile.mkdtemp(prefix="migrate-fuzz-", dir=parent))
    _WORK, _CACHE = holder / "tree", holder / "cache"
    shutil.copytree(SAMPLE, _WORK, symlinks=True)


def _run_one(args: tuple[int, float]) -> Outcome:
    seed, scan_share = args
    assert _WORK is not None
    path, src, mutations = make_mutant(seed, _FILES)
    target = _WORK / path
    original = (SAMPLE / path).read_bytes()
    target.write_bytes(src)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(_TIMEOUT)
    try:
        run_scan = random.Random(seed ^ 0x5CA9).random() < scan_share
        return check_mutant(_WORK, seed, path, src, mutations, run_scan)
    except Timeout:
        return Outcome(seed, path, mutations, "timeout")
    finally:
        signal.alarm(0)
        target.write_bytes(original)


def run_stage_mutants(count: int, seed: int) -> list[Outcome]:
    """`migrate stage 2` (subprocess, git) on `count` mutants."""
    files = sample_files()
    results = []
    for i in range(count):
        path, src, mutations = make_mutant(seed + 1_000_000 + i, files)
        out = Outcome(seed + 1_000_000 + i, path, mutations)
        with tempfile.TemporaryDirectory(prefix="migrate-fuzz-stage-") as tmp:
            repo = Path(tmp) / "repo"
            shutil.copytree(SAMPLE, repo, symlinks=True)
            (repo / path).write_bytes(src)
            git = ["git", "-C", str(repo), "-c", "user.name=Fuzz", "-c", "user.email=f@e.org"]
            subprocess.run([*git, "init", "-q"], check=True)
            subprocess.run([*git, "config", "user.name", "Fuzz"], check=True)
            subprocess.run([*git, "config", "user.email", "f@e.org"], check=True)
            subprocess.run([*git, "add", "-A"], check=True)
            subprocess.run([*git, "commit", "-qm", "mutant"], check=True)
            status_before = subprocess.run([*git, "status", "--porcelain"], capture_output=True,
                                           check=True).stdout
            dest = Path(tmp) / "out"
            env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(Path(tmp) / "c")}
            try:
                proc = subprocess.run(
                    [sys.executable, "-m", "migrator.cli", "stage", "2", "--tree", str(repo),
                     "--out", str(dest)], capture_output=True, text=True, env=env, timeout=120)
            except subprocess.TimeoutExpired:
                results.append(_set(out, "timeout", "stage 2"))
                continue
            status_after = subprocess.run([*git, "status", "--porcelain"], capture_output=True,
                                          check=True).stdout
            if "Traceback" in proc.stderr or proc.returncode not in (0, 1, 2):
                _set(out, "crash", f"stage exit {proc.returncode}: {proc.stderr[-1500:]}")
            elif status_after != status_before:
                _set(out, "invalid", "stage changed the user's work tree")
            elif proc.returncode == 0 and dest.exists() and not (
                    dest / "0000-cover-letter.patch").exists():
                _set(out, "invalid", "--out without a cover letter")
            elif proc.returncode == 2:
                _set(out, "error", proc.stderr.strip()[-300:])
        results.append(out)
    return results


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[Outcome] = field(default_factory=list)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=20, help="seconds per mutant")
    parser.add_argument("--scan-share", type=float, default=0.1,
                        help="share of mutants also run through the `scan` command")
    parser.add_argument("--stage-mutants", type=int, default=0,
                        help="mutants also run through `migrate stage 2` (git)")
    parser.add_argument("--show", type=int, default=10, help="failures to print")
    args = parser.parse_args(argv)
    started = time.monotonic()
    summary = Summary()
    jobs = [(args.seed * 1_000_003 + i, args.scan_share) for i in range(args.mutants)]
    scratch = tempfile.TemporaryDirectory(prefix="migrate-fuzz-")
    with scratch, multiprocessing.get_context("fork").Pool(
            args.jobs, _init, (args.timeout, scratch.name), maxtasksperchild=500) as pool:
        for done, outcome in enumerate(pool.imap_unordered(_run_one, jobs, chunksize=8), 1):
            summary.counts[outcome.kind] = summary.counts.get(outcome.kind, 0) + 1
            if outcome.kind in ("crash", "invalid", "timeout"):
                summary.failures.append(outcome)
            if done % 500 == 0:
                print(f"  {done} mutants, {time.monotonic() - started:.0f}s, "
                      f"{len(summary.failures)} failures", file=sys.stderr, flush=True)
    for outcome in run_stage_mutants(args.stage_mutants, args.seed):
        summary.counts["stage:" + outcome.kind] = summary.counts.get("stage:" + outcome.kind,
                                                                     0) + 1
        if outcome.kind in ("crash", "invalid", "timeout"):
            summary.failures.append(outcome)
    elapsed = time.monotonic() - started
    crashes = sum(o.kind in ("crash", "timeout") for o in summary.failures)
    invalid = sum(o.kind == "invalid" for o in summary.failures)
    print(f"mutants run: {args.mutants} (+{args.stage_mutants} through `migrate stage 2`)")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.counts.items())))
    print(f"crashes: {crashes}, invalid patches: {invalid}, time: {elapsed:.1f}s "
          f"({args.jobs} processes)")
    for outcome in summary.failures[: args.show]:
        print(f"--- seed {outcome.seed} {outcome.path} {'+'.join(outcome.mutations)}: "
              f"{outcome.kind}\n{outcome.detail}")
    return 1 if summary.failures else 0


if __name__ == "__main__":
    sys.exit(main())
