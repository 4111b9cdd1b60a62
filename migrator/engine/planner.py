"""Rule engine: one index for all rules of a pack, then candidates -> sites -> edits
per stage. What the index records and where the caller search stops come from the
pack (`[index]` of pack.toml); the engine knows no lock by name."""

from __future__ import annotations

import hashlib
import os
import traceback
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from migrator.callgraph import CallGraph, key
from migrator.edit.cedit import NeedsReview
from migrator.engine.plan import PlanOptions
from migrator.index.build import build_index
from migrator.index.cache import open_cache
from migrator.index.discover import tree_fingerprint
from migrator.index.tree_index import IndexRequest, TreeIndex
from migrator.index.workers import FACTS_VERSION
from migrator.model import Outcome, ParseStats, Site, StagePlan
from migrator.model.errors import MigratorError, check_tree
from migrator.packs import Pack, load_pack
from migrator.rules.context import Candidate, RuleContext, TreeView
from migrator.rules.fix import bindings
from migrator.rules.load import Rule, earlier_rules, load_finder, precedence_order, under

# The pickled Site of a cached scan result: 2 = frozen, typed Outcome.
SITE_FORMAT = 2


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "migrator"


@dataclass(slots=True)
class Engine:
    view: TreeView
    pack: Pack
    options: PlanOptions

    @property
    def tree(self) -> Path:
        return self.view.tree

    @property
    def rules(self) -> list[Rule]:
        return self.view.rules

    @property
    def index(self) -> TreeIndex:
        return self.view.index

    @property
    def graph(self) -> CallGraph:
        return self.view.graph

    def reach(self, members: tuple[str, ...]) -> tuple[dict, dict]:  # type: ignore[type-arg]
        return self.view.reach(members)

    def candidates(self, rule: Rule, options: Mapping[str, Any] | None = None
                   ) -> list[Candidate]:
        """Calls of the rule's names (its converted ones, done_when callee, included)
        whose function satisfies its context."""
        wanted = {*rule.calls, *rule.done_calls}
        options = self.rule_options(rule) if options is None else options
        in_dirs = expand_dirs(rule, "in_dirs", options)
        not_in_dirs = expand_dirs(rule, "not_in_dirs", options)
        reach, roots = self.reach(rule.reachable_from) if rule.reachable_from else ({}, {})
        excluded, _ = (self.reach(rule.not_reachable_from) if rule.not_reachable_from
                       else ({}, {}))
        out = []
        for call in (*self.index.calls(), *self.index.macro_calls(),
                     *self.index.masked_calls()):
            if call.via_member or call.callee not in wanted:
                continue
            binds = {}
            if rule.in_dirs:
                where = under(call.file, in_dirs)
                if where is None:
                    continue
                binds["in_dir"] = where
            if under(call.file, not_in_dirs) is not None:
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
            out.append(Candidate(call, fn, chain, root, binds))
        out.sort(key=lambda c: (c.call.file, c.call.start))
        return out

    def rule_options(self, rule: Rule) -> dict[str, Any]:
        """Precedence: the pack's defaults < the rule's [options] < flags given."""
        return {**self.pack.option_defaults(), **rule.options, **self.options.rule_options}

    def run_claiming(self, rule: Rule, taken: frozenset[tuple[str, int]] = frozenset()
                     ) -> tuple[list[Site], set[tuple[str, int]]]:
        """The rule's sites, without the calls in `taken` (claimed by the rules it runs
        after), and the calls it claims: those it emitted a site for."""
        options = self.rule_options(rule)
        selected = [c for c in (self.candidates(rule, options) if rule.calls else [])
                    if c.key not in taken]
        # a call of the converted name (done_when callee) is done: the finder never sees it
        done = [c for c in selected if c.call.callee in rule.done_calls]
        pending = [c for c in selected if c.call.callee not in rule.done_calls]
        hidden = [c for c in pending if c.call.via_macro or c.call.masked_arm]
        candidates = [c for c in pending if not (c.call.via_macro or c.call.masked_arm)]
        ctx = RuleContext(rule, self.index, self.graph, candidates, options, self.view, hidden,
                          taken=taken, converted=done)
        sites: list[Site] = []
        if rule.finder is not None:
            found = run_finder(rule, ctx)
            sites.extend(found if ctx.converted_listed else [*ctx.done_sites(), *found])
            if not ctx.macros_listed:
                sites.extend(ctx.macro_sites())
        else:
            sites.extend(ctx.done_sites())
            sites.extend(ctx.macro_sites())
            sites.extend(self.data_fix(ctx, candidate) for candidate in candidates)
        emitted = {(site.file, site.start) for site in sites}
        return sites, {c.key for c in selected if c.key in emitted}

    def data_fix(self, ctx: RuleContext, candidate: Candidate) -> Site:
        """The rule's [fix] applied to one candidate (migrator.rules.fix): a rewrite, a
        review with the reason the edit layer gives, or already done when the rule's
        done_when says the call is converted."""
        rule = ctx.rule
        values = bindings(candidate.call, candidate.function, candidate.binds)
        reason = fill_reason(rule, values)
        if rule.outcome is Outcome.REVIEW:
            return ctx.review(candidate, reason)
        if rule.outcome is Outcome.REPORT:
            return ctx.report(candidate, reason)
        try:
            edits = ctx.fix(candidate)
        except NeedsReview as exc:
            return ctx.review(candidate, exc.reason,
                              evidence=[*candidate.evidence(), *exc.evidence])
        if edits is None:
            return ctx.already_done(candidate)
        return ctx.rewrite(candidate, edits, reason)

    def plan(self, stage: int) -> StagePlan:
        plan = StagePlan(stage=stage, tree=str(self.tree), pack=self.pack.name)
        plan.skipped_files = list(self.index.skipped)
        macro_uses: set[tuple[str, int, str]] = set()
        # precedence ([select] after): a rule does not see the calls that the rules it
        # runs after claimed
        earlier = earlier_rules(self.rules)
        claimed: dict[str, set[tuple[str, int]]] = {}
        for rule in precedence_order([r for r in self.rules if r.stage == stage]):
            taken = frozenset().union(*(claimed[r] for r in earlier[rule.id]))
            sites, claimed[rule.id] = self.run_claiming(rule, taken)
            for site in sites:
                if any(e.startswith(("macro use: ", "#if arm: ")) for e in site.evidence):
                    # several rules of a stage select the same call: one site per use
                    use = (site.file, site.start, site.reason)
                    if use in macro_uses:
                        continue
                    macro_uses.add(use)
                plan.sites.append(site)
        plan.sites = settle_disputes(plan.sites, {r.id: r for r in self.rules}, plan.warnings)
        plan.sites.sort(key=lambda s: (s.file, s.line, s.rule))
        return plan


