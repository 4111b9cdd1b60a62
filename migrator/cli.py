"""`migrate` command line: one module per subcommand under migrator/commands/."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import jinja2
from git.exc import GitCommandError

from migrator import __version__
from migrator.index import cache as cachedb
from migrator.model.errors import MigratorError
from migrator.output.messages import template_error
from migrator.packs import Pack, load_pack

# Each module defines `register(subparsers, pack) -> None` and sets `func=run` on its
# parser; the pack (--pack, default packs.DEFAULT_PACK) gives the stages and the flags.
SUBCOMMANDS = ("scan", "stage", "review", "status", "verify", "cache", "packs")


def chosen_pack(argv: Sequence[str]) -> Pack:
    """The pack `--pack NAME` (and `--packs-dir DIR`) in `argv` name: its options become
    flags of the subcommands, so it is read before the parser is built."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--pack", default=None)
    pre.add_argument("--packs-dir", type=Path, action="append", default=[])
    known, _ = pre.parse_known_args(list(argv))
    return load_pack(known.pack, known.packs_dir)


def build_parser(pack: Pack | None = None) -> argparse.ArgumentParser:
    pack = pack if pack is not None else load_pack()
    parser = argparse.ArgumentParser(
        prog="migrate",
        description=(
            "Migrate Linux kernel code off a lock or API, mechanically, stage by stage, "
            "as git-format-patch series. Each migration is a pack (`migrate packs`); "
            f"this one: {pack.name}, {pack.title}."
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
        module.register(subparsers, pack)
    parser.set_defaults(pack_obj=pack, pack_stages=pack.stage_numbers,
                        pack_option_names=tuple(o.name for o in pack.options))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:  # a signal while the subcommands are imported is an interruption too
        parser = build_parser(chosen_pack(argv))
    except KeyboardInterrupt:
        print("migrate: interrupted", file=sys.stderr)
        return 130
    except MigratorError as exc:  # --pack names no pack, or its pack.toml is wrong
        print(f"migrate: error: {exc}", file=sys.stderr)
        return exc.exit_code
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
    except jinja2.TemplateError as exc:  # a pack's texts.j2 or template is wrong
        print(f"migrate: error: {template_error(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    code = main()
    # the run is over: a ^C while the interpreter shuts down ends it at once (killed by
    # SIGINT), not with a KeyboardInterrupt traceback from its shutdown code
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(code)
