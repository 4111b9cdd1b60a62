"""Apply a StagePlan's edits to the tree's files: conflicting or refused sites and the
ones the verifier finds wrong become review sites, never half-rewritten.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from migrator.edit import edits
from migrator.model import Edit, Outcome, Site, StagePlan
from migrator.model.errors import EditConflict, MigratorError, RewriteRefused
from migrator.packs import load_pack
from migrator.verify import source as verify_source
from migrator.verify.model import LockPair, Violation


def _read(tree: Path, path: str) -> bytes:
    try:
        return (tree / path).read_bytes()
    except OSError as exc:
        raise MigratorError(f"{path}: cannot read planned file: {exc.strerror}") from None


def _demote(site: Site, why: str, evidence: Sequence[str] = ()) -> Site:
    """The review site a refused rewrite becomes: its edits are not applied."""
    return replace(site, outcome=Outcome.REVIEW, reason=f"rewrite not applied: {why}",
                   evidence=(f"planned {site.template} rewrite: {site.reason}", *evidence,
                             *site.evidence))


def _touches(edit: Edit, start: int, end: int) -> bool:
    if edit.start == edit.end:
        return start <= edit.start <= end
    return edit.start < end and edit.end > start


def checker_refusals(path: str, original: bytes, sites: Sequence[Site],
                     violations: Sequence[Violation]
                     ) -> list[tuple[Site, str, tuple[str, ...]]]:
    """The sites whose edits of `path` touch a function the verifier found a violation
    in (all of the file's sites when a violation cannot be placed), with the reason
    in plain words and the evidence (path, lost line)."""
    spans = verify_source.function_spans(original)
    found: dict[int, tuple[Site, list[str], list[str]]] = {}
    for violation in violations:
        ranges = [(start, end) for name, start, end in spans if name == violation.function]
        hit = [site for site in sites
               if any(_touches(edit, start, end) for edit in site.edits if edit.file == path
                      for start, end in ranges)]
        for site in hit or list(sites):
            _, messages, evidence = found.setdefault(id(site), (site, [], []))
            if violation.message not in messages:
                messages.append(violation.message)
                evidence.extend(f"verifier: {line}" for line in violation.evidence)
    return [
        (site, "the verifier found " + "; ".join(messages), tuple(evidence))
        for site, messages, evidence in found.values()
    ]


def apply_plan(
    tree: Path,
    plan: StagePlan,
    report: Callable[[str], None] | None = None,
    pairs: Sequence[LockPair] | None = None,
) -> dict[str, bytes]:
    """New contents of every file the plan's rewrite sites edit.

    A file whose edits conflict or would add parse errors is retried site by
    site; the sites that cannot be applied become review sites (all of their
    edits in every file are dropped, so no site is half-rewritten). Each
    rewritten file is then verified (lock balance on every path, comments and
    preprocessor lines kept: migrator.verify.source); the sites whose edits touch
    a function with a violation become review sites the same way. `pairs`: the
    pack's acquire/release pairs (default: those of the plan's pack).
    """
    report = report or (lambda message: print(message, file=sys.stderr))
    if pairs is None:  # the plan's pack's pairs
        pairs = verify_source.load_pairs(load_pack(plan.pack or None).pairs_file)
    originals: dict[str, bytes] = {}
    checker_refused: list[Site] = []
    checked: dict[tuple[str, bytes], list[Violation]] = {}
    while True:
        by_file: dict[str, list[Site]] = defaultdict(list)
        for site in plan.sites:
            if site.outcome is Outcome.REWRITE:
                for path in sorted({edit.file for edit in site.edits}):
                    by_file[path].append(site)
        results: dict[str, bytes] = {}
        refused: list[tuple[Site, str, tuple[str, ...]]] = []
        for path, sites in sorted(by_file.items()):
            original = originals.setdefault(path, _read(tree, path))
            try:
                results[path] = edits.rewrite_checked(path, original, _edits_in(sites, path))
                continue
            except (EditConflict, RewriteRefused) as exc:
                report(f"migrate: {exc}; retrying its sites one by one")
            accepted: list[Site] = []
            for site in sorted(sites, key=lambda s: (s.start, s.rule)):
                try:
                    edits.rewrite_checked(path, original, _edits_in([*accepted, site], path))
                    accepted.append(site)
                except (EditConflict, RewriteRefused) as exc:
                    refused.append((site, str(exc), ()))
        if not refused:
            for path, content in sorted(results.items()):
                if (path, content) not in checked:
                    checked[(path, content)] = verify_source.check_rewrite(
                        path, originals[path], content, pairs)
                violations = checked[(path, content)]
                if violations:
                    found = checker_refusals(path, originals[path], by_file[path], violations)
                    fresh = [item for item in found
                             if all(item[0] is not other for other, _, _ in refused)]
                    refused.extend(fresh)
                    checker_refused.extend(site for site, _, _ in fresh)
        if not refused:
            if checker_refused:
                report(f"migrate: stage {plan.stage}: the verifier refused "
                       f"{len(checker_refused)} rewrite(s), listed for review: "
                       + "; ".join(f"{s.file}:{s.line} {s.function}() ({s.template})"
                                   for s in checker_refused))
            return results
        demoted: dict[int, Site] = {}
        for site, why, evidence in refused:
            report(
                f"migrate: {site.file}:{site.line} {site.function}(): rule {site.rule} "
                f"({site.template}) not applied, listed for review: {why}"
            )
            for line in evidence:
                report(f"migrate:     {line}")
            # a site refused in two of its files is demoted twice, as it always was
            demoted[id(site)] = _demote(demoted.get(id(site), site), why, evidence)
        plan.sites = [demoted.get(id(site), site) for site in plan.sites]


def _edits_in(sites: Iterable[Site], path: str) -> list[Edit]:
    return [edit for site in sites for edit in site.edits if edit.file == path]
