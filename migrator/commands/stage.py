"""`migrate stage N|N-M`: build, verify and write the patch series of a stage.

The series is committed in a temporary detached worktree of the base commit,
so the user's branch, index and work tree are untouched (unless --apply).
Output is written beside --out under a temporary name and renamed into place
only once every patch applied with `git am` and passed checkpatch (and, with
--verify-build, compiled with the kernel's own build: see migrator/verify/build.py).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import git

from migrator.commands.common import add_engine_options, parse_stages, plan_options
from migrator.commands.verify import add_build_options, build_options, print_report
from migrator.engine import planner
from migrator.model import gitops, signals
from migrator.model.errors import MigratorError, VerificationFailed
from migrator.model.lock import run_lock
from migrator.output import checkpatch, series
from migrator.output.maintainers import Maintainers
from migrator.packs import Pack
from migrator.verify.complete import check_completeness, load_api
from migrator.verify.model import LockPair
from migrator.verify.series import added_lines, verify_series
from migrator.verify.source import load_pairs


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], pack: Pack
             ) -> None:
    parser = subparsers.add_parser(
        "stage",
        help="write the patch series of stage N (or stages N-M)",
        description="Plan a stage on the committed base, commit one patch per driver or "
        "subsystem in a temporary worktree and write it with git format-patch.",
    )
    parser.add_argument("stages", metavar="N|N-M", help="stage number or range")
    parser.add_argument("--tree", default=".", help="kernel git work tree (default: .)")
    parser.add_argument("--out", help="output folder (default: migrate-out/stage-N/)")
    parser.add_argument("--base", default="HEAD", help="base revision (default: HEAD)")
    parser.add_argument("--dry-run", action="store_true", help="plan and print, write nothing")
    parser.add_argument("--json", metavar="FILE", help="write the site manifest (SPEC §4)")
    parser.add_argument("--max-patches", type=int, default=15,
                        help="split longer series into part-K/ folders (default: 15)")
    parser.add_argument("--subject-prefix", default=series.PATCH_AUTO,
                        help='subject prefix (default: "PATCH net-next" when most files are '
                        'under the netdev MAINTAINERS entries, else "PATCH")')
    parser.add_argument("--rfc", dest="subject_prefix", action="store_const",
                        const=series.RFC_AUTO,
                        help='"RFC net-next" (or "RFC") instead of the default prefix')
    parser.add_argument("--apply", action="store_true",
                        help="fast-forward the checked-out branch to the series (clean tree)")
    parser.add_argument("--force", action="store_true", help="replace a non-empty --out")
    parser.add_argument("--strict", action="store_true", help="exit 1 when review sites remain")
    add_engine_options(parser, pack)
    add_build_options(parser, default_on=False)
    parser.set_defaults(func=run)


def out_dirs(out: str | None, stages: list[int]) -> dict[int, Path]:
    if out is None:
        return {stage: Path("migrate-out", f"stage-{stage}").absolute() for stage in stages}
    root = Path(out).absolute()
    if len(stages) == 1:
        return {stages[0]: root}
    return {stage: root / f"stage-{stage}" for stage in stages}


def check_out_dir(repo_root: Path, repo: object, out: Path, force: bool) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise MigratorError(f"{out}: exists and is not empty (use --force to replace it)")
    try:
        relative = out.resolve().relative_to(repo_root.resolve())
    except ValueError:
        return
    if relative.parts and gitops.tracked_under(repo, relative.parts[0]):  # type: ignore[arg-type]
        raise MigratorError(
            f"{out}: inside the tree's tracked paths ({relative.parts[0]}); "
            "choose an --out outside the sources"
        )


def say(message: str) -> None:
    print(message, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    stages = parse_stages(args.stages, args.pack_stages)
    tree = Path(args.tree).absolute()
    repo = gitops.open_repo(tree)
    # one run at a time per repository: worktrees, --out and --apply never interleave;
    # a signal sets a flag checked between steps (signals.py), so cleanup always runs
    with gitops.cleanup_on_signals(), run_lock(Path(repo.common_dir)):
        return _run(args, stages, repo)


def _run(args: argparse.Namespace, stages: list[int], repo: git.Repo) -> int:
    repo_root = Path(str(repo.working_tree_dir))
    who = gitops.identity(repo)
    base = gitops.resolve_commit(repo, args.base)
    destinations = out_dirs(args.out, stages)
    if not args.dry_run:
        for out in destinations.values():
            check_out_dir(repo_root, repo, out, args.force)
    if gitops.is_dirty(repo):
        if args.apply and not args.dry_run:
            raise MigratorError(f"{repo_root}: work tree has uncommitted changes; "
                                "--apply needs a clean tree")
        say(f"migrate: {repo_root} has uncommitted changes; the series is built from "
            f"the committed base {base[:12]}")
    maintainers = Maintainers.from_tree(repo_root)
    options = plan_options(args)
    date = gitops.source_date()
    pack: Pack = args.pack_obj
    pairs = load_pairs(pack.pairs_file)
    for stale in gitops.prune_stale_worktrees(repo):
        say(f"migrate: removed stale worktree {stale}")

    built_stages: list[series.StageSeries] = []
    plans: list[object] = []
    staging: dict[int, Path] = {}
    try:
        with gitops.temporary_worktree(repo, base) as work:
            work_tree = Path(str(work.working_tree_dir))
            for stage in stages:
                signals.check()
                stage_plan = planner.plan_stage(work_tree, stage, options)
                signals.check()
                for warning in stage_plan.warnings:
                    say(f"migrate: {warning}")
                built = series.build_stage(work, stage, stage_plan, who, date, say,
                                            history=base, pairs=pairs, pack=pack)
                signals.check()
                plans.append(built)
                if not built.groups:
                    print(f"stage {stage}: nothing to do")
                    continue
                out = destinations[stage]
                if args.dry_run:  # write nothing beside --out
                    staging[stage] = Path(tempfile.mkdtemp(prefix="migrate-dry-run-"))
                else:
                    try:
                        out.parent.mkdir(parents=True, exist_ok=True)
                        staging[stage] = Path(
                            tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent)
                        )
                    except OSError as exc:
                        raise MigratorError(f"{out}: cannot write the series: "
                                            f"{exc.strerror or exc}") from None
                series.write_stage(work, built, base, staging[stage], args.max_patches,
                                   maintainers, args.subject_prefix)
                built_stages.append(built)
            if built_stages:
                verify(work, base, built_stages, who)
                check_style(work, built_stages)
                if args.verify_build:
                    verify_build(args, repo, base, built_stages, pairs)
                else:
                    warn_incomplete(work, base, built_stages, pack)
            signals.check()
            if args.json:
                write_json(Path(args.json), series.manifest(plans))  # type: ignore[arg-type]
            if args.dry_run:
                print_dry_run(built_stages, destinations)
                return exit_code(plans, args.strict)  # type: ignore[arg-type]
            for built in built_stages:
                signals.check()  # each --out is complete or absent
                move_into_place(staging[built.stage], destinations[built.stage])
                del staging[built.stage]  # kept until moved: `finally` removes it on failure
                print_written(built, destinations[built.stage])
            if args.apply and built_stages:
                gitops.fast_forward(repo, built_stages[-1].head)
                say(f"migrate: fast-forwarded {repo_root} to {built_stages[-1].head[:12]}")
    finally:
        for folder in staging.values():
            shutil.rmtree(folder, ignore_errors=True)
    return exit_code(plans, args.strict)  # type: ignore[arg-type]


def exit_code(plans: list[series.StageSeries], strict: bool) -> int:
    review = sum(len(built.review) for built in plans)
    if review:
        say(f"migrate: {review} site(s) left for review")
    return 1 if strict and review else 0


def verify(work: object, base: str, built_stages: list[series.StageSeries],
           who: gitops.Identity) -> None:
    """Every patch applies with git am, in order, and gives the series' final tree."""
    patches = [patch for built in built_stages for patch in built.patch_files]
    applied_tree = gitops.am_verify(work, base, patches, who)  # type: ignore[arg-type]
    expected_tree = gitops.tree_of(work, built_stages[-1].head)  # type: ignore[arg-type]
    if applied_tree != expected_tree:
        raise MigratorError(
            f"the series applied with git am gives tree {applied_tree[:12]}, "
            f"not the planned tree {expected_tree[:12]}"
        )


