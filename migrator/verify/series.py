"""All §7 checks over a series of patch files, applied in order on a base commit.

Used by `migrate verify` (written series) and `migrate stage --verify-build`
(series just built). The patches are applied one by one with `git am` in a
scratch work tree, never the user's: the build cache's source tree when the
build check runs (see build.py), else a temporary detached worktree. For each
patch, in order:

* source checks: ``source.check_rewrite()`` on every `.c`/`.h` file the patch
  adds or modifies, with its bytes before and after the patch;
* build check: kbuild compiles the patch's `.c` files (and, for the headers it
  touches, the series' `.c` files that include them); the first failure stops
  the build check (later patches build on a broken tree);

then, after the last patch, ``complete.check_completeness()`` on the final tree
with the lines the series adds (numbered in the final files).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import git

from migrator.model import gitops, signals
from migrator.model.errors import MigratorError
from migrator.verify.build import BuildOptions, BuildStats, KernelBuild, PatchBuild
from migrator.verify.complete import Api, check_completeness
from migrator.verify.includes import IncludeScanner, objects_for_patch
from migrator.verify.kbuild import CONFIG_TARGET
from migrator.verify.model import LockPair, Violation
from migrator.verify.source import check_rewrite

Say = Callable[[str], None]
COVER_LETTER = "0000-cover-letter.patch"
BASE_COMMIT = re.compile(r"^base-commit: ([0-9a-f]{7,64})\s*$", re.MULTILINE)
DIFF_HEADER = re.compile(r"^diff --git a/(\S+) b/(\S+)$", re.MULTILINE)
HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
SOURCE_SUFFIXES = (".c", ".h")
# git am in the scratch tree: no user hooks, signing or 3-way guessing; a fixed committer.
AM_COMMAND = ("git", *gitops.QUIET_CONFIG, "-c", "am.threeWay=false", "am", "--quiet",
              "--no-gpg-sign")
AM_ENV = {"GIT_COMMITTER_NAME": "migrate verify", "GIT_COMMITTER_EMAIL": "verify@migrator.invalid"}


@dataclass(frozen=True, slots=True)
class PatchReport:
    """One patch: its display name, the files it adds or modifies, what the
    source checks found in it, and its build result (None: not built)."""

    name: str
    files: tuple[str, ...]
    violations: tuple[Violation, ...]
    build: PatchBuild | None


@dataclass(slots=True)
class SeriesReport:
    """Result of `verify_series()`: per patch, plus the series-wide findings
    (completeness, a patch that does not apply). `build` is None when the build
    check did not run; `seconds` is the wall-clock time of the whole run."""

    base: str
    patches: list[PatchReport] = field(default_factory=list)
    series_violations: list[Violation] = field(default_factory=list)
    build: BuildStats | None = None
    seconds: float = 0.0

    @property
    def violations(self) -> list[Violation]:
        found = [v for patch in self.patches for v in patch.violations]
        return found + self.series_violations

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def not_checked(self) -> list[tuple[str, str]]:
        """(patch, file) pairs the build configuration does not compile."""
        return [(patch.name, path) for patch in self.patches if patch.build
                for path in patch.build.not_checked]


def patch_files(patch: Path) -> list[str]:
    """Files a patch file changes (the b/ side of its `diff --git` lines)."""
    try:
        text = patch.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise MigratorError(f"{patch}: cannot read the patch: {exc.strerror or exc}") from None
    return [match.group(2) for match in DIFF_HEADER.finditer(text)]


def _bytes(repo: Path, rev: str, path: str) -> bytes:
    result = subprocess.run(["git", "-C", str(repo), "cat-file", "blob", f"{rev}:{path}"],
                            capture_output=True, check=False)
    return result.stdout if result.returncode == 0 else b""


def _git_text(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                            errors="replace", check=False)
    if result.returncode != 0:
        raise MigratorError(f"{repo}: git {' '.join(args[:2])} failed: "
                            f"{result.stderr.strip()}")
    return result.stdout


def changed_files(repo: Path, old: str, new: str) -> list[tuple[str, str]]:
    """(status letter, path) of every file that differs between two commits."""
    out = _git_text(repo, "diff-tree", "-r", "--no-renames", "--name-status", "-z", old, new)
    fields = out.split("\0")
    return [(fields[i], fields[i + 1]) for i in range(0, len(fields) - 1, 2)]


def added_lines(repo: Path, old: str, new: str) -> dict[str, list[tuple[int, str]]]:
    """Lines added between two commits, per file: (1-based line in `new`, text)."""
    out = _git_text(repo, "diff", "-U0", "--no-renames", "--no-color", "--no-ext-diff",
                    old, new)
    added: dict[str, list[tuple[int, str]]] = {}
    current: list[tuple[int, str]] | None = None
    number = 0
    in_header = False  # between `diff --git` and the first hunk: `+++ b/...` names the file
    for line in out.splitlines():
        if line.startswith("diff --git "):
            in_header, current = True, None
        elif in_header and line.startswith("+++ "):
            name = line[4:]
            current = None if name == "/dev/null" else added.setdefault(name[2:], [])
        elif line.startswith("@@"):
            in_header = False
            match = HUNK.match(line)
            number = int(match.group(1)) if match else 0
        elif not in_header and line.startswith("+") and current is not None:
            current.append((number, line[1:]))
            number += 1
    return {path: lines for path, lines in added.items() if lines}


def apply_patch(tree: Path, patch: Path) -> str | None:
    """`git am` one patch in the scratch tree; None, or git's message when it fails
    (the failed am is aborted)."""
    result = subprocess.run([*AM_COMMAND, str(patch.absolute())], cwd=tree,
                            env={**os.environ, **AM_ENV}, capture_output=True, text=True,
                            errors="replace", check=False)
    if result.returncode == 0:
        return None
    subprocess.run(["git", "am", "--abort"], cwd=tree, capture_output=True, check=False)
    lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()
             and not line.startswith(("hint:", "When you have resolved", "If you prefer",
                                      "To restore the original"))]
    return "; ".join(lines[:4]) or f"git am exited {result.returncode}"


@contextmanager
def _scratch(repo: git.Repo, base: str, build: BuildOptions | None,
             say: Say) -> Iterator[tuple[Path, KernelBuild | None]]:
    if build is None:
        with gitops.temporary_worktree(repo, base) as work:
            yield Path(str(work.working_tree_dir)), None
        return
    with KernelBuild(Path(str(repo.working_tree_dir or repo.git_dir)), base, build,
                     say) as kernel:
        yield kernel.source, kernel


def verify_series(repo: git.Repo, base: str, patches: Sequence[Path],
                  names: Sequence[str] | None = None, *, source_checks: bool = True,
                  completeness: bool = True, build: BuildOptions | None = None,
                  pairs: Sequence[LockPair] = (), api: Api | None = None,
                  say: Say | None = None) -> SeriesReport:
    """Apply `patches` in order on commit `base` of `repo` in a scratch tree and run
    the checks. `names` are the patch names shown in reports (default: file names);
    `pairs` and `api` are the pack's lock pairs and API names (source and
    completeness checks; completeness is skipped without `api`).

    Findings are returned, not raised; MigratorError (exit 2) when the scratch
    tree cannot be made or the build cannot be configured.
    """
    say = say or (lambda _message: None)
    started = time.monotonic()
    names = list(names) if names is not None else [patch.name for patch in patches]
    report = SeriesReport(base=base)
    pairs = pairs if source_checks else ()
    series_sources = sorted({path for patch in patches for path in patch_files(patch)
                             if path.endswith(".c")})
    with _scratch(repo, base, build, say) as (tree, kernel):
        scanner = IncludeScanner(tree, kernel.objtree if kernel else None,
                                 kernel.srcarch() if kernel else None)
        if kernel is not None:
            report.build = kernel.stats
        building = kernel is not None
        for index, (patch, name) in enumerate(zip(patches, names, strict=True), 1):
            signals.check()  # an interrupted `stage --verify-build` stops here
            prefix = f"migrate: [{index}/{len(patches)}] {name}"
            failed = apply_patch(tree, patch)
            if failed is not None:
                report.series_violations.append(Violation(
                    "apply", name, None, 0, f"does not apply with git am on the series so far "
                    f"(base {base[:12]})", (failed,)))
                say(f"{prefix}: does not apply: {failed}")
                break
            changes = changed_files(tree, "HEAD~1", "HEAD")
            touched = tuple(path for status, path in changes if status != "D")
            violations: list[Violation] = []
            if source_checks:
                for status, path in changes:
                    if status == "D" or not path.endswith(SOURCE_SUFFIXES):
                        continue
                    before = b"" if status == "A" else _bytes(tree, "HEAD~1", path)
                    violations += check_rewrite(path, before, _bytes(tree, "HEAD", path), pairs)
            result: PatchBuild | None = None
            if building and kernel is not None:
                result = _build_patch(kernel, name, touched, series_sources, tree, scanner,
                                      prefix, say)
                if result.failure is not None:
                    failure = result.failure
                    violations.append(Violation(
                        "build", failure.file or failure.source, None, failure.line,
                        f"{failure.source} does not compile after {name}",
                        (failure.first_error, f"patch: {name}", f"object: {failure.source}")))
                    building = False  # later patches build on a broken tree
            elif source_checks:
                say(f"{prefix}: applied, {len(violations)} source finding(s)")
            report.patches.append(PatchReport(name, touched, tuple(violations), result))
        if (completeness and api is not None and report.patches
                and len(report.patches) == len(patches)):
            head = _git_text(tree, "rev-parse", "HEAD").strip()
            report.series_violations += check_completeness(tree, added_lines(tree, base, head),
                                                           api)
    report.seconds = time.monotonic() - started
    if report.build is not None:
        report.build.seconds = report.seconds
    return report


def _build_patch(kernel: KernelBuild, name: str, touched: Sequence[str],
                 series_sources: Sequence[str], tree: Path, scanner: IncludeScanner,
                 prefix: str, say: Say) -> PatchBuild:
    sources = objects_for_patch(touched, series_sources, tree, scanner, kernel.dependencies)
    if not sources:
        say(f"{prefix}: no .c file to compile")
        kernel.stats.patches += 1
        return PatchBuild(name, (), (), None, 0.0)
    say(f"{prefix}: compiling {', '.join(sources)}")
    started = time.monotonic()
    compiled, not_checked, failure = kernel.compile(sources)
    seconds = time.monotonic() - started
    stats = kernel.stats
    stats.patches += 1
    stats.compiled += len(compiled)
    stats.not_checked += len(not_checked)
    stats.not_checked_files += [path for path in not_checked
                                if path not in stats.not_checked_files]
    for path in not_checked:
        say(f"{prefix}: not checked: {path} (the {CONFIG_TARGET} configuration "
            "does not build it)")
    if failure is not None:
        say(f"{prefix}: FAILED: {failure.first_error}")
    else:
        say(f"{prefix}: {len(compiled)} compiled, {len(not_checked)} not checked "
            f"({seconds:.1f} s)")
    return PatchBuild(name, tuple(compiled), tuple(not_checked), failure, seconds)


def read_base(cover_letter: Path) -> str | None:
    """The `base-commit:` line of a cover letter (None when absent or unreadable)."""
    try:
        text = cover_letter.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = BASE_COMMIT.search(text)
    return match.group(1) if match else None


def _part_number(path: Path) -> int:
    return int(path.name.split("-", 1)[1])


def series_patches(series_dir: Path) -> tuple[list[Path], list[Path]]:
    """(patches in order, cover letters) of a written series: `0001-*.patch`... in
    the folder, or in its `part-K/` folders in K order. MigratorError naming the
    folder when it holds no patch."""
    if not series_dir.is_dir():
        raise MigratorError(f"{series_dir}: no such series folder")
    parts = sorted((p for p in series_dir.iterdir()
                    if p.is_dir() and re.fullmatch(r"part-\d+", p.name)), key=_part_number)
    folders = parts or [series_dir]
    patches: list[Path] = []
    covers: list[Path] = []
    for folder in folders:
        for path in sorted(folder.glob("*.patch")):
            if path.name == COVER_LETTER:
                covers.append(path)
            elif re.match(r"\d{4}-", path.name):
                patches.append(path)
    if not patches:
        raise MigratorError(f"{series_dir}: no patch files (expected 0001-*.patch, "
                            "or part-K/ folders holding them)")
    return patches, covers
