"""Rule engine: one index for all rules, then candidates -> sites -> edits per stage."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator import RULES_DIR
from migrator.callgraph import CallGraph, FnKey, Root, key
from migrator.engine.plan import PlanOptions
from migrator.index.build import FACTS_VERSION, IndexRequest, TreeIndex, build_index
from migrator.index.cache import open_cache
from migrator.index.discover import check_tree, tree_fingerprint
from migrator.model import CallSite, Edit, FunctionDef, ParseStats, Site, StagePlan
from migrator.rules.load import Rule, load_rules

# Calls that take or drop RTNL: the paths rules follow (callbacks run under RTNL) never
# pass through a function making them, so the index does not search its callers.
RTNL_BOUNDARIES = frozenset({"rtnl_lock", "rtnl_lock_killable", "rtnl_trylock", "rtnl_unlock",
                             "__rtnl_unlock", "rtnl_net_lock", "rtnl_net_unlock"})
# Files mentioning one of these bound the search for callers of helpers (see index.py).
SCOPE_NAMES = frozenset({"net_device"})
# Calls counted by `scan --stats` when telling "functions containing a target call".
STATS_TARGETS = frozenset({"register_netdevice", "register_netdev", "unregister_netdevice",
                           "netdev_master_upper_dev_link", "dev_change_net_namespace"})


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "migrator"


@dataclass(slots=True)
class Candidate:
    """A selected call whose function satisfies the rule's context."""

    call: CallSite
    function: FunctionDef
    chain: list[str]  # root callback -> ... -> function (empty without reachable_from)
    root: Root | None

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
    """What an analysis function gets: the rule, the tree's index, its candidates."""

    rule: Rule
    index: TreeIndex
    graph: CallGraph
    candidates: list[Candidate]
    options: dict[str, Any]
    engine: Engine
    # Candidates whose call is hidden in a macro's text (CallSite.via_macro): never handed
    # to the analysis as candidates; they become review sites (macro_sites()).
    hidden: list[Candidate] = field(default_factory=list)
    macros_listed: bool = False

    def macro_sites(self, keep: Callable[[Candidate], bool] | None = None) -> list[Site]:
        """Review sites for the hidden candidates (those `keep` selects: an analysis that
        selects only some callers applies the same choice). The engine lists them all
        after the analysis unless the analysis called this itself."""
        self.macros_listed = True
        return [self.site(c, outcome="review", reason=hidden_reason(c.call))
                for c in self.hidden if keep is None or keep(c)]

    def site(self, candidate: Candidate, *, outcome: str, reason: str,
             edits: list[Edit] | None = None, evidence: list[str] | None = None,
             template: str | None = None) -> Site:
        call = candidate.call
        return Site(
            stage=self.rule.stage, template=template or self.rule.template,
            outcome=outcome,  # type: ignore[arg-type]
            file=call.file, function=candidate.function.name, line=call.line,
            start=call.start, end=call.end, rule=self.rule.id, reason=reason,
            evidence=evidence if evidence is not None else candidate.evidence(),
            edits=edits or [],
        )


@dataclass(slots=True)
class Engine:
    tree: Path
    rules: list[Rule]
    index: TreeIndex
    graph: CallGraph
    options: PlanOptions
    _reach: dict[tuple[str, ...], tuple[dict[FnKey, list[str]], dict[FnKey, Root]]] = field(
        default_factory=dict)

    def reach(self, members: tuple[str, ...]) -> tuple[dict[FnKey, list[str]], dict[FnKey, Root]]:
        """Functions reachable from the callbacks `members`, chains, and the root of each."""
        if members not in self._reach:
            roots = self.graph.roots(members)
            self._reach[members] = (self.graph.reach(roots), {key(r.function): r for r in roots})
        return self._reach[members]

    def candidates(self, rule: Rule) -> list[Candidate]:
        wanted = set(rule.calls)
        reach, roots = self.reach(rule.reachable_from) if rule.reachable_from else ({}, {})
        excluded, _ = (self.reach(rule.not_reachable_from) if rule.not_reachable_from
                       else ({}, {}))
        out = []
        for call in (*self.index.calls(), *self.index.macro_calls(),
                     *self.index.masked_calls()):
            if call.via_member or call.callee not in wanted:
                continue
            fn = self.index.function(call.file, call.caller)
            if fn is None:
                continue
            k = key(fn)
            if rule.reachable_from and k not in reach:
                continue
            if k in excluded:
                continue
            chain = reach.get(k, [])
            root = None
            if chain:
                first = self.index.functions_by_name.get(chain[0], [])
                root = next((roots[key(f)] for f in first if key(f) in roots), None)
            out.append(Candidate(call, fn, chain, root))
        out.sort(key=lambda c: (c.call.file, c.call.start))
        return out

    def run_rule(self, rule: Rule) -> list[Site]:
        candidates = self.candidates(rule) if rule.calls else []
        options = {**rule.options, **self.options.rule_options}
        hidden = [c for c in candidates if c.call.via_macro or c.call.masked_arm]
        candidates = [c for c in candidates if not (c.call.via_macro or c.call.masked_arm)]
        ctx = RuleContext(rule, self.index, self.graph, candidates, options, self, hidden)
        analysis = rule.analysis_function()
        if analysis is not None:
            found = list(analysis(ctx))
            return found if ctx.macros_listed else [*found, *ctx.macro_sites()]
        sites = ctx.macro_sites()
        for candidate in candidates:
            edits = []
            outcome, reason = rule.outcome, rule.reason or rule.title
            if rule.outcome == "rewrite" and rule.rename:
                call = candidate.call
                end = call.start + len(call.callee)
                if self.index.source(call.file)[call.start : end] != call.callee.encode():
                    # never edit bytes that are not the ones the rule matched
                    outcome, reason = "review", "source changed since indexing; not rewritten"
                else:
                    edits.append(Edit(call.file, call.start, end, rule.rename, rule.id))
            sites.append(ctx.site(candidate, outcome=outcome, reason=reason, edits=edits))
        return sites

    def plan(self, stage: int) -> StagePlan:
        plan = StagePlan(stage=stage, tree=str(self.tree))
        plan.skipped_files = list(self.index.skipped)
        macro_uses: set[tuple[str, int, str]] = set()
        for rule in self.rules:
            if rule.stage == stage:
                for site in self.run_rule(rule):
                    if any(e.startswith(("macro use: ", "#if arm: ")) for e in site.evidence):
                        # several rules of a stage select the same call: one site per use
                        use = (site.file, site.start, site.reason)
                        if use in macro_uses:
                            continue
                        macro_uses.add(use)
                    plan.sites.append(site)
        plan.sites.sort(key=lambda s: (s.file, s.line, s.rule))
        return plan


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