def verify_build(args: argparse.Namespace, repo: git.Repo, base: str,
                 built_stages: list[series.StageSeries], pairs: Sequence[LockPair]) -> None:
    """Compile the series patch by patch with the kernel's own build (§7)."""
    patches = [patch for built in built_stages for patch in built.patch_files]
    report = verify_series(repo, base, patches, [patch.name for patch in patches],
                           source_checks=True, completeness=True,
                           build=build_options(args), pairs=pairs,
                           api=load_api(args.pack_obj.api_file, args.pack_obj.name), say=say)
    if report.build is not None:
        say(f"migrate: {report.build.summary()}")
    if not report.ok:
        print_report(report)
        raise VerificationFailed("the series fails verification, not written: " + "; ".join(
            f"{v.file}:{v.line}: {v.message}: {v.evidence[0] if v.evidence else ''}"
            for v in report.violations))


def warn_incomplete(work: git.Repo, base: str, built_stages: list[series.StageSeries],
                    pack: Pack) -> None:
    """Without --verify-build, names the series uses that neither the tree nor the series
    declares are a warning: the series then builds only on top of the pack's core."""
    tree = Path(str(work.working_tree_dir))
    findings = check_completeness(tree, added_lines(tree, base, built_stages[-1].head),
                                  load_api(pack.api_file, pack.name))
    if findings:
        first = findings[0]
        # a pack's boolean option named with_core adds its core patches (SPEC: packs)
        core = next((f"{o.flag} adds it, " for o in pack.options
                     if o.name == "with_core" and o.flag), "")
        say(f"migrate: warning: {len(findings)} use(s) of names neither the tree nor the "
            f"series declares (first: {first.file}:{first.line}: {first.message}); the "
            f"series builds only on top of the {pack.name} core series that declares them "
            f"({core}--verify-build refuses such a series)")


