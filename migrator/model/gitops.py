"""GitPython helpers: temporary worktrees, commits, format-patch, `git am` checks.

Nothing here touches the user's checked-out branch, index or work tree except
`fast_forward()`, which `migrate stage --apply` calls on a clean tree only.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import git

from migrator.model import signals, srctext
from migrator.model.errors import MigratorError, check_tree

# Temporary worktrees live in directories named like this; the pid file beside
# the checkout tells a later run whether their owner is still alive.
WORKTREE_PREFIX = "migrate-wt-"
OWNER_FILE = "owner.pid"
# Never let user config sign, prompt or run hooks inside our scratch worktrees.
QUIET_CONFIG = ("-c", "commit.gpgSign=false", "-c", "core.hooksPath=/dev/null")


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    email: str

    @property
    def signoff(self) -> str:
        return f"Signed-off-by: {self.name} <{self.email}>"

    def env(self, date: str | None = None) -> dict[str, str]:
        env = {
            "GIT_AUTHOR_NAME": self.name,
            "GIT_AUTHOR_EMAIL": self.email,
            "GIT_COMMITTER_NAME": self.name,
            "GIT_COMMITTER_EMAIL": self.email,
        }
        if date:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
        return env


def open_repo(tree: Path) -> git.Repo:
    """The repository whose work tree is `tree`; MigratorError if it is not one."""
    check_tree(tree)  # names what is wrong: missing, not a directory, unreadable
    try:
        repo = git.Repo(tree, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise MigratorError(
            f"{tree}: not a git work tree; `migrate stage` builds the series from "
            "the committed tree (run `git init && git add -A && git commit` first)"
        ) from None
    if repo.bare or repo.working_tree_dir is None:
        raise MigratorError(f"{tree}: a bare repository has no work tree")
    return repo


def identity(repo: git.Repo) -> Identity:
    """user.name / user.email as `git config` in the tree sees them."""
    values: dict[str, str] = {}
    for key in ("user.name", "user.email"):
        try:
            values[key] = repo.git.config("--get", key).strip()
        except git.GitCommandError:
            values[key] = ""
        if not values[key]:
            raise MigratorError(
                f"{repo.working_tree_dir}: git config {key} is not set; it is needed for "
                f"the Signed-off-by trailer (git config {key} ...)"
            )
    return Identity(values["user.name"], values["user.email"])


def resolve_commit(repo: git.Repo, rev: str) -> str:
    if rev == "HEAD" and not repo.head.is_valid():
        raise MigratorError(f"{repo.working_tree_dir}: the repository has no commits yet; "
                            "`migrate stage` builds the series on a committed base")
    try:
        return repo.commit(rev).hexsha
    except (git.BadName, ValueError, git.GitCommandError):
        raise MigratorError(f"{repo.working_tree_dir}: --base {rev}: no such commit") from None


def is_dirty(repo: git.Repo) -> bool:
    return repo.is_dirty(index=True, working_tree=True, untracked_files=False)


def tracked_under(repo: git.Repo, rel_path: str) -> bool:
    """True when git tracks `rel_path` or anything below it."""
    return bool(repo.git.ls_files("--", rel_path).strip())


def source_date() -> str | None:
    """SOURCE_DATE_EPOCH makes commits (and so patch files) reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return f"@{int(epoch)} +0000" if epoch.isdigit() else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune_stale_worktrees(repo: git.Repo) -> list[str]:
    """Remove worktrees left by a killed `migrate` run; return their paths."""
    pruned: list[str] = []
    porcelain = repo.git.worktree("list", "--porcelain")
    for line in porcelain.splitlines():
        if not line.startswith("worktree "):
            continue
        path = Path(line[len("worktree ") :])
        holder = path.parent
        if not holder.name.startswith(WORKTREE_PREFIX):
            continue
        owner = holder / OWNER_FILE
        try:
            pid = int(owner.read_text().strip())
        except (OSError, ValueError):
            pid = 0
        if pid and _pid_alive(pid):
            continue  # another migrate run is using it
        with suppress(git.GitCommandError):
            repo.git.worktree("remove", "--force", str(path))
        shutil.rmtree(holder, ignore_errors=True)
        pruned.append(str(path))
    repo.git.worktree("prune")
    return pruned


