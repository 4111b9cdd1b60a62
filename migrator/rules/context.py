"""What a rule's finder gets: the rule, the tree's index and call graph, its candidates.

The engine builds a TreeView once per tree and a RuleContext per rule; a rule's
finder (`find(ctx)` of the rule folder's finder.py) turns the context into sites.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.callgraph import CallGraph, FnKey, Root, key
from migrator.edit.fntree import FnTree
from migrator.edit.params import ParamEdits
from migrator.index.tree_index import TreeIndex
from migrator.model import CallSite, Edit, FunctionDef, Outcome, Site
from migrator.rules.fix import (
    apply_add_arg,
    apply_add_param,
    apply_add_param_prototype,
    apply_fix,
    bindings,
)
from migrator.rules.load import Rule


@dataclass(slots=True)
class TreeView:
    """The tree as the rules see it: its index, call graph and rules, and the functions
    reachable from callbacks (computed once per set of callbacks)."""

    tree: Path
    rules: list[Rule]
    index: TreeIndex
    graph: CallGraph
    _reach: dict[tuple[str, ...], tuple[dict[FnKey, list[str]], dict[FnKey, Root]]] = field(
        default_factory=dict)

    def reach(self, members: tuple[str, ...]) -> tuple[dict[FnKey, list[str]], dict[FnKey, Root]]:
        """Functions reachable from the callbacks `members`, chains, and the root of each."""
        if members not in self._reach:
            roots = self.graph.roots(members)
            self._reach[members] = (self.graph.reach(roots), {key(r.function): r for r in roots})
        return self._reach[members]


@dataclass(frozen=True, slots=True)
class At:
    """Where a site is when it is not a selected call (a struct initializer, a header's
    declaration, a function as a whole): what a Candidate gives from its call."""

    file: str
    function: str
    line: int
    start: int
    end: int

    @classmethod
    def call(cls, call: CallSite) -> At:
        """A call that is not a candidate (a caller of the function a finder edits)."""
        return cls(call.file, call.caller, call.line, call.start, call.end)


@dataclass(slots=True)
class Candidate:
    """A selected call whose function satisfies the rule's context."""

    call: CallSite
    function: FunctionDef
    chain: list[str]  # root callback -> ... -> function (empty without reachable_from)
    root: Root | None
    binds: dict[str, str] = field(default_factory=dict)  # what the selection bound: in_dir

    @property
    def key(self) -> tuple[str, int]:
        return call_key(self.call)

    def evidence(self) -> list[str]:
        out = []
        call = self.call
        if self.chain:
            out.append("call chain: " + " -> ".join([*self.chain, *(
                m.split(" (", 1)[0] for m in call.via_macro), call.callee]))
        if self.root is not None:
            out.append("callback: " + self.root.describe())
        if call.masked_arm:
            out.append(f"#if arm: {call.file}:{call.masked_arm}, not parsed (its braces do not "
                       "balance with the other arms)")
            out.append(f"call: {call.file}:{call.line} {call.callee}(), found by its text")
        elif call.via_macro:
            outer = call.via_macro[0].split(" (", 1)[0]
            out.append(f"macro use: {call.file}:{call.line} {outer}({', '.join(call.args)})")
            out.extend(f"macro: {m}" for m in call.via_macro)
            out.append(f"{call.callee}() is called in the text of "
                       f"{call.via_macro[-1].split(' (', 1)[0]}")
        else:
            out.append(f"call: {call.file}:{call.line} {call.callee}({', '.join(call.args)})")
        return out


