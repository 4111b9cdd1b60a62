"""Turn a StagePlan into a patch series: grouping, order, messages, format-patch.

Grouping rule (one commit per driver or subsystem), derived from the tree's
kbuild Makefiles: a .c file belongs to the module its nearest Makefile builds
it into. Files linked into one composite module (`vxlan-objs := vxlan_core.o
vxlan_mdb.o ...`, `bonding-y += bond_main.o ...`) form one commit; a file that
is an object of its own (`obj-$(CONFIG_VETH) += veth.o`, `obj-y += dev.o`) is
a commit of its own. So catch-all directories (drivers/net, net/ipv4,
net/core) split per file and driver directories stay whole, without a list of
directory names. Without a Makefile that names the file, a leaf directory is
one group and a directory with source subdirectories is a catch-all (per
file). A header goes with the module when every .c of its directory maps to
one group, else it is a group of its own.

Order: groups touching include/ or net/core/ first, then the rest, each by
key. Signature changes: the sites of a helper whose signature changes (definition, header
prototype, netlink and ioctl callers) are merged into one commit when they
name each other (function name, call in an edit, or evidence), so every
commit builds; header edits outside T6 live under include/ and come first.
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jinja2
from git import Repo as git_Repo

from migrator.edit import edits
from migrator.model import Edit, Site, StagePlan, srctext
from migrator.model.errors import EditConflict, MigratorError, RewriteRefused
from migrator.model.gitops import Identity, commit_files, format_patch, log_subjects
from migrator.output.maintainers import Maintainers, format_headers
from migrator.output.maintainers import merge as merge_recipients
from migrator.packs import Pack, load_pack
from migrator.verify import source as verify_source
from migrator.verify.model import LockPair, Violation

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"  # commit, cover, notes
CORE_PREFIXES = ("include/", "net/core/")
BODY_WIDTH = 75
MAKEFILE_ASSIGN = re.compile(
    r"^\s*([A-Za-z0-9_.-]+?)-(objs|y|m|\$\([A-Za-z0-9_]+\))\s*[:+?]?=(.*)$"
)
NOT_MODULES = frozenset({"lib", "extra", "always", "targets", "hostprogs", "userprogs", "subdir"})
CALLED_NAME = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
SOURCE_SUFFIXES = (".c", ".h")


# --- grouping ---------------------------------------------------------------


@cache
def _makefile_objects(makefile: Path) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """(composite module -> member objects, single-object modules) of a kbuild file."""
    try:
        text = makefile.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}, frozenset()
    text = re.sub(r"\\\n", " ", text)
    composites: dict[str, set[str]] = defaultdict(set)
    singles: set[str] = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        match = MAKEFILE_ASSIGN.match(line)
        if not match:
            continue
        name, _, value = match.groups()
        objects = [token for token in value.split() if token.endswith(".o")]
        if name == "obj":
            singles.update(objects)
        elif name not in NOT_MODULES and not name.startswith(("CFLAGS_", "ccflags", "asflags")):
            composites[name].update(objects)
    composite_objects = {f"{name}.o" for name in composites}
    return (
        {name: frozenset(members) for name, members in composites.items()},
        frozenset(singles - composite_objects),
    )


def _has_source_subdirs(directory: Path) -> bool:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return False
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            for _, _, files in os.walk(entry.path):
                if any(name.endswith(SOURCE_SUFFIXES) for name in files):
                    return True
    return False


def _many_modules(directory: Path) -> bool:
    """A directory whose Makefile builds several modules holds independent files."""
    composites, singles = _makefile_objects(directory / "Makefile")
    return len(composites) + len(singles) > 1


def _kbuild_key(tree: Path, path: str) -> str | None:
    parts = path.split("/")
    for depth in range(len(parts) - 1, -1, -1):
        directory = "/".join(parts[:depth])
        for name in ("Makefile", "Kbuild"):
            makefile = tree / directory / name
            if not makefile.is_file():
                continue
            composites, singles = _makefile_objects(makefile)
            obj = "/".join(parts[depth:])[:-2] + ".o"
            for module, members in sorted(composites.items()):
                if obj in members:
                    return f"{directory}/{module}.ko" if directory else f"{module}.ko"
            if obj in singles:
                return path
    return None


def group_key(tree: Path, path: str) -> str:
    """Name of the commit a changed file belongs to (see the module docstring)."""
    directory = path.rsplit("/", 1)[0] if "/" in path else ""
    if path.endswith(".c"):
        key = _kbuild_key(tree, path)
        if key is not None:
            return key
        if directory and not _has_source_subdirs(tree / directory) and not _many_modules(
            tree / directory
        ):
            return directory + "/"
        return path
    if path.endswith(".h") and directory and not directory.startswith("include"):
        sources = sorted(p.name for p in (tree / directory).glob("*.c"))
        keys = {group_key(tree, f"{directory}/{name}") for name in sources}
        if len(keys) == 1:
            return keys.pop()
    return path


def is_core(path: str) -> bool:
    return path.startswith(CORE_PREFIXES)


@dataclass(slots=True)
class PatchGroup:
    """The edits of one commit."""

    key: str
    sites: list[Site]
    files: list[str]
    subject: str = ""
    message: str = ""
    commit: str = ""
    patch_name: str = ""  # path relative to the stage's output folder

    @property
    def core(self) -> bool:
        return any(is_core(path) for path in self.files)

    @property
    def templates(self) -> list[str]:
        counts: dict[str, int] = defaultdict(int)
        for site in self.sites:
            counts[site.template] += 1
        return sorted(counts, key=lambda t: (-counts[t], t))


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _mentions(site: Site) -> set[str]:
    names = {m.group(1) for edit in site.edits for m in CALLED_NAME.finditer(edit.replacement)}
    names |= {m.group(1) for line in site.evidence for m in CALLED_NAME.finditer(line)}
    names |= set(re.findall(r"[A-Za-z_]\w*", " ".join(site.evidence)))
    return names


def group_sites(tree: Path, sites: Iterable[Site], pack: Pack | None = None
                ) -> list[PatchGroup]:
    """Rewrite sites with edits -> ordered commits (see the module docstring)."""
    signature = _pack(pack).prose.signature_templates
    rewrites = [site for site in sites if site.outcome == "rewrite" and site.edits]
    keys = _UnionFind()
    site_keys: list[list[str]] = []
    for site in rewrites:
        file_keys = sorted({group_key(tree, edit.file) for edit in site.edits})
        for key in file_keys[1:]:
            keys.union(file_keys[0], key)  # one site is never split over commits
        site_keys.append(file_keys)
    signature_sites = [
        (site, file_keys[0])
        for site, file_keys in zip(rewrites, site_keys, strict=True)
        if site.template in signature
    ]
    for index, (site, key) in enumerate(signature_sites):
        mentioned = _mentions(site)
        for other, other_key in signature_sites[index + 1 :]:
            if (
                other.function == site.function
                or other.function in mentioned
                or site.function in _mentions(other)
            ):
                keys.union(key, other_key)
    by_root: dict[str, list[Site]] = defaultdict(list)
    for site, file_keys in zip(rewrites, site_keys, strict=True):
        by_root[keys.find(file_keys[0])].append(site)
    groups = [
        PatchGroup(
            key=root,
            sites=sorted(members, key=lambda s: (s.file, s.start)),
            files=sorted({edit.file for site in members for edit in site.edits}),
        )
        for root, members in by_root.items()
    ]
    groups.sort(key=lambda group: (not group.core, group.key))
    return groups


# --- applying edits ---------------------------------------------------------


def _read(tree: Path, path: str) -> bytes:
    try:
        return (tree / path).read_bytes()
    except OSError as exc:
        raise MigratorError(f"{path}: cannot read planned file: {exc.strerror}") from None


def _demote(site: Site, why: str, evidence: Sequence[str] = ()) -> None:
    site.evidence = [f"planned {site.template} rewrite: {site.reason}", *evidence,
                     *site.evidence]
    site.outcome = "review"
    site.reason = f"rewrite not applied: {why}"


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
            if site.outcome == "rewrite":
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
        for site, why, evidence in refused:
            report(
                f"migrate: {site.file}:{site.line} {site.function}(): rule {site.rule} "
                f"({site.template}) not applied, listed for review: {why}"
            )
            for line in evidence:
                report(f"migrate:     {line}")
            _demote(site, why, evidence)


def _edits_in(sites: Iterable[Site], path: str) -> list[Edit]:
    return [edit for site in sites for edit in site.edits if edit.file == path]


# --- messages ---------------------------------------------------------------


def wrap(text: str, width: int = BODY_WIDTH, indent: str = "", subsequent: str | None = None
         ) -> str:
    """Wrap a paragraph; no line may start with '-' or '+' (git am / diff markers)."""
    lines = textwrap.wrap(
        " ".join(text.split()),
        width=width,
        initial_indent=indent,
        subsequent_indent=indent if subsequent is None else subsequent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return "\n".join("  " + line if line.startswith(("-", "+")) else line for line in lines)


def _pack(pack: Pack | None) -> Pack:
    return pack if pack is not None else load_pack()


@cache
def _environment(pack_templates: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(pack_templates), str(TEMPLATES_DIR)]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["wrap"] = wrap
    return env


def render(template: str, pack: Pack | None = None, **context: object) -> str:
    """`template` (the pack's templates first, then the series writer's own)."""
    env = _environment(_pack(pack).templates_dir)
    return env.get_template(template).render(texts=texts(pack), **context)


def texts(pack: Pack | None = None) -> jinja2.environment.TemplateModule:
    """The per-template summaries and explanations of the pack's templates/texts.j2."""
    return _environment(_pack(pack).templates_dir).get_template("texts.j2").module


