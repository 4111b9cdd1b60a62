"""Options shared by the subcommands that index a tree."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from migrator.engine.plan import PlanOptions
from migrator.model import Site
from migrator.model.errors import MigratorError
from migrator.packs import DEFAULT_PACK, Pack


def add_pack_options(parser: argparse.ArgumentParser) -> None:
    """--pack and --packs-dir (read before the parser is built: cli.chosen_pack)."""
    parser.add_argument("--pack", metavar="NAME", default=DEFAULT_PACK,
                        help=f"migration pack (default: {DEFAULT_PACK}; `migrate packs` "
                        "lists them)")
    parser.add_argument("--packs-dir", metavar="DIR", type=Path, action="append", default=[],
                        help="a further folder of packs (also: $MIGRATOR_PACKS_PATH)")


def add_engine_options(parser: argparse.ArgumentParser, pack: Pack) -> None:
    add_pack_options(parser)
    group = parser.add_argument_group("indexing")
    group.add_argument("--rules", metavar="DIR", type=Path,
                       help="rules directory, one folder per rule (default: the pack's "
                       "rules/)")
    group.add_argument("--cache-dir", metavar="DIR", type=Path,
                       help="parse cache (default: $XDG_CACHE_HOME/migrator or ~/.cache/migrator)")
    group.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    group.add_argument("--jobs", "-j", type=int, default=0,
                       help="parser processes (default: all cores)")
    add_pack_option_flags(parser, pack)


def add_pack_option_flags(parser: argparse.ArgumentParser, pack: Pack) -> None:
    """The flags the pack's options declare. They default to None: only a flag the user
    gives overrides the value of the pack and of the rule's [options] table."""
    group = parser.add_argument_group(f"options of pack {pack.name}")
    for option in pack.options:
        if option.flag is None:
            continue
        default = f"default: {option.default}" if option.type != "bool" else \
            f"default: {'on' if option.default else 'off'}"
        helptext = f"{option.help} ({default})" if option.help else f"({default})"
        if option.type == "bool":
            group.add_argument(option.flag, dest=option.name, default=None,
                               action=argparse.BooleanOptionalAction, help=helptext)
        elif option.type == "choice":
            group.add_argument(option.flag, dest=option.name, default=None,
                               choices=option.choices, help=helptext)
        elif option.type == "list":
            group.add_argument(option.flag, dest=option.name, default=None, action="append",
                               help=helptext)
        else:
            group.add_argument(option.flag, dest=option.name, default=None, help=helptext)


def plan_options(args: argparse.Namespace) -> PlanOptions:
    cache_dir = getattr(args, "cache_dir", None)
    jobs = getattr(args, "jobs", 0) or 0
    if jobs < 0:
        raise MigratorError(f"--jobs must be >= 0, not {jobs}")
    return PlanOptions(pack=getattr(args, "pack", None),
                       packs_dirs=tuple(getattr(args, "packs_dir", None) or ()),
                       rules_dir=getattr(args, "rules", None), cache_dir=cache_dir,
                       use_cache=not getattr(args, "no_cache", False), jobs=jobs,
                       progress=sys.stderr.isatty(),
                       rule_options=command_line_rule_options(args))


def command_line_rule_options(args: argparse.Namespace) -> dict[str, object]:
    """The pack options the user gave on the command line, and only those: an option
    left out keeps the value of the rule's [options] table or the pack's default."""
    out: dict[str, object] = {}
    for name in getattr(args, "pack_option_names", ()):
        value = getattr(args, name, None)
        if value is not None:
            out[name] = value
    return out


def parse_stages(text: str, stages: tuple[int, ...], *, allow_all: bool = False) -> list[int]:
    """"2" -> [2], "1-3" -> [1, 2, 3], "all" (with allow_all) -> every stage of the pack:
    `stages` are the pack's stage numbers."""
    if allow_all and text == "all":
        return list(stages)
    first, sep, last = text.partition("-")
    try:
        low, high = int(first), int(last if sep else first)
    except ValueError:
        raise MigratorError(f"stage {text!r}: expected N or N-M"
                            f"{' or all' if allow_all else ''}") from None
    if low not in stages or high not in stages:
        raise MigratorError(f"stage {text!r}: stages are {stages[0]}..{stages[-1]}")
    if low > high:
        raise MigratorError(f"stage {text!r}: range N-M needs N <= M")
    return [stage for stage in stages if low <= stage <= high]


def write_manifest(path: str, sites: list[Site]) -> None:
    """The SPEC §4 manifest: one JSON record per site, written atomically."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(json.dumps([s.to_json() for s in sites], indent=1) + "\n", "utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise MigratorError(f"{path}: cannot write --json manifest: {exc.strerror or exc}") \
            from exc
