"""`migrate cache`: where the parse cache is, how big, what it holds; `--clear` empties it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from migrator.engine.planner import default_cache_dir
from migrator.index.cache import open_cache
from migrator.packs import Pack


def register(subparsers: argparse._SubParsersAction, pack: Pack) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "cache", help="show the parse cache (location, size, entries); --clear empties it",
        description="The parse cache is one SQLite database shared by every tree: parsed "
                    "chunks by content, and per tree path its index and last scan result. "
                    "Entries of removed trees go when it is opened; beyond "
                    "MIGRATOR_CACHE_MAX_MB (default 512) the least recently used go.")
    parser.add_argument("--cache-dir", metavar="DIR", type=Path,
                        help="cache directory (default: $XDG_CACHE_HOME/migrator or "
                             "~/.cache/migrator)")
    parser.add_argument("--clear", action="store_true", help="remove every entry")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    directory = args.cache_dir if args.cache_dir is not None else default_cache_dir()
    cache = open_cache(directory)
    if args.clear:
        cache.clear()
    info = cache.info()
    out = sys.stdout
    out.write(f"cache: {info.path}\n")
    out.write(f"size: {info.bytes / (1 << 20):.1f} MiB (limit {cache.max_bytes >> 20} MiB)\n")
    out.write(f"chunks: {info.chunks}\n")
    for kind in ("index", "scan"):
        out.write(f"{kind} results: {info.results.get(kind, 0)}\n")
    out.write(f"trees: {info.trees}\n")
    if args.clear:
        out.write("cleared\n")
    return 0