def _prefix_of(subject: str) -> str | None:
    if ": " not in subject or subject.startswith(("Revert ", "Merge ", "Reapply ")):
        return None
    prefix = subject.rsplit(": ", 1)[0].strip()
    if not prefix or len(prefix) > 40 or prefix.startswith("["):
        return None
    return prefix + ":"


def history_prefix(subjects: Sequence[str]) -> str | None:
    """Most used `prefix:` of the subjects (newest wins a tie)."""
    counts: dict[str, int] = {}
    for subject in subjects:
        prefix = _prefix_of(subject)
        if prefix:
            counts[prefix] = counts.get(prefix, 0) + 1
    if not counts:
        return None
    return max(counts, key=lambda prefix: counts[prefix])  # dicts keep first-seen order


def path_prefix(key: str) -> str:
    """Prefix derived from a group key: `veth:`, `vxlan:`, `net: bridge:`, `net:`."""
    if is_core(key):
        return "net:"
    if key.endswith((".ko", "/")):
        directory = key.rsplit("/", 1)[0] if key.endswith(".ko") else key.rstrip("/")
        name = key.rsplit("/", 1)[-1].removesuffix(".ko") if key.endswith(".ko") else ""
        parts = directory.split("/")
        if len(parts) == 2 and parts[0] == "net" and parts[1] not in ("ipv4", "ipv6"):
            return f"net: {parts[1]}:"
        return f"{name or parts[-1]}:"
    return f"{key.rsplit('/', 1)[-1].rsplit('.', 1)[0]}:"


