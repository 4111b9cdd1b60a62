"""`migrate verify SERIES_DIR...`: the §7 checks on a written series.

Exit 0 when every check passes, 3 with the findings (file:line, check, message,
evidence) otherwise, 2 on a usage or input error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import git

from migrator.commands.common import add_pack_options
from migrator.model import gitops
from migrator.model.errors import MigratorError, VerificationFailed
from migrator.packs import Pack
from migrator.verify.build import BuildOptions, default_cache_root
from migrator.verify.complete import load_api
from migrator.verify.series import SeriesReport, read_base, series_patches, verify_series
from migrator.verify.source import load_pairs


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], pack: Pack
             ) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="check written patch series: source checks, completeness, kernel build",
        description="Apply each series in order on its base commit in a scratch tree "
        "(never your work tree, branch or index) and run, per patch, the source checks "
        "(lock balance, preserved bytes) and the kernel build check (make O=... "
        "allmodconfig, then every touched .c file's object), then the completeness "
        "check on the final tree. Exit status: 0 clean, 3 findings (listed), "
        "2 usage or input error.",
    )
    parser.add_argument("series", nargs="+", metavar="SERIES_DIR", type=Path,
                        help="folder of 0000-cover-letter.patch, 0001-*.patch... "
                        "(or part-K/ folders); several are applied one after the other")
    parser.add_argument("--tree", default=".", help="kernel git repository (default: .)")
    parser.add_argument("--base", help="base revision (default: the first cover letter's "
                        "base-commit: line)")
    add_pack_options(parser)
    add_build_options(parser, default_on=True)
    parser.set_defaults(func=run)


def add_build_options(parser: argparse.ArgumentParser, *, default_on: bool) -> None:
    """The build check's options; `default_on`: --no-build (verify) or
    --verify-build (stage)."""
    group = parser.add_argument_group("kernel build check")
    if default_on:
        group.add_argument("--no-build", action="store_true",
                           help="skip the kernel build check")
    else:
        group.add_argument("--verify-build", action="store_true",
                           help="compile the series with the kernel's own build, patch by "
                           "patch, before writing it (exit 3 and nothing written on failure)")
    group.add_argument("--build-cache", metavar="DIR", type=Path,
                       help="configured build directories, reused across runs (default: "
                       + ("" if default_on else "CACHE_DIR/kbuild with --cache-dir, else ")
                       + "$XDG_CACHE_HOME/migrator/kbuild or ~/.cache/migrator/kbuild)")
    group.add_argument("--build-jobs", metavar="N", type=int, default=0,
                       help="parallel make jobs (default: one per CPU)")


def build_options(args: argparse.Namespace) -> BuildOptions:
    """BuildOptions from the parsed options (--build-cache, --cache-dir, --build-jobs)."""
    jobs = getattr(args, "build_jobs", 0) or 0
    if jobs < 0:
        raise MigratorError(f"--build-jobs must be >= 0, not {jobs}")
    cache = getattr(args, "build_cache", None)
    if cache is None and getattr(args, "cache_dir", None) is not None:
        cache = Path(args.cache_dir) / "kbuild"
    return BuildOptions(cache_root=(cache or default_cache_root()).absolute(), jobs=jobs)


def say(message: str) -> None:
    print(message, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    repo = gitops.open_repo(Path(args.tree).absolute())
    patches: list[Path] = []
    names: list[str] = []
    bases: list[tuple[Path, str]] = []
    several = len(args.series) > 1
    for folder in args.series:
        found, covers = series_patches(Path(folder))
        patches += found
        names += [str(Path(folder.name) / p.relative_to(folder)) if several
                  else str(p.relative_to(folder)) for p in found]
        bases += [(cover, base) for cover in covers if (base := read_base(cover))]
    if args.base:
        base = gitops.resolve_commit(repo, args.base)
    elif bases:
        cover, recorded = bases[0]
        try:
            base = repo.commit(recorded).hexsha
        except (git.BadName, ValueError):
            raise MigratorError(f"{cover}: base-commit {recorded} is not in {args.tree}; "
                                "fetch it or give --base REV") from None
        for other, value in bases[1:]:
            if not base.startswith(value):
                say(f"migrate: note: {other} names base-commit {value[:12]}; the series "
                    f"are applied one after the other on {base[:12]}")
    else:
        raise MigratorError(f"{args.series[0]}: no cover letter with a base-commit: line; "
                            "give --base REV")
    build = None if args.no_build else build_options(args)
    if build is None:
        say("migrate: kernel build check skipped (--no-build)")
    pack: Pack = args.pack_obj
    report = verify_series(repo, base, patches, names, build=build,
                           pairs=load_pairs(pack.pairs_file),
                           api=load_api(pack.api_file, pack.name), say=say)
    print_report(report)
    if not report.ok:
        raise VerificationFailed(f"{len(report.violations)} finding(s) in the series")
    return 0


def print_report(report: SeriesReport) -> None:
    """Findings (file:line: check: message, evidence indented), not-checked files
    and the figures, on stdout."""
    for violation in report.violations:
        where = f"{violation.file}:{violation.line}" if violation.line else violation.file
        function = f" {violation.function}():" if violation.function else ""
        print(f"{where}:{function} {violation.check}: {violation.message}")
        for line in violation.evidence:
            print(f"    {line}")
    for patch, path in report.not_checked:
        print(f"not checked: {path} ({patch}: the configuration does not build it)")
    status = "clean" if report.ok else f"{len(report.violations)} finding(s)"
    print(f"verify: {len(report.patches)} patch(es) on {report.base[:12]}: {status}, "
          f"{report.seconds:.1f} s")
    if report.build is not None:
        print(report.build.summary())
    else:
        print("build check: skipped (--no-build)")
