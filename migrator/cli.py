"""`migrate` command line: one module per subcommand under migrator/commands/."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Sequence

from git.exc import GitCommandError

from migrator import __version__, cachedb
from migrator.errors import MigratorError

# Each module defines `register(subparsers) -> None` and sets `func=run` on its parser.
SUBCOMMANDS = ("scan", "stage", "review", "status", "verify", "cache")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migrate",
        description=(
            "Migrate Linux networking code from RTNL to per-device nd_lock, "
            "stage by stage, as a git-format-patch series."
        ),
        epilog="exit status: 0 success; 1 sites left for review (--strict); 2 usage or "
        "input error; 3 verification failed (a series fails a check of migrate verify "
        "or stage --verify-build; nothing is written).",
    )
    parser.add_argument("--version", action="version", version=f"migrate {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"migrator.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"migrator.commands.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:  # a signal while the subcommands are imported is an interruption too
        parser = build_parser()
    except KeyboardInterrupt:
        print("migrate: interrupted", file=sys.stderr)
        return 130
    args = parser.parse_args(argv)
    try:
        try:
            return int(args.func(args) or 0)
        finally:  # inside the handlers below: a ^C while the cache closes is one too
            cachedb.close_all()  # pending writes; entries of removed worktrees go
    except MigratorError as exc:
        print(f"migrate: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("migrate: interrupted", file=sys.stderr)
        return 130
    except GitCommandError as exc:  # a git step failed: say which, no traceback
        stderr = (exc.stderr or "").strip().replace("\n", "\n  ")
        print(f"migrate: error: git {' '.join(map(str, exc.command[1:3]))} failed "
              f"(exit {exc.status}): {stderr}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    code = main()
    # the run is over: a ^C while the interpreter shuts down ends it at once (killed by
    # SIGINT), not with a KeyboardInterrupt traceback from its shutdown code
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(code)