def subject_prefix_of(repo: git_Repo, group: PatchGroup, rev: str = "HEAD") -> str:
    """`prefix:` of a group's subject: what the history of the files it touches uses,
    else the history of their directory, else one derived from the path."""
    for paths in (list(group.files), history_paths(group)):
        found = history_prefix(log_subjects(repo, paths, rev=rev))
        if found:
            return found
    directories = sorted({path.rsplit("/", 1)[0] + "/" for path in group.files if "/" in path})
    return history_prefix(log_subjects(repo, directories, rev=rev)) or path_prefix(group.key)


def history_paths(group: PatchGroup) -> list[str]:
    """What to ask `git log` about: the driver directory or the files."""
    if group.key.endswith("/"):
        return [group.key]
    if group.key.endswith(".ko"):
        return [group.key.rsplit("/", 1)[0] + "/"] if "/" in group.key else list(group.files)
    return list(group.files)


def _text_key(group: PatchGroup, pack: Pack) -> list[str]:
    """Keys of the texts for `group`: a rule's own texts (keyed by rule id, or rule
    id:template: the pack's prose.own_texts) where its template's would be wrong, else
    the templates by weight."""
    summaries = pack.prose.own_texts
    kinds = sorted({(site.rule, site.template) for site in group.sites})
    if len(kinds) == 1:
        for key in (f"{kinds[0][0]}:{kinds[0][1]}", kinds[0][0]):
            if key in summaries:
                return [key]
    return group.templates



def message_context(group: PatchGroup, sites: Sequence[Site] | None = None,
                    pack: Pack | None = None) -> dict[str, object]:
    """What the pack's texts.j2 gets as `d` for `sites` (default: the group's): the
    pack's prose.context hook, given all sites of the group and the chosen ones."""
    pack = _pack(pack)
    if pack.prose.context is None:
        return {}
    chosen = list(group.sites if sites is None else sites)
    return dict(pack.hook(pack.prose.context)(group.sites, chosen))