def check_style(work: object, built_stages: list[series.StageSeries]) -> None:
    """New checkpatch ERROR/WARNING issues fail the run; new CHECKs are reported."""
    tree = Path(str(work.working_tree_dir))  # type: ignore[attr-defined]
    if checkpatch.script_path(tree) is None:
        return
    failures: list[str] = []
    for built in built_stages:
        for group, patch in zip(built.groups, built.patch_files, strict=True):
            signals.check()
            result = checkpatch.check_patch(work, patch, group.commit)  # type: ignore[arg-type]
            for issue in result.new_issues:
                line = f"{group.patch_name}: checkpatch: {issue}"
                if issue.level in checkpatch.FAILING:
                    failures.append(line)
                else:
                    say(f"migrate: {line}")
    if failures:
        raise MigratorError("new checkpatch issues, series not written:\n  "
                            + "\n  ".join(failures))


def write_json(path: Path, records: list[dict[str, object]]) -> None:
    try:
        path.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise MigratorError(f"{path}: cannot write manifest: {exc.strerror}") from None


def move_into_place(staged: Path, out: Path) -> None:
    """Rename the complete series to `out`; on failure `out` is left as it was."""
    old: Path | None = None
    try:
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            out.rename(old / out.name)
        staged.rename(out)
    except OSError as exc:
        if old is not None and (old / out.name).exists() and not out.exists():
            (old / out.name).rename(out)
        raise MigratorError(f"{out}: cannot write the series: {exc.strerror or exc}") from None
    finally:
        if old is not None and out.exists():  # the old series is out, or back in place
            shutil.rmtree(old, ignore_errors=True)


def print_written(built: series.StageSeries, out: Path) -> None:
    print(f"stage {built.stage}: {len(built.groups)} patch(es), "
          f"{len(built.rewritten)} site(s) rewritten, {len(built.review)} for review -> {out}")
    for group in built.groups:
        print(f"  {group.patch_name}  {group.subject}")


def print_dry_run(built_stages: list[series.StageSeries], destinations: dict[int, Path]) -> None:
    for built in built_stages:
        out = destinations[built.stage]
        print(f"stage {built.stage}: would write {len(built.groups)} patch(es) and "
              f"{len(built.parts)} cover letter(s) to {out}")
        for group in built.groups:
            print(f"  {group.patch_name}  {group.subject}")
            for path in group.files:
                print(f"      {path}")
        for site in built.review:
            print(f"  review: {site.file}:{site.line} {site.function}(): "
                  f"{site.template}: {site.reason}")