def index_request(rules: list[Rule], extra_names: frozenset[str] = frozenset()) -> IndexRequest:
    from migrator.packs.nd_lock.census import CENSUS_NAMES

    names = {n for r in rules for n in r.calls} | set(extra_names) | CENSUS_NAMES
    local = {n for r in rules if r.local for n in r.calls}
    global_ = {n for r in rules if not r.local for n in r.calls}
    for rule in rules:
        names |= set(rule.options.get("index_names", []))
    roots = {m for r in rules for m in (*r.reachable_from, *r.not_reachable_from)}
    for rule in rules:
        roots |= set(rule.options.get("index_roots", []))
    return IndexRequest(
        names=frozenset(names),
        root_members=frozenset(roots),
        stats_targets=STATS_TARGETS,
        boundaries=RTNL_BOUNDARIES,
        local_names=frozenset((names - global_) | (local - global_)),
        scope_names=SCOPE_NAMES,
    )


def open_engine(tree: Path, options: PlanOptions, *, stats: bool = False) -> Engine:
    tree = check_tree(tree)
    rules = load_rules(options.rules_dir)
    request = index_request(rules)
    cache_dir = (None if not options.use_cache
                 else options.cache_dir if options.cache_dir is not None else default_cache_dir())
    index = build_index(tree, request, jobs=options.jobs, cache_dir=cache_dir,
                        progress=options.progress, stats=stats)
    return Engine(tree, rules, index, CallGraph(index), options)


def run_stage(tree: Path, stage: int, options: PlanOptions) -> StagePlan:
    return open_engine(tree, options).plan(stage)


@dataclass(slots=True)
class ScanResult:
    sites: list[Site]
    skipped: list[str]
    stats: ParseStats
    files_indexed: int


def scan(tree: Path, stages: list[int], options: PlanOptions, *, stats: bool = False
         ) -> ScanResult:
    """Sites of `stages`. On an unchanged git tree (same fingerprint, rules, options and
    version) the previous result is reused without loading the index: a scan after a
    scan is interactive."""
    tree = check_tree(tree)
    cache_dir = (None if not options.use_cache
                 else options.cache_dir if options.cache_dir is not None else default_cache_dir())
    key: tuple[object, ...] | None = None
    cache = open_cache(cache_dir) if cache_dir is not None else None
    if cache is not None:
        fingerprint = tree_fingerprint(tree)
        if fingerprint is not None:
            rules_dir = options.rules_dir or RULES_DIR
            rules_text = b"".join(p.read_bytes() for p in sorted(rules_dir.glob("*.toml")))
            key = (FACTS_VERSION, fingerprint, hashlib.sha256(rules_text).hexdigest(),
                   sorted(options.rule_options.items(), key=str), stages, stats)
            cached = cache.result("scan", tree, key)
            if isinstance(cached, ScanResult):
                return cached
    engine = open_engine(tree, options, stats=stats)
    sites = [site for stage in stages for site in engine.plan(stage).sites]
    result = ScanResult(sites, list(engine.index.skipped), engine.index.stats,
                        len(engine.index.files))
    if cache is not None and key is not None:
        cache.put_result("scan", tree, key, result)
    return result
