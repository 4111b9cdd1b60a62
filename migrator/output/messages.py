"""The words of a series: commit subjects and messages, subject prefixes, the pack's
texts (templates/texts.j2), plain-language reasons and the evidence notes of a patch.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import jinja2
from git import Repo as git_Repo

from migrator.model import Site, srctext
from migrator.model.errors import MigratorError
from migrator.model.gitops import log_subjects
from migrator.output.grouping import PatchGroup, _pack, is_core
from migrator.packs import Pack

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"  # commit, cover, notes

BODY_WIDTH = 75


def wrap(text: str, width: int = BODY_WIDTH, indent: str = "", subsequent: str | None = None
         ) -> str:
    """Wrap a paragraph; no line may start with '-' or '+' (git am / diff markers): in
    an unindented paragraph a word starting with one stays on the line of the word
    before it (a no-break space while wrapping; textwrap splits on ASCII whitespace
    only)."""
    glued = " ".join(text.split())
    if not indent and not subsequent:  # an indented line never starts with a marker
        glued = re.sub(r" (?=[-+])", "\u00a0", glued)
    lines = textwrap.wrap(
        glued,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent if subsequent is None else subsequent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    lines = [line.replace("\u00a0", " ") for line in lines]
    return "\n".join("  " + line if line.startswith(("-", "+")) else line for line in lines)


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


# What a pack's texts.j2 defines: macros summary(key, d) (a subject), why(stage, d)
# and what(key, d) (commit-log paragraphs), depends(with_core) (the cover letter's
# dependency line); dicts review_actions (template -> what a reviewer does) and
# template_words (template -> plain words for it).
TEXTS_NAMES = ("summary", "why", "what", "depends", "review_actions", "template_words")


def texts(pack: Pack | None = None) -> jinja2.environment.TemplateModule:
    """The per-template summaries and explanations of the pack's templates/texts.j2.
    Raises MigratorError naming the file when the pack has none, or when it lacks one
    of TEXTS_NAMES (a pack that only scans needs none; writing a series does)."""
    folder = _pack(pack).templates_dir
    path = folder / "texts.j2"
    if not path.is_file():
        raise MigratorError(f"{path}: missing: the pack's commit and "
                            "cover-letter texts (see the packs shipped with migrator)")
    module = _environment(folder).get_template("texts.j2").module
    missing = [name for name in TEXTS_NAMES if not hasattr(module, name)]
    if missing:
        raise MigratorError(f"{path}: does not define {', '.join(missing)} (a pack's texts "
                            f"define the macros summary(key, d), why(stage, d), what(key, d), "
                            "depends(with_core) and the dicts review_actions, template_words)")
    return module


def template_error(exc: jinja2.TemplateError) -> str:
    """`file:line: what` of an error in a pack's template (a texts.j2 macro using a name
    its context does not give, a syntax error): the innermost template frame of the
    traceback, at its line in the template, else what jinja says."""
    where, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        template = tb.tb_frame.f_globals.get("__jinja_template__")
        if template is not None:  # a template's compiled code: its line in the template
            where, line = template.filename, template.get_corresponding_lineno(tb.tb_lineno)
        elif tb.tb_frame.f_code.co_filename.endswith(".j2"):  # already rewritten by jinja
            where, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
        tb = tb.tb_next
    place = f"{where}:{line}: " if where and line else f"{where}: " if where else ""
    return f"{place}{exc.message or type(exc).__name__}"


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
    # Short paragraphs: why (with the first, direct consequence), then one per further
    # kind of change (a new parameter and a link_deps table are two things to review).
    first = " ".join(part for part in (why, what[0] if what else "") if part)
    message = render(
        "commit.j2",
        subject=subject,
        paragraphs=[paragraph for paragraph in (first, *what[1:]) if paragraph],
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