@contextmanager
def temporary_worktree(repo: git.Repo, commit: str) -> Iterator[git.Repo]:
    """A detached worktree at `commit` in a temp dir, removed on exit (also on ^C)."""
    try:
        holder = Path(tempfile.mkdtemp(prefix=WORKTREE_PREFIX))
    except OSError as exc:
        raise MigratorError(f"{tempfile.gettempdir()}: cannot create a temporary worktree: "
                            f"{exc.strerror or exc}") from None
    path = holder / "tree"
    try:
        try:
            (holder / OWNER_FILE).write_text(f"{os.getpid()}\n")
            repo.git.worktree("add", "--detach", "--quiet", str(path), commit)
        except (OSError, git.GitCommandError) as exc:
            detail = (getattr(exc, "stderr", "") or getattr(exc, "strerror", "") or exc)
            raise MigratorError(f"{holder}: cannot create a temporary worktree: "
                                f"{str(detail).strip()}") from None
        signals.check()  # interrupted while `git worktree add` ran
        yield git.Repo(path)
    finally:
        with suppress(git.GitCommandError):
            repo.git.worktree("remove", "--force", str(path))
        shutil.rmtree(holder, ignore_errors=True)
        with suppress(git.GitCommandError):
            repo.git.worktree("prune")


def cleanup_on_signals() -> AbstractContextManager[None]:
    """SIGINT/SIGTERM/SIGHUP set a flag (and stop the running git/make child); the run
    checks it between steps and ends with KeyboardInterrupt, so `finally` blocks run
    (see migrator/signals.py: no exception is raised inside the handler)."""
    return signals.deferred()


def commit_files(
    repo: git.Repo, paths: Sequence[str], message: str, who: Identity, date: str | None
) -> str:
    """Commit `paths` (already written in `repo`'s work tree) with `message`; return sha."""
    signals.check()  # one commit per patch: an interrupted run stops between patches
    repo.git.add("--", *paths)
    with tempfile.NamedTemporaryFile("wb", suffix=".msg", delete=False) as fh:
        fh.write(srctext.encode(message))
        message_file = fh.name
    try:
        repo.git.execute(
            [
                "git", *QUIET_CONFIG, "commit", "--quiet", "--no-verify",
                "--cleanup=whitespace", "-F", message_file,
            ],
            env={**os.environ, **who.env(date)},
        )
    finally:
        os.unlink(message_file)
    return repo.head.commit.hexsha


def format_patch(
    repo: git.Repo,
    base: str,
    start: str,
    end: str,
    out_dir: Path,
    subject_prefix: str = "PATCH",
) -> list[Path]:
    """`git format-patch --cover-letter -n --base=<base> start..end` into out_dir."""
    signals.check()
    out_dir.mkdir(parents=True, exist_ok=True)
    output = repo.git.execute(
        [
            "git", "format-patch", "--cover-letter", "-n", f"--base={base}",
            f"--subject-prefix={subject_prefix}", "--no-thread", "--no-attach",
            "-o", str(out_dir), f"{start}..{end}",
        ]
    )
    return [Path(line) for line in str(output).splitlines() if line.strip()]


def am_verify(repo: git.Repo, base: str, patches: Sequence[Path], who: Identity) -> str:
    """Apply `patches` with `git am` on `base` in a scratch worktree; return the tree sha."""
    signals.check()
    with temporary_worktree(repo, base) as scratch:
        try:
            scratch.git.execute(
                [
                    "git", *QUIET_CONFIG, "-c", "am.threeWay=false", "am", "--quiet",
                    "--no-gpg-sign", *[str(p) for p in patches],
                ],
                env={**os.environ, **who.env()},
            )
        except git.GitCommandError as exc:
            detail = (exc.stderr or exc.stdout or "").strip()
            raise MigratorError(f"git am of the series on {base[:12]} failed: {detail}") from None
        return scratch.head.commit.tree.hexsha


def tree_of(repo: git.Repo, rev: str) -> str:
    return repo.commit(rev).tree.hexsha


def fast_forward(repo: git.Repo, commit: str) -> None:
    """Move the checked-out branch to `commit` (must be a descendant of HEAD)."""
    if is_dirty(repo):
        raise MigratorError(f"{repo.working_tree_dir}: work tree is not clean; not applying")
    try:
        repo.git.merge("--ff-only", "--quiet", commit)
    except git.GitCommandError as exc:
        raise MigratorError(
            f"{repo.working_tree_dir}: cannot fast-forward to {commit[:12]}: "
            f"{(exc.stderr or '').strip()}"
        ) from None


def log_subjects(repo: git.Repo, paths: Sequence[str], limit: int = 200,
                 rev: str = "HEAD") -> list[str]:
    """Subjects of the commits up to `rev` touching `paths`, newest first."""
    try:
        output = repo.git.log(f"-n{limit}", "--no-merges", "--format=%s", rev, "--", *paths)
    except git.GitCommandError:
        return []
    return [line for line in output.splitlines() if line.strip()]
