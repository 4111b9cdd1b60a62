"""`migrate status`: census per stage (N of M done) and the RTNL handler census."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from migrator.commands.common import add_engine_options, plan_options
from migrator.engine.planner import open_engine
from migrator.packs.nd_lock.census import handler_census, stage_census


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "status", help="census per stage, N of M done",
        description="Count, per stage, the sites already converted and those still to do, "
                    "and the rtnetlink handlers that run without RTNL.")
    parser.add_argument("--tree", type=Path, default=Path("."),
                        help="kernel source tree (default: .)")
    add_engine_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    engine = open_engine(args.tree, plan_options(args))
    out = sys.stdout
    out.write(f"{'stage':>5}  {'done':>5} {'to do':>6}  what\n")
    for row in stage_census(engine):
        out.write(f"{row.stage:>5}  {row.done:>5} {row.todo:>6}  {row.what}\n")
    census = handler_census(engine)
    out.write(f"rtnetlink: {census.summary()}\n")
    out.write(f"rtnetlink: {census.distinct_summary()}\n")
    return 0
