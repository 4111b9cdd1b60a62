"""`migrate review`: the planned series of a stage, hunk by hunk, with its evidence.

Plans the tree as it is on disk (no git needed); each hunk is preceded by the
template, rule and evidence of the sites whose edits fall inside it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from pathlib import Path

from migrator.commands.common import add_engine_options, plan_options
from migrator.edit import edits
from migrator.engine import planner
from migrator.model import Site, gitops
from migrator.model.errors import MigratorError
from migrator.output import apply, grouping, messages, series
from migrator.packs import Pack
from migrator.verify.source import load_pairs

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")
COLORS = {"subject": "\033[1m", "note": "\033[33m", "+": "\033[32m", "-": "\033[31m",
          "@": "\033[36m", "review": "\033[35m"}
RESET = "\033[0m"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], pack: Pack
             ) -> None:
    parser = subparsers.add_parser(
        "review", help="show the planned patches of a stage with their evidence",
        description="Plan a stage on the tree as it is on disk and show each planned "
        "patch, hunk by hunk, with the sites behind it, then the sites left for review.",
    )
    parser.add_argument("--tree", default=".", help="kernel tree (default: .)")
    stages = pack.stage_numbers
    parser.add_argument("--stage", type=int, default=stages[0], choices=stages,
                        help=f"stage (default {stages[0]})")
    parser.add_argument("--json", metavar="FILE", help="write the site manifest (SPEC §4)")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    add_engine_options(parser, pack)
    parser.set_defaults(func=run)


class Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, kind: str, text: str) -> str:
        return f"{COLORS[kind]}{text}{RESET}" if self.enabled and kind in COLORS else text


def hunk_sites(sites: list[Site], path: str, original: bytes, start: int, count: int
               ) -> list[Site]:
    """Sites with an edit in `path` whose original lines overlap [start, start+count)."""
    last = start + max(count, 1) - 1
    hits: list[Site] = []
    for site in sites:
        for edit in site.edits:
            if edit.file != path:
                continue
            first_line = edits.line_of(original, edit.start)
            last_line = edits.line_of(original, max(edit.start, edit.end - 1))
            if first_line <= last and last_line >= start:
                hits.append(site)
                break
    return hits


def site_note(site: Site) -> list[str]:
    lines = [f"# {site.template} [{site.rule}] {site.file}:{site.line} "
             f"{site.function}(): {site.reason}"]
    lines += [f"#     {line}" for line in site.evidence]
    return lines


def render_group(tree: Path, group: grouping.PatchGroup, contents: dict[str, bytes],
                 paint: Painter) -> list[str]:
    out = [paint("subject", f"=== {group.subject}"), ""]
    for path in group.files:
        original = (tree / path).read_bytes()
        diff = edits.unified_diff(path, original, contents[path])
        for line in diff.splitlines():
            match = HUNK.match(line)
            if match:
                count = int(match.group(2)) if match.group(2) is not None else 1
                for site in hunk_sites(group.sites, path, original, int(match.group(1)), count):
                    out += [paint("note", note) for note in site_note(site)]
                out.append(paint("@", line))
            elif line.startswith(("+++", "---")):
                out.append(paint("subject", line))
            else:
                out.append(paint(line[:1], line) if line[:1] in "+-" else line)
        out.append("")
    return out


def run(args: argparse.Namespace) -> int:
    tree = Path(args.tree).absolute()
    if not tree.is_dir():
        raise MigratorError(f"{tree}: no such directory")
    paint = Painter(args.color == "always" or (args.color == "auto" and sys.stdout.isatty()))
    pack: Pack = args.pack_obj
    stage_plan = planner.plan_stage(tree, args.stage, plan_options(args))
    contents = apply.apply_plan(tree, stage_plan, pairs=load_pairs(pack.pairs_file))
    groups = grouping.group_sites(tree, stage_plan.sites, pack)
    repo = None
    with contextlib.suppress(MigratorError):  # no git: path-derived subject prefixes
        repo = gitops.open_repo(tree)
    lines: list[str] = []
    for number, group in enumerate(groups, 1):
        prefix = None
        if repo is not None:
            prefix = messages.history_prefix(gitops.log_subjects(repo,
                                                                 messages.history_paths(group)))
        group.subject, _ = messages.commit_message(
            group, args.stage, prefix or messages.path_prefix(group.key), "", pack=pack)
        group.subject = f"[{number}/{len(groups)}] {group.subject}"
        lines += render_group(tree, group, contents, paint)
    review = [site for site in stage_plan.sites if site.outcome.listed]
    if review:
        lines.append(paint("review", f"=== {len(review)} site(s) for review"))
        for site in sorted(review, key=lambda s: (s.file, s.line)):
            lines.append(f"{site.file}:{site.line} {site.function}(): {site.template}: "
                         f"{site.reason}")
            lines += [f"    {line}" for line in site.evidence]
    if not groups and not review:
        lines.append(f"stage {args.stage}: nothing to do")
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(series.manifest([stage_plan]), indent=2) + "\n")
    return 0
