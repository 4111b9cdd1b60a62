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


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("indexing")
    group.add_argument("--rules", metavar="DIR", type=Path,
                       help="rule files directory (default: the project's rules/)")
    group.add_argument("--cache-dir", metavar="DIR", type=Path,
                       help="parse cache (default: $XDG_CACHE_HOME/migrator or ~/.cache/migrator)")
    group.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    group.add_argument("--jobs", "-j", type=int, default=0,
                       help="parser processes (default: all cores)")
    rules = parser.add_argument_group("rule options")
    # Rule options default to None: only a flag the user gives overrides the value the
    # rule file declares in its [options] table (see plan_options).
    rules.add_argument("--with-core", action=argparse.BooleanOptionalAction, default=None,
                       help="core patches: stage 1 declares the nd_lock API in "
                       "include/linux/netdevice.h, stage 6 takes the lock in net/core/dev.c's "
                       "NETDEV_REGISTER replay (stage 2's link_deps declarations in "
                       "include/net/rtnetlink.h are always written: its tables need them; "
                       "default: the rules' with_core)")
    rules.add_argument("--t0", choices=("all", "pernet", "none"), default=None,
                       help="stage 1: register_netdev() callers to convert (default: the "
                       "rule's t0, pernet as shipped)")
    rules.add_argument("--t5", choices=("review", "rewrite"), default=None,
                       help="stage 3: registrations from notifiers (default: the rule's t5, "
                       "review as shipped)")


def plan_options(args: argparse.Namespace) -> PlanOptions:
    cache_dir = getattr(args, "cache_dir", None)
    jobs = getattr(args, "jobs", 0) or 0
    if jobs < 0:
        raise MigratorError(f"--jobs must be >= 0, not {jobs}")
    return PlanOptions(rules_dir=getattr(args, "rules", None), cache_dir=cache_dir,
                       use_cache=not getattr(args, "no_cache", False), jobs=jobs,
                       progress=sys.stderr.isatty(),
                       rule_options=command_line_rule_options(args))


RULE_OPTION_FLAGS = ("with_core", "t0", "t5")


def command_line_rule_options(args: argparse.Namespace) -> dict[str, object]:
    """The rule options the user gave on the command line, and only those: an option
    left out keeps the value of the rule file's [options] table (engine.run_rule)."""
    out: dict[str, object] = {}
    for name in RULE_OPTION_FLAGS:
        value = getattr(args, name, None)
        if value is not None:
            out[name] = value
    return out


def parse_stages(text: str, *, allow_all: bool = False) -> list[int]:
    """"2" -> [2], "1-3" -> [1, 2, 3], "all" -> [1..6]."""
    if allow_all and text == "all":
        return [1, 2, 3, 4, 5, 6]
    first, sep, last = text.partition("-")
    try:
        low = int(first)
        high = int(last) if sep else low
    except ValueError:
        raise MigratorError("stage must be a number 1-6, a range N-M"
                            f"{' or all' if allow_all else ''}, not {text!r}") from None
    if not (1 <= low <= high <= 6):
        raise MigratorError(f"stage must be within 1-6 (and N <= M), not {text!r}")
    return list(range(low, high + 1))


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