def run_finder(rule: Rule, ctx: RuleContext) -> list[Site]:
    """The sites of the rule's `find(ctx)`. A finder that fails, returns None, or gives
    something other than sites is an error naming its finder.py (exit 2), not a
    traceback: the message says what it gave and where it failed."""
    where = rule.finder
    try:
        result = load_finder(rule)(ctx)
        if result is None:
            raise MigratorError(f"{where}: find() returned None: it returns the rule's sites "
                                "(an iterable of ctx.rewrite/review/already_done/report)")
        found = list(result)
    except MigratorError:
        raise
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        raise MigratorError(f"{where}: find() of rule {rule.id} failed: "
                            f"{type(exc).__name__}: {exc} (at {frame.filename}:{frame.lineno})"
                            ) from exc
    for item in found:
        if not isinstance(item, Site):
            raise MigratorError(f"{where}: find() gave a {type(item).__name__}, not a site: "
                                "wrap what ctx.fix() returns with ctx.rewrite(candidate, "
                                "edits, reason), ctx.already_done() or ctx.review()")
    return found


def settle_disputes(sites: list[Site], rules: Mapping[str, Rule], warnings: list[str]
                    ) -> list[Site]:
    """A call one rule leaves for review and another rule of the same template (the
    same kind of change) rewrites, the two selecting it with neither `after` the other:
    the review stands and the rewrite is not applied (wrong is worse than review); the
    review site names the other rule's rewrite, and a warning names both rule files and
    what orders them. Rules of different templates make different changes at one call
    (one renames a registration, another leaves the lock it needs for review): both
    stand."""
    reviews: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i, site in enumerate(sites):
        if site.outcome is Outcome.REVIEW:
            reviews[(site.file, site.start)].append(i)
    out = list(sites)
    dropped: set[int] = set()
    for i, site in enumerate(sites):
        held = [j for j in reviews.get((site.file, site.start), ())
                if sites[j].rule != site.rule and sites[j].template == site.template]
        if site.outcome is not Outcome.REWRITE or not held:
            continue
        dropped.add(i)
        for j in held:
            out[j] = replace(out[j], evidence=(*out[j].evidence,
                                               f"rule {site.rule} would rewrite it ("
                                               f"{site.reason}): not applied"))
        names = sorted({site.rule, *(sites[j].rule for j in held)})
        files = ", ".join(str(rules[name].path) for name in names if name in rules)
        warnings.append(f"{site.file}:{site.line}: rules {' and '.join(names)} both claim "
                        f"this call, one for review: it is left for review; order them "
                        f"with [select] after ({files})")
    return [site for i, site in enumerate(out) if i not in dropped]


