"""Run the tree's own scripts/checkpatch.pl and keep only what the series introduced.

Comparison method: checkpatch is run twice per patch.
  1. on the patch file as written (commit message, Signed-off-by and code), and
  2. on the reverse diff of the same commit (`git diff <commit> <commit>^`),
     where the *original* lines are the added ones, with --no-signoff.
For code issues (those naming a FILE) the runs are compared by (file, type)
counts: an issue type the patch reports more often in a file than the original
lines did is new. The reverse diff has the same context, so checks that look
at neighbouring lines see the same surroundings; line numbers are not compared
because the edits move them. Issues with no FILE are about the commit message
we wrote and are always ours. New ERROR/WARNING fail the run; new CHECK
(--strict style notes) are reported but do not fail it.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import git

ISSUE = re.compile(r"^(ERROR|WARNING|CHECK):([A-Z0-9_]+): (.*)$")
WHERE = re.compile(r"^#\d+: (?:FILE: (.+?):(\d+):)?")
FAILING = ("ERROR", "WARNING")


@dataclass(frozen=True, slots=True)
class Issue:
    level: str  # ERROR | WARNING | CHECK
    type: str  # checkpatch message type, e.g. LONG_LINE
    message: str
    file: str  # "" for commit-message issues
    line: int

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file else "commit message: "
        return f"{where}{self.level}:{self.type}: {self.message}"


@dataclass(frozen=True, slots=True)
class PatchReport:
    patch: str  # patch file name
    new_issues: tuple[Issue, ...]

    @property
    def failing(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.new_issues if issue.level in FAILING)


def script_path(tree: Path) -> Path | None:
    path = tree / "scripts" / "checkpatch.pl"
    return path if path.is_file() else None


def parse_output(output: str) -> list[Issue]:
    issues: list[Issue] = []
    lines = output.splitlines()
    for index, line in enumerate(lines):
        head = ISSUE.match(line)
        if not head:
            continue
        file, number = "", 0
        where = WHERE.match(lines[index + 1]) if index + 1 < len(lines) else None
        if where and where.group(1):
            file, number = where.group(1), int(where.group(2))
        issues.append(Issue(head.group(1), head.group(2), head.group(3), file, number))
    return issues


def run_checkpatch(tree: Path, patch_text: str, extra: tuple[str, ...] = ()) -> list[Issue]:
    script = script_path(tree)
    if script is None:
        return []
    result = subprocess.run(
        ["perl", str(script), "--strict", "--no-tree", "--show-types", "--no-summary",
         "--color=never", *extra, "-"],
        input=patch_text, capture_output=True, text=True, cwd=tree, check=False,
    )
    return parse_output(result.stdout)


def new_issues(forward: list[Issue], original: list[Issue]) -> list[Issue]:
    baseline = Counter((issue.file, issue.type) for issue in original)
    seen: Counter[tuple[str, str]] = Counter()
    out: list[Issue] = []
    for issue in forward:
        if not issue.file:
            out.append(issue)
            continue
        key = (issue.file, issue.type)
        seen[key] += 1
        if seen[key] > baseline[key]:
            out.append(issue)
    return out


def check_patch(repo: git.Repo, patch_file: Path, commit: str) -> PatchReport:
    """New checkpatch issues of one patch file whose commit is `commit` in `repo`."""
    tree = Path(str(repo.working_tree_dir))
    forward = run_checkpatch(tree, patch_file.read_text(encoding="utf-8", errors="replace"))
    if not forward:
        return PatchReport(patch_file.name, ())
    reverse_diff = repo.git.diff(
        "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/", commit, f"{commit}^"
    ) + "\n"
    original = run_checkpatch(tree, reverse_diff, ("--no-signoff",))
    return PatchReport(patch_file.name, tuple(new_issues(forward, original)))
