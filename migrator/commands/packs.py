"""`migrate packs`: the migrations this installation knows, with their stages."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from migrator.packs import Pack, available_packs, load_pack
from migrator.rules.load import load_finder


def register(subparsers: argparse._SubParsersAction, pack: Pack) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "packs", help="list the migration packs and their stages",
        description="List the packs (the shipped ones, $MIGRATOR_PACKS_PATH and "
                    "--packs-dir): name, title, folder, stages and options; --rules adds "
                    "their rules, loading each rule's finder.py (a broken one is an error "
                    "naming it).")
    parser.add_argument("--rules", action="store_true",
                        help="also list each pack's rules (stage, template, confidence, "
                        "finder or data fix, the rules it runs after, title)")
    parser.add_argument("--pack", metavar="NAME", default=None,
                        help="only this pack (default: all of them)")
    parser.add_argument("--packs-dir", metavar="DIR", type=Path, action="append", default=[],
                        help="a further folder of packs (also: $MIGRATOR_PACKS_PATH)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    found = available_packs(args.packs_dir)
    if args.pack is not None:
        pack = load_pack(args.pack, args.packs_dir)  # an unknown name: the usual error
        found = {pack.name: pack.path}
    for name, folder in found.items():
        pack = load_pack(name, args.packs_dir)
        out.write(f"{name}: {pack.title} ({folder})\n")
        for stage in pack.stages:
            out.write(f"  stage {stage.number}: {stage.title}\n")
        for option in pack.options:
            flag = f" {option.flag}" if option.flag else ""
            out.write(f"  option {option.name}{flag} (default {option.default})\n")
        if args.rules:
            for rule in pack.rules():
                if rule.finder is not None:
                    load_finder(rule)  # raises, naming the file, when it cannot load
                how = "finder.py" if rule.finder else "data fix"
                after = f", after {', '.join(rule.after)}" if rule.after else ""
                out.write(f"  rule {rule.id}: stage {rule.stage}, {rule.template}, "
                          f"confidence {rule.confidence}, {how}{after}: {rule.title}\n")
    return 0