def expand_dirs(rule: Rule, name: str, options: Mapping[str, Any]) -> list[str]:
    """`[select] in_dirs` / `not_in_dirs` of `rule`, its "{option}" entries expanded."""
    out: list[str] = []
    for entry in getattr(rule, name):
        if not entry.startswith("{"):
            out.append(entry)
            continue
        value = options.get(entry[1:-1])
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise MigratorError(f"{rule.path}: [select] {name} uses {entry}, which is not a "
                                "list option of the rule (its [options], the pack's, a flag)")
        out.extend(value)
    return out


def fill_reason(rule: Rule, values: Mapping[str, str]) -> str:
    """The rule's [fix] reason (else its title), metavariables filled."""
    if not rule.reason:
        return rule.title
    try:
        return rule.reason.format_map(values)
    except (KeyError, ValueError, IndexError) as exc:
        raise MigratorError(f"{rule.path}: [fix] reason: {exc!r} is not a metavariable the "
                            "selection binds") from None


def index_request(rules: list[Rule], pack: Pack,
                  extra_names: frozenset[str] = frozenset()) -> IndexRequest:
    """What the index records for `rules` and the pack's census and boundaries."""
    # done_when callees are recorded like the pack's own names (local: their callers
    # do not widen the caller search), so the converted form changes no reach
    names = {n for r in rules for n in (*r.calls, *r.done_calls)} | set(extra_names) \
        | pack.index_names
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
        stats_targets=pack.stats_targets,
        boundaries=pack.boundaries,
        local_names=frozenset((names - global_) | (local - global_)),
        scope_names=pack.scope_names,
    )


def open_engine(tree: Path, options: PlanOptions, *, stats: bool = False) -> Engine:
    tree = check_tree(tree)
    pack = load_pack(options.pack, options.packs_dirs)
    rules = pack.rules(options.rules_dir)
    request = index_request(rules, pack)
    cache_dir = (None if not options.use_cache
                 else options.cache_dir if options.cache_dir is not None else default_cache_dir())
    index = build_index(tree, request, jobs=options.jobs, cache_dir=cache_dir,
                        progress=options.progress, stats=stats)
    return Engine(TreeView(tree, rules, index, CallGraph(index)), pack, options)


def run_stage(tree: Path, stage: int, options: PlanOptions) -> StagePlan:
    return open_engine(tree, options).plan(stage)


def plan_stage(tree: Path, stage: int, options: PlanOptions | None = None) -> StagePlan:
    """Sites and edits of `stage` for the files of `tree` as they are on disk."""
    return run_stage(tree, stage, options or PlanOptions())


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
            pack = load_pack(options.pack, options.packs_dirs)
            rules_dir = options.rules_dir or pack.rules_dir
            rules_text = b"".join(p.read_bytes() for p in sorted(rules_dir.glob("*/*.toml")))
            rules_text += (pack.path / "pack.toml").read_bytes()
            key = (FACTS_VERSION, SITE_FORMAT, fingerprint, hashlib.sha256(rules_text).hexdigest(),
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
