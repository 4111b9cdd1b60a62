"""Typed records passed between the pipeline steps.

source files -> ParsedFile (parse.py) -> TreeIndex (index.py) -> Site (rules engine)
-> Edit (rewrites) -> patches (series.py).

All byte offsets are offsets into the *original* file bytes: normalisation
masks text without moving it, so every range here can be used to edit the
file the user has.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from migrator.model.srctext import display


class Outcome(enum.StrEnum):
    """What a rule found at a site. A StrEnum: JSON and comparisons see the strings.

    REWRITE: the tool converts it (its edits; a site sharing another's edits may have
    none). REVIEW: a human decides (the cover letter lists it). ALREADY_DONE: converted
    already (by the rule's done_when): nothing to do, no patch, not review; `migrate
    status` counts it as done. REPORT: listed for a human like a review site, but there
    is nothing to convert (a notifier handler to read, say)."""

    REWRITE = "rewrite"
    REVIEW = "review"
    ALREADY_DONE = "already_done"
    REPORT = "report"

    @property
    def listed(self) -> bool:
        """Listed for a human (cover letter, `migrate review`, --strict)."""
        return self in (Outcome.REVIEW, Outcome.REPORT)


@dataclass(frozen=True, slots=True)
class Param:
    type: str  # declared type text, e.g. "struct net_device *"
    name: str  # "" for unnamed parameters


@dataclass(frozen=True, slots=True)
class FunctionDef:
    name: str
    file: str  # path relative to the tree root, '/' separated
    start: int  # byte range of the whole definition (specifiers included)
    end: int
    body_start: int  # byte range of the body's { ... }
    body_end: int
    line: int  # 1-based line of the function name
    is_static: bool
    params: tuple[Param, ...]
    locals: tuple[Param, ...]  # declarations anywhere in the body, in source order
    has_error: bool  # tree-sitter produced ERROR/MISSING inside (after normalisation)


@dataclass(frozen=True, slots=True)
class CallSite:
    caller: str  # enclosing function name
    file: str
    callee: str  # called identifier; for `x->ops->newlink(...)` the member name "newlink"
    via_member: bool  # call through a struct member (function pointer)
    receiver: str  # text of the object expression for member calls ("x->ops"), else ""
    start: int  # byte range of the call expression
    end: int
    line: int
    args: tuple[str, ...]  # argument source texts, as written
    # Set on a use of a function-like macro whose body calls `callee` (TreeIndex.macro_calls):
    # "NAME (file:line)" of each macro from the use to the call, outermost first. The call
    # itself is in the macro's text: the site is the use, at start/end.
    via_macro: tuple[str, ...] = ()
    # Inside a live `#if` arm the parse could not read (normalize.normalize_dropping): the
    # call is seen by its text only, never edited; 1-based line of the arm's directive.
    masked_arm: int = 0


@dataclass(frozen=True, slots=True)
class MacroDef:
    """A function-like macro: `#define NAME(params) body`, continuation lines included."""

    name: str
    file: str
    start: int  # byte range of the whole definition
    end: int
    line: int  # 1-based line of the #define
    params: tuple[str, ...]
    calls: tuple[str, ...]  # identifiers called in the body (`name(`), in order, once each

    def describe(self) -> str:
        return f"{self.name} ({self.file}:{self.line})"


@dataclass(frozen=True, slots=True)
class StructInit:
    """A designated initializer: `static const struct foo_ops foo = { .create = f }`."""

    file: str
    var: str  # variable name ("" for anonymous / compound literals)
    struct_type: str  # "foo_ops"
    start: int  # byte range of the whole declaration
    end: int
    body_start: int  # byte range of the outermost { ... }
    body_end: int
    line: int
    is_array: bool
    # (member, value text) in source order; nested designators are dotted
    # ("mandatory.data"); each element of an array starts with a ("[]", "") marker.
    members: tuple[tuple[str, str], ...]

    def elements(self) -> list[dict[str, str]]:
        """Members per element (one element unless the initializer is an array)."""
        if not self.is_array:
            return [dict(self.members)]
        out: list[dict[str, str]] = []
        for name, value in self.members:
            if name == "[]":
                out.append({})
            elif out:
                out[-1][name] = value
        return out

    def member(self, name: str) -> str | None:
        for key, value in self.members:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class ParseStats:
    """Parse quality of one file's parsed definitions, before/after normalisation."""

    functions: int = 0
    functions_clean_raw: int = 0
    functions_clean: int = 0
    target_functions: int = 0  # functions containing a call to a stage target
    target_functions_clean_raw: int = 0
    target_functions_clean: int = 0

    def __add__(self, other: ParseStats) -> ParseStats:
        return ParseStats(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


def astuple(stats: ParseStats) -> tuple[int, ...]:
    return (
        stats.functions,
        stats.functions_clean_raw,
        stats.functions_clean,
        stats.target_functions,
        stats.target_functions_clean_raw,
        stats.target_functions_clean,
    )


@dataclass(slots=True)
class ParsedFile:
    path: str
    functions: list[FunctionDef] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    inits: list[StructInit] = field(default_factory=list)
    macros: list[MacroDef] = field(default_factory=list)
    masked_calls: list[CallSite] = field(default_factory=list)  # CallSite.masked_arm
    stats: ParseStats = field(default_factory=ParseStats)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace bytes [start, end) of `file` (original text) by `replacement`."""

    file: str
    start: int
    end: int
    replacement: str
    rule: str  # id of the rule that made it


@dataclass(frozen=True, slots=True)
class Site:
    """One place a rule looked at and what it found there. Frozen: a step that changes
    a site's fate (apply.py demoting a rewrite, series.py naming its patch) builds a new
    one with dataclasses.replace."""

    stage: int
    template: str  # "T1".."T9", "link_deps", "report", "core"
    outcome: Outcome
    file: str
    function: str
    line: int
    start: int
    end: int
    rule: str
    reason: str  # one line: what is done, or why a human must decide
    evidence: tuple[str, ...] = ()
    edits: tuple[Edit, ...] = ()
    patch: str | None = None  # file name of the patch that carries the edits

    def __post_init__(self) -> None:
        # Reason and evidence quote the source (call arguments, lines): text for a reader,
        # written to the cover letter, the terminal and JSON; never edited back into a file.
        # Any iterable is accepted for evidence and edits; the site keeps tuples.
        set_ = object.__setattr__
        set_(self, "outcome", Outcome(self.outcome))
        set_(self, "reason", display(self.reason))
        set_(self, "evidence", tuple(display(e) for e in _items(self.evidence)))
        set_(self, "edits", tuple(_items(self.edits)))

    def to_json(self) -> dict[str, object]:
        return {
            "stage": self.stage,
            "template": self.template,
            "outcome": self.outcome.value,
            "file": self.file,
            "function": self.function,
            "line": self.line,
            "rule": self.rule,
            "reason": self.reason,
            "evidence": list(self.evidence),
            "patch": self.patch,
        }


@dataclass(slots=True)
class StagePlan:
    """Everything one stage would do to a tree: its sites and their edits."""

    stage: int
    tree: str
    sites: list[Site] = field(default_factory=list)
    pack: str = ""  # the pack whose stage this is (packs.load_pack)
    skipped_files: list[str] = field(default_factory=list)  # files that could not be examined
    warnings: list[str] = field(default_factory=list)

    @property
    def edits(self) -> list[Edit]:
        return [edit for site in self.sites if site.outcome is Outcome.REWRITE
                for edit in site.edits]


def _items(values: Iterable[object]) -> Iterable[object]:
    if isinstance(values, str | bytes):
        raise TypeError("Site evidence and edits are sequences, not one string")
    return values