def commit_message(
    group: PatchGroup, stage: int, prefix: str, signoff: str, where: str = "",
    pack: Pack | None = None,
) -> tuple[str, str]:
    """(subject, full message) of one group's commit; `where` ends the subject when
    another commit of the stage would have the same one (" in do_setlink()")."""
    pack = _pack(pack)
    module = texts(pack)
    keys = _text_key(group, pack)
    primary_order = pack.prose.primary
    body_order = pack.prose.body_order
    primary = min(keys, key=lambda k: primary_order.index(k) if k in primary_order
                  else len(primary_order))
    everything = message_context(group, pack=pack)
    summary = " ".join(module.summary(primary, everything).split())
    subject = f"{prefix} {summary}{where}"
    what = []
    for key in sorted(keys, key=lambda k: body_order.index(k) if k in body_order else 99):
        sites = [site for site in group.sites if site.template == key] or group.sites
        what.append(" ".join(module.what(key, message_context(group, sites, pack)).split()))
    # a rule's own text (core declarations, .dellink) says why by itself
    own_text = bool(set(keys) & (pack.prose.own_texts | {"core"}))
    why = "" if own_text else " ".join(module.why(stage, everything).split())
    # Two short paragraphs: why (with the first, direct consequence), then the rest.
    first = " ".join(part for part in (why, what[0] if what else "") if part)
    message = render(
        "commit.j2",
        subject=subject,
        paragraphs=[paragraph for paragraph in (first, " ".join(what[1:])) if paragraph],
        signoff=signoff,
    )
    return subject, message


def plain(text: str, pack: Pack | None = None) -> str:
    """A reason or evidence line without the tool's vocabulary (template ids, spec
    sections), for logs, notes and cover letters."""
    pack = _pack(pack)
    words = texts(pack).template_words
    text = re.sub(r"\s*\(SPEC §[\d.]+\)", "", text)
    text = re.sub(r"\bSPEC §[\d.]+", pack.prose.design, text)
    text = re.sub(r"^T\d+(?: \([^)]*\))?: ", "", text)
    text = re.sub(r"\bT\d+ needs a human: ", "", text)
    text = re.sub(r"\bT\d+ (?:entry point )?not applied: ", "not rewritten: ", text)
    text = re.sub(r"^planned T\d+ rewrite: ", "planned rewrite: ", text)
    text = re.sub(r"\bT\d+ family: ", "helpers that take the lock: ", text)
    text = re.sub(r"\bby T\d+\b", "in this series", text)
    text = re.sub(r"\bT\d+ (caller|rewrite)", r"\1", text)
    return re.sub(r"\bT\d+\b", lambda m: str(words.get(m.group(0), "this conversion")), text)


def review_reason(site: Site, pack: Pack | None = None) -> str:
    """Why a review site needs a human, for the cover letter's list (which already says
    what to decide)."""
    return re.sub(r"^(?:rewrite )?not (?:rewritten|applied): ", "", plain(site.reason, pack))


def notes(group: PatchGroup, pack: Pack | None = None) -> str:
    """The evidence of a group's sites, for below the `---` line of its patch."""
    seen: set[str] = set()
    evidence = []
    for site in group.sites:  # a line shared by several sites is shown once, first
        evidence.append([line for line in site.evidence if line not in seen])
        seen.update(site.evidence)
    pack = _pack(pack)
    return render("notes.j2", pack, sites=list(zip(group.sites, evidence, strict=True)),
                  plain=lambda text: plain(text, pack))


def insert_notes(patch_file: Path, text: str) -> None:
    """Put `text` right after the `---` line that ends the commit log of a patch file,
    where `git am` drops it and reviewers read it."""
    content = srctext.read_text(patch_file)  # the diff carries the files' own bytes
    marker = content.find("\n---\n")
    if marker < 0:
        raise MigratorError(f"{patch_file}: no '---' line in git format-patch output")
    at = marker + len("\n---\n")
    srctext.write_text(patch_file, content[:at] + text.rstrip("\n") + "\n\n" + content[at:])


# --- building and writing a stage's series -----------------------------------


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
        return [site for site in self.plan.sites if site.outcome == "review"]

    @property
    def remaining(self) -> int:
        return len(self.review) + sum(1 for s in self.plan.sites if s.template == "report")


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
            for site in group.sites:
                site.patch = group.patch_name
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
            remaining=built.remaining,
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


def manifest(series: Iterable[StageSeries | StagePlan]) -> list[dict[str, object]]:
    """SPEC §4 records, one per site, in stage then file order."""
    records: list[dict[str, object]] = []
    for item in series:
        plan = item.plan if isinstance(item, StageSeries) else item
        for site in sorted(plan.sites, key=lambda s: (s.file, s.line, s.template)):
            records.append(site.to_json())
    return records
