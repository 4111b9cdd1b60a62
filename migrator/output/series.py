"""Turn a StagePlan into a patch series: build a stage's commits, format-patch them,
cover letters and the manifest.

Grouping and order (grouping.py), applying the edits (apply.py) and the commit
messages (messages.py) are separate modules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from git import Repo as git_Repo

from migrator.model import Outcome, Site, StagePlan, srctext
from migrator.model.errors import MigratorError
from migrator.model.gitops import Identity, commit_files, format_patch
from migrator.output.apply import apply_plan
from migrator.output.grouping import PatchGroup, _pack, group_key, group_sites
from migrator.output.maintainers import Maintainers, format_headers
from migrator.output.maintainers import merge as merge_recipients
from migrator.output.messages import (
    BODY_WIDTH,
    commit_message,
    insert_notes,
    notes,
    path_prefix,
    render,
    review_reason,
    subject_prefix_of,
    texts,
)
from migrator.packs import Pack
from migrator.verify.model import LockPair


@dataclass(slots=True)
class StageSeries:
    """A stage planned and committed in a scratch worktree."""

    stage: int
    plan: StagePlan
    groups: list[PatchGroup]
    start: str  # commit the stage's series starts from
    pack: Pack
    head: str = ""  # last commit of the stage
    parts: list[list[PatchGroup]] = field(default_factory=list)
    patch_files: list[Path] = field(default_factory=list)  # written, cover letters excluded
    cover_letters: list[Path] = field(default_factory=list)

    @property
    def rewritten(self) -> list[Site]:
        return [site for group in self.groups for site in group.sites]

    @property
    def review(self) -> list[Site]:
        """Sites listed for a human: REVIEW and REPORT (never ALREADY_DONE)."""
        return [site for site in self.plan.sites if site.outcome.listed]

    @property
    def reported(self) -> int:
        """Of `review`, the REPORT sites: nothing to convert, a human checks them."""
        return sum(1 for s in self.plan.sites if s.outcome is Outcome.REPORT)

    def name_patches(self) -> None:
        """Each rewritten site records the patch that carries it (Site.patch)."""
        named = {id(site): replace(site, patch=group.patch_name)
                 for group in self.groups for site in group.sites}
        for group in self.groups:
            group.sites = [named[id(site)] for site in group.sites]
        self.plan.sites = [named.get(id(site), site) for site in self.plan.sites]


def build_stage(
    repo: git_Repo,
    stage: int,
    plan: StagePlan,
    who: Identity,
    date: str | None,
    report: Callable[[str], None] | None = None,
    history: str = "HEAD",
    pairs: Sequence[LockPair] | None = None,
    pack: Pack | None = None,
) -> StageSeries:
    """Apply `plan` in the worktree of `repo` and commit it, one commit per group.
    Subject prefixes come from the history up to `history` (the user's base: the
    commits of earlier stages in this run are not the tree's conventions)."""
    tree = Path(str(repo.working_tree_dir))
    start = repo.head.commit.hexsha
    contents = apply_plan(tree, plan, report, pairs)
    pack = _pack(pack)
    groups = group_sites(tree, plan.sites, pack)
    prefixes = [subject_prefix_of(repo, group, history) for group in groups]
    subjects = [commit_message(group, stage, prefix, who.signoff, pack=pack)[0]
                for group, prefix in zip(groups, prefixes, strict=True)]
    for group, prefix, subject in zip(groups, prefixes, subjects, strict=True):
        where = distinguishing_suffix(group, subject) if subjects.count(subject) > 1 else ""
        group.subject, group.message = commit_message(group, stage, prefix, who.signoff, where,
                                                      pack)
        for path in group.files:
            (tree / path).write_bytes(contents[path])
        group.commit = commit_files(repo, group.files, group.message, who, date)
    built = StageSeries(stage=stage, plan=plan, groups=groups, start=start, pack=pack)
    built.head = repo.head.commit.hexsha
    return built


def distinguishing_suffix(group: PatchGroup, subject: str, limit: int = BODY_WIDTH) -> str:
    """" in f()" (or " in file.c") so that two commits of a stage never share a subject:
    net/core splits per file and both files may get the same template."""
    functions = sorted({site.function for site in group.sites if site.function})
    if 0 < len(functions) <= 2:
        where = " in " + " and ".join(f"{name}()" for name in functions)
        if len(subject) + len(where) <= limit:
            return where
    return " in " + ", ".join(sorted({path.rsplit("/", 1)[-1] for path in group.files}))


def split_parts(groups: Sequence[PatchGroup], max_patches: int) -> list[list[PatchGroup]]:
    size = max(1, max_patches)
    return [list(groups[index : index + size]) for index in range(0, len(groups), size)]


def insert_headers(patch_file: Path, headers: str) -> None:
    """Add To:/Cc: lines at the end of the mail header block of a patch file."""
    if not headers:
        return
    text = srctext.read_text(patch_file)  # the diff carries the files' own bytes
    end = text.find("\n\n")
    if end < 0:
        raise MigratorError(f"{patch_file}: no mail header in format-patch output")
    srctext.write_text(patch_file, text[: end + 1] + headers + text[end + 1 :])


def fill_cover_letter(cover: Path, subject: str, body: str) -> None:
    text = srctext.read_text(cover)
    if "*** SUBJECT HERE ***" not in text or "*** BLURB HERE ***" not in text:
        raise MigratorError(f"{cover}: unexpected git format-patch cover letter")
    text = text.replace("*** SUBJECT HERE ***", subject, 1)
    text = text.replace("*** BLURB HERE ***\n", body.rstrip("\n") + "\n", 1)
    srctext.write_text(cover, text)


def cover_subject(stage: int, part: int, part_count: int, pack: Pack | None = None) -> str:
    """The cover letter's subject: the pack's title of the stage."""
    pack = _pack(pack)
    summary = pack.stage(stage).title
    suffix = f" (part {part}/{part_count})" if part_count > 1 else ""
    return f"{pack.prose.subject_prefix}: {summary}{suffix}"


def numbered_subject(prefix: str, number: int, total: int, subject: str) -> str:
    """The Subject: git format-patch -n writes: "[PATCH net-next 00/15] ..."."""
    width = len(str(total))
    return f"[{prefix} {str(number).zfill(width)}/{total}] {subject}"


class AutoPrefix(str):
    """A --subject-prefix the tree completes: the netdev tree name is added when every
    file of the series is under the netdev MAINTAINERS entries."""


PATCH_AUTO = AutoPrefix("PATCH")
RFC_AUTO = AutoPrefix("RFC")
NETDEV_SECTIONS = ("NETWORKING [GENERAL]", "NETWORKING DRIVERS")
NETDEV_TREE = "net-next"  # Documentation/process/maintainer-netdev.rst: new work


def tree_subject_prefix(prefix: str, maintainers: Maintainers | None,
                        files: Iterable[str]) -> str:
    """`PATCH net-next` / `RFC net-next` when most files of the series are netdev's (the
    series goes through net-next, the few other patches with their maintainers' acks),
    else the prefix as given."""
    paths = sorted(set(files))
    netdev = sum(maintainers.covered_by(path, NETDEV_SECTIONS) for path in paths) \
        if maintainers is not None else 0
    if isinstance(prefix, AutoPrefix) and 2 * netdev > len(paths):
        return f"{prefix} {NETDEV_TREE}"
    return str(prefix)


@dataclass(slots=True)
class ReviewItem:
    """Sites of one driver left for review for the same reason: one entry of the list."""

    sites: list[Site]
    action: str  # what the reviewer has to decide
    reason: str  # why the tool did not

    @property
    def where(self) -> str:
        """"f() at a.c:1" or "f() at a.c:1, g() at a.c:9"."""
        return ", ".join(f"{site.function}() at {site.file}:{site.line}" for site in self.sites)


def review_by_driver(tree: Path, sites: Iterable[Site], pack: Pack | None = None
                     ) -> list[tuple[str, list[ReviewItem]]]:
    """Review sites grouped by the patch (driver or subsystem) they would belong to; sites
    of a driver with the same action and reason make one item."""
    pack = _pack(pack)
    actions = texts(pack).review_actions
    grouped: dict[str, dict[tuple[str, str], list[Site]]] = defaultdict(dict)
    for site in sorted(sites, key=lambda s: (s.file, s.line)):
        key = group_key(tree, site.file)
        name = path_prefix(key).removesuffix(":")
        where = key.rsplit("/", 1)[0] + "/" if key.endswith(".ko") else key
        item = (str(actions.get(site.template, "decide how to convert this site")),
                review_reason(site, pack))
        grouped[f"{name} ({where})"].setdefault(item, []).append(site)
    return [(driver, [ReviewItem(members, action, reason)
                      for (action, reason), members in items.items()])
            for driver, items in sorted(grouped.items())]


def write_stage(
    repo: git_Repo,
    built: StageSeries,
    base: str,
    out_dir: Path,
    max_patches: int,
    maintainers: Maintainers | None,
    subject_prefix: str = PATCH_AUTO,
) -> None:
    """format-patch the stage's commits into out_dir (split into part-k/ folders)."""
    built.parts = split_parts(built.groups, max_patches)
    part_count = len(built.parts)
    tree = Path(str(repo.working_tree_dir))
    pack = built.pack
    prefix = tree_subject_prefix(subject_prefix, maintainers,
                                 (path for group in built.groups for path in group.files))
    cover_subjects = [
        numbered_subject(prefix, 0, len(part), cover_subject(built.stage, number, part_count, pack))
        for number, part in enumerate(built.parts, 1)
    ]
    review = review_by_driver(tree, built.review, pack)
    with_core = any(site.template == "core" for site in built.rewritten)
    start = built.start
    for number, part in enumerate(built.parts, 1):
        folder = out_dir if part_count == 1 else out_dir / f"part-{number}"
        # --base is the stage's real base for every part: git then lists the
        # earlier parts' (and stages') patches as prerequisite-patch-id.
        written = format_patch(repo, base, start, part[-1].commit, folder, prefix)
        cover, patches = written[0], written[1:]
        if len(patches) != len(part):
            raise MigratorError(f"{folder}: git format-patch wrote {len(patches)} patches, "
                                f"expected {len(part)}")
        all_recipients = []
        for group, patch in zip(part, patches, strict=True):
            group.patch_name = str(patch.relative_to(out_dir))
            insert_notes(patch, notes(group, pack))
            if maintainers is not None:
                recipients = maintainers.recipients(group.files)
                all_recipients.append(recipients)
                insert_headers(patch, format_headers(recipients))
        others = "; ".join(
            f'part {index} is "{subject}"{" and applies first" if index < number else ""}'
            for index, subject in enumerate(cover_subjects, 1) if index != number)
        body = render(
            "cover.j2",
            pack,
            description=pack.stage(built.stage).description,
            stage=built.stage,
            part=number,
            part_count=part_count,
            others=others,
            with_core=with_core,
            rewritten=len(built.rewritten),
            patches=len(built.groups),
            review=review,
            review_count=len(built.review),
            reported=built.reported,
            skipped=built.plan.skipped_files,
            show_review=number == 1,
            first_subject=cover_subjects[0],
        )
        fill_cover_letter(cover, cover_subject(built.stage, number, part_count, pack), body)
        if maintainers is not None:
            insert_headers(cover, format_headers(merge_recipients(all_recipients)))
        built.cover_letters.append(cover)
        built.patch_files.extend(patches)
        start = part[-1].commit
    built.name_patches()


def manifest(series: Iterable[StageSeries | StagePlan]) -> list[dict[str, object]]:
    """SPEC §4 records, one per site, in stage then file order."""
    records: list[dict[str, object]] = []
    for item in series:
        plan = item.plan if isinstance(item, StageSeries) else item
        for site in sorted(plan.sites, key=lambda s: (s.file, s.line, s.template)):
            records.append(site.to_json())
    return records
