"""`migrate status`: the pack's census: per stage N of M done, and what else it counts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from migrator.commands.common import add_engine_options, plan_options
from migrator.engine.planner import open_engine
from migrator.packs import Pack


def register(subparsers: argparse._SubParsersAction, pack: Pack) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "status", help="census per stage, N of M done",
        description="Count, per stage, the sites already converted and those still to do, "
                    "and what else the pack's census counts (its [census] hooks).")
    parser.add_argument("--tree", type=Path, default=Path("."),
                        help="kernel source tree (default: .)")
    add_engine_options(parser, pack)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """The pack's census hooks: `stages` gives rows (stage, done, todo, what); every
    other hook gives lines of text, printed as they come."""
    engine = open_engine(args.tree, plan_options(args))
    pack: Pack = engine.pack
    out = sys.stdout
    hooks = dict(pack.census)
    stages = hooks.pop("stages", None)
    if stages is not None:
        out.write(f"{'stage':>5}  {'done':>5} {'to do':>6}  what\n")
        for row in pack.hook(stages)(engine.view):
            out.write(f"{row.stage:>5}  {row.done:>5} {row.todo:>6}  {row.what}\n")
    for ref in hooks.values():
        for line in pack.hook(ref)(engine.view):
            out.write(f"{line}\n")
    return 0
