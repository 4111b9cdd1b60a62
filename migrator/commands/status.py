"""`migrate status`: per stage and rule, how many sites are done and how many are left,
from the rules themselves (done = ALREADY_DONE sites, by each rule's done_when; to do =
REWRITE and REVIEW sites; REPORT counted apart), then the pack's other census lines."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from migrator.commands.common import add_engine_options, plan_options
from migrator.engine.planner import Engine, open_engine
from migrator.model import Outcome
from migrator.packs import Pack


def register(subparsers: argparse._SubParsersAction, pack: Pack) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "status", help="census per stage and rule, N of M done",
        description="Run every stage's rules and count, per rule, the sites already "
                    "converted (its done_when) and those still to do (rewrite or review), "
                    "the sites it only reports apart; then what else the pack's census "
                    "counts (its [census] hooks).")
    parser.add_argument("--tree", type=Path, default=Path("."),
                        help="kernel source tree (default: .)")
    add_engine_options(parser, pack)
    parser.set_defaults(func=run)


@dataclass(frozen=True, slots=True)
class RuleCensus:
    """One row of `migrate status`."""

    stage: int
    rule: str
    title: str
    done: int  # ALREADY_DONE sites
    todo: int  # REWRITE and REVIEW sites
    report: int  # REPORT sites


def census(engine: Engine) -> list[RuleCensus]:
    """One row per rule of the pack, in stage order: what the stage would do now."""
    rows = []
    for stage in engine.pack.stage_numbers:
        counts = Counter((site.rule, site.outcome) for site in engine.plan(stage).sites)
        for rule in engine.rules:
            if rule.stage == stage:
                rows.append(RuleCensus(
                    stage, rule.id, rule.title, counts[rule.id, Outcome.ALREADY_DONE],
                    counts[rule.id, Outcome.REWRITE] + counts[rule.id, Outcome.REVIEW],
                    counts[rule.id, Outcome.REPORT]))
    return rows


def run(args: argparse.Namespace) -> int:
    """The rules' census, then the pack's census hooks: each gives lines of text,
    printed as they come."""
    engine = open_engine(args.tree, plan_options(args))
    pack: Pack = engine.pack
    out = sys.stdout
    out.write(f"{'stage':>5}  {'done':>5} {'to do':>6} {'report':>6}  rule\n")
    for row in census(engine):
        out.write(f"{row.stage:>5}  {row.done:>5} {row.todo:>6} {row.report:>6}  "
                  f"{row.rule}: {row.title}\n")
    for ref in pack.census.values():
        for line in pack.hook(ref)(engine.view):
            out.write(f"{line}\n")
    return 0
