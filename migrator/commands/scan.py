"""`migrate scan`: find every stage's sites; change nothing."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from migrator.commands.common import add_engine_options, parse_stages, plan_options, write_manifest
from migrator.engine.planner import scan
from migrator.model import Outcome, ParseStats, Site
from migrator.packs import Pack


def register(subparsers: argparse._SubParsersAction, pack: Pack) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "scan", help="find sites, change nothing",
        description="Index the tree and list, per stage, every site a stage must convert: "
                    "rewrite (template known), review (a human decides) or report (listed for a "
                    "human, nothing to convert); calls converted already are counted apart.")
    parser.add_argument("--tree", type=Path, default=Path("."),
                        help="kernel source tree (default: .)")
    parser.add_argument("--stage", default="all", metavar="N|N-M|all",
                        help="stages to scan (default: all)")
    parser.add_argument("--json", metavar="FILE", help="write the site manifest (SPEC §4)")
    parser.add_argument("--stats", action="store_true",
                        help="also report how many functions parse cleanly, before and after "
                             "normalisation")
    parser.add_argument("--list", action="store_true", help="list every site, not only counts")
    add_engine_options(parser, pack)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stages = parse_stages(args.stage, args.pack_stages, allow_all=True)
    result = scan(args.tree, stages, plan_options(args), stats=args.stats)
    sites: list[Site] = result.sites
    out = sys.stdout
    counts = Counter((s.stage, s.template, s.outcome) for s in sites)
    out.write(f"{'stage':>5}  {'template':<10} {'outcome':<12} {'sites':>6}\n")
    for (stage, template, outcome), n in sorted(counts.items()):
        out.write(f"{stage:>5}  {template:<10} {outcome:<12} {n:>6}\n")
    by_outcome = Counter(s.outcome for s in sites)
    done = by_outcome[Outcome.ALREADY_DONE]
    out.write(f"total: {len(sites) - done} sites, {by_outcome[Outcome.REWRITE]} rewrite, "
              f"{by_outcome[Outcome.REVIEW]} review, {by_outcome[Outcome.REPORT]} report; "
              f"{done} already done ({result.files_indexed} files indexed)\n")
    if args.list:
        for site in sites:
            out.write(f"{site.file}:{site.line}: stage {site.stage} {site.template} "
                      f"{site.outcome}: {site.function}: {site.reason}\n")
    if result.skipped:
        out.write(f"not examined: {len(result.skipped)} files\n")
        for reason in result.skipped:
            out.write(f"  {reason}\n")
    if args.stats:
        write_stats(result.stats)
    if args.json:
        write_manifest(args.json, sites)
    return 0


def write_stats(stats: ParseStats) -> None:
    def pct(part: int, whole: int) -> str:
        return f"{100.0 * part / whole:.2f}%" if whole else "n/a"

    sys.stdout.write(
        "parse quality (functions in the files indexed, no ERROR/MISSING node):\n"
        f"  all functions:    {stats.functions:>7}  raw {stats.functions_clean_raw:>7} "
        f"({pct(stats.functions_clean_raw, stats.functions)})  normalised "
        f"{stats.functions_clean:>7} ({pct(stats.functions_clean, stats.functions)})\n"
        f"  target functions: {stats.target_functions:>7}  raw "
        f"{stats.target_functions_clean_raw:>7} "
        f"({pct(stats.target_functions_clean_raw, stats.target_functions)})  normalised "
        f"{stats.target_functions_clean:>7} "
        f"({pct(stats.target_functions_clean, stats.target_functions)})\n")