@dataclass(slots=True)
class RuleContext:
    """What a finder gets: the rule, the tree's index, its candidates."""

    rule: Rule
    index: TreeIndex
    graph: CallGraph
    candidates: list[Candidate]
    options: dict[str, Any]
    view: TreeView
    # Candidates whose call is hidden in a macro's text (CallSite.via_macro): never handed
    # to the finder as candidates; they become review sites (macro_sites()).
    hidden: list[Candidate] = field(default_factory=list)
    macros_listed: bool = False
    # Calls (call_key) that rules this one runs after claimed (`[select] after`): not
    # among its candidates; a finder re-locating calls in a function skips them.
    taken: frozenset[tuple[str, int]] = frozenset()
    # Selected calls of the converted name (the rule's done_when callee): never handed to
    # the finder as candidates; they become already-done sites (done_sites()).
    converted: list[Candidate] = field(default_factory=list)
    converted_listed: bool = False
    # (file, offset) of the regions fix() edited: one edit per region (a loop holding
    # several selected calls is bracketed once).
    fixed: set[tuple[str, int]] = field(default_factory=set)

    def done_sites(self, keep: Callable[[Candidate], bool] | None = None) -> list[Site]:
        """Already-done sites for the calls of the converted name (those `keep` selects:
        a finder that selects only some callers applies the same choice, so the census
        counts each converted call under the rule that converted it). The engine lists
        them all unless the finder called this itself."""
        self.converted_listed = True
        return [self.already_done(c, f"{c.call.callee}() is the converted form")
                for c in self.converted if keep is None or keep(c)]

    def fix(self, candidate: Candidate, *, ft: FnTree | None = None, **values: str
            ) -> list[Edit] | None:
        """The rule's `[fix]` (migrator.rules.fix) applied to the candidate's call, with
        the metavariables a finder binds (`values`) besides {arg0}.. {callee} {function}:
        the finder decides where, the rule's data says what. None when `done_when` says
        the call is converted already, [] when its region was edited for an earlier
        call; raises NeedsReview when the edit cannot be made safely. `ft`: the
        function, when the finder has parsed it already."""
        call = candidate.call
        return apply_fix(self.rule.fix, self.rule.path, self.index.source(call.file),
                         candidate.function, call, self.rule.id,
                         bindings(call, candidate.function, {**candidate.binds, **values}),
                         ft=ft, fixed=self.fixed)

    # The signature part of the rule's [fix] (add_param, kdoc_param), where the finder
    # says: the function gaining the parameter, its prototypes, the calls passing it.
    # Raise NeedsReview when the edit cannot be made safely.

    def add_param(self, function: FunctionDef, **values: str) -> ParamEdits:
        """add_param's `param` appended to `function`'s definition, and kdoc_param's line
        to its kernel-doc when it has one; `values`: the metavariables the finder binds
        besides {function} (the function's name)."""
        return apply_add_param(self.rule.fix, self.rule.path, self.index.source(function.file),
                               function, self.rule.id, values)

    def add_param_prototype(self, file: str, at: int, name: str, **values: str
                            ) -> Edit | None:
        """add_param's `param` appended to the prototype `type name(...);` at offset `at`
        of `file`; None when the text there is not a prototype."""
        return apply_add_param_prototype(self.rule.fix, self.rule.path, file,
                                         self.index.source(file), at, name, self.rule.id,
                                         values)

    def add_arg(self, call: CallSite, kind: str = "", **values: str) -> Edit:
        """add_param's `arg` (the text for calls of `kind` when it is a table) appended to
        the arguments of `call`, with {arg0}.. {callee} {function} (the caller) and the
        finder's `values`."""
        return apply_add_arg(self.rule.fix, self.rule.path, self.index.source(call.file),
                             call, kind, self.rule.id, values)

    def macro_sites(self, keep: Callable[[Candidate], bool] | None = None) -> list[Site]:
        """Review sites for the hidden candidates (those `keep` selects: a finder that
        selects only some callers applies the same choice). The engine lists them all
        after the finder unless the finder called this itself."""
        self.macros_listed = True
        return [self.review(c, hidden_reason(c.call))
                for c in self.hidden if keep is None or keep(c)]

    # The four outcomes a finder returns (migrator.model.Outcome). `where` is the
    # selected call (evidence: its chain and call, unless given) or an At.

    def rewrite(self, where: Candidate | At, edits: Iterable[Edit], reason: str, *,
                evidence: Iterable[str] | None = None, template: str | None = None) -> Site:
        """The tool converts it with `edits` (none: another site of the rule carries
        the shared edit)."""
        return self._make(where, Outcome.REWRITE, reason, evidence, template, edits)

    def review(self, where: Candidate | At, reason: str, *,
               evidence: Iterable[str] | None = None, template: str | None = None) -> Site:
        """A human decides; `reason` says why the tool did not."""
        return self._make(where, Outcome.REVIEW, reason, evidence, template)

    def already_done(self, where: Candidate | At, reason: str = "already converted", *,
                     evidence: Iterable[str] | None = None, template: str | None = None
                     ) -> Site:
        """Converted already: nothing to do; `migrate status` counts it as done."""
        return self._make(where, Outcome.ALREADY_DONE, reason, evidence, template)

    def report(self, where: Candidate | At, reason: str, *,
               evidence: Iterable[str] | None = None, template: str | None = None) -> Site:
        """Listed for a human like a review site, with nothing to convert."""
        return self._make(where, Outcome.REPORT, reason, evidence, template)

    def _make(self, where: Candidate | At, outcome: Outcome, reason: str,
              evidence: Iterable[str] | None, template: str | None,
              edits: Iterable[Edit] = ()) -> Site:
        if isinstance(where, Candidate):
            call = where.call
            at = At(call.file, where.function.name, call.line, call.start, call.end)
            if evidence is None:
                evidence = where.evidence()
        else:
            at = where
        return Site(
            stage=self.rule.stage, template=template or self.rule.template, outcome=outcome,
            file=at.file, function=at.function, line=at.line, start=at.start, end=at.end,
            rule=self.rule.id, reason=reason, evidence=tuple(evidence or ()),
            edits=tuple(edits),
        )


def call_key(call: CallSite) -> tuple[str, int]:
    """What identifies a selected call between rules: its file and offset."""
    return call.file, call.start


def hidden_reason(call: CallSite) -> str:
    """Why a call the tool sees only by its text is left to a human."""
    if call.masked_arm:
        return (f"{call.callee}() is called in an #if arm whose braces do not balance with "
                "the other arms, so the tool cannot parse it with the function; convert "
                "this call by hand")
    outer = call.via_macro[0].split(" (", 1)[0]
    return (f"{call.callee}() is called inside macro {outer}(): the macro's text is shared "
            "by its uses, the expansion cannot be edited in place; change the macro or this "
            "use by hand")


