"""Rules are data: one folder per rule, `<rules dir>/<id>/rule.toml`, loaded and
checked here, with `explain.md` (the commit-log paragraph) and `cases/` beside it.

A rule selects calls (`[select] calls`), keeps those whose function satisfies the
context (`[context] reachable_from` / `not_reachable_from`: callbacks named as
`struct_type.member`), and either applies a data fix (`[fix] rename`) or hands
the candidates to its Python finder, `find(ctx)` of `finder.py` in its folder
(load_finder).

More of the selection is data:

    [select]
    in_dirs = ["net/wireless"]      calls in files under one of these directories;
    not_in_dirs = ["drivers/staging"]  ... under none of these. An entry "{name}" is the
                                    list option `name` (`in_dirs = "{families}"`: the
                                    rule's options as the command line leaves them);
                                    in_dirs binds {in_dir} for the fix and the reason
    after = ["stage3-core-api"]     precedence: this rule runs after the rules named
                                    (of its stage) and does not see the calls they
                                    claimed

A rule claims a selected call when it emits a site for it (a call that needs nothing
is an already-done site: `ctx.already_done(candidate, why)`). `after` is transitive.
It must name rules of the same stage; an unknown id, a cycle, or two rules of one
precedence chain that select the same calls with neither after the other (which one
claims first would be a guess) is an error naming the rule.toml. Rules outside any
chain see every call they select, as before.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.model import Outcome
from migrator.model.errors import MigratorError, read_toml
from migrator.rules.fix import FixSpec, metavariables, parse_fix

RULE_FILE = "rule.toml"
FINDER_FILE = "finder.py"
FINDER_FUNCTION = "find"
CONFIDENCES = ("high", "medium", "low")
# What a rule declares it does; ALREADY_DONE is what its done_when finds, never declared.
RULE_OUTCOMES = (Outcome.REWRITE.value, Outcome.REVIEW.value, Outcome.REPORT.value)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    stage: int
    template: str
    title: str
    description: str
    confidence: str
    calls: tuple[str, ...]
    in_dirs: tuple[str, ...]  # "{option}" entries expand to the list option
    not_in_dirs: tuple[str, ...]
    after: tuple[str, ...]  # precedence: ids of the rules of its stage it runs after
    local: bool  # callers of the calls are searched in the same file only
    reachable_from: tuple[str, ...]
    not_reachable_from: tuple[str, ...]
    outcome: Outcome  # of a data rule's sites: REWRITE (its [fix]), REVIEW or REPORT
    reason: str
    rename: str | None
    fix: FixSpec  # the whole [fix] table (rename included): migrator.rules.fix
    finder: Path | None  # the rule's finder.py, when it has one
    options: dict[str, Any] = field(default_factory=dict)
    path: Path = Path()  # the rule.toml
    pack: str = ""
    explain: str = ""  # explain.md: what the rule changes and why, in kernel words

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def done_calls(self) -> tuple[str, ...]:
        """Names whose call, in the rule's context, is the converted form (`done_when =
        { callee = ... }`): selected beside `calls`, each one an ALREADY_DONE site."""
        return self.fix.done_callees

    def cases(self) -> list[Path]:
        """The rule's cases: `cases/<name>-{rewrite,review,none}.c`, a rewrite case
        with its `<name>-rewrite.after.c`."""
        directory = self.folder / "cases"
        if not directory.is_dir():
            return []
        return sorted(p for p in directory.glob("*.c") if not p.name.endswith(".after.c"))


def _field(data: dict[str, Any], name: str, kind: type, path: Path, default: Any = ...) -> Any:
    table, _, key = name.rpartition(".")
    container = data.get(table, {}) if table else data
    if not isinstance(container, dict):
        raise MigratorError(f"{path}: [{table}] must be a table")
    if key not in container:
        if default is ...:
            raise MigratorError(f"{path}: missing field '{name}'")
        return default
    value = container[key]
    if kind is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise MigratorError(f"{path}: field '{name}' must be a list of strings")
        return tuple(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MigratorError(f"{path}: field '{name}' must be of type {kind.__name__}")
    return value


def load_rule(path: Path, *, pack: str = "", stages: tuple[int, ...] = (),
              templates: tuple[str, ...] = ()) -> Rule:
    """One rule.toml, checked against its pack's `stages` and `templates` (when given)."""
    data = read_toml(path, "rule file")
    _known_keys(data, path)
    template = _field(data, "template", str, path)
    if templates and template not in templates:
        raise MigratorError(f"{path}: field 'template' must be one of {', '.join(templates)}")
    confidence = _field(data, "confidence", str, path)
    if confidence not in CONFIDENCES:
        raise MigratorError(f"{path}: field 'confidence' must be one of {', '.join(CONFIDENCES)}")
    stage = _field(data, "stage", int, path)
    if stages and stage not in stages:
        raise MigratorError(f"{path}: field 'stage' must be one of the pack's stages "
                            f"({', '.join(map(str, stages))})")
    outcome = _field(data, "fix.outcome", str, path, "review")
    if outcome not in RULE_OUTCOMES:
        raise MigratorError(f"{path}: field 'fix.outcome' must be one of "
                            f"{', '.join(RULE_OUTCOMES)}")
    scope = _field(data, "select.scope", str, path, "global")
    if scope not in ("global", "local"):
        raise MigratorError(f"{path}: field 'select.scope' must be 'global' or 'local'")
    dirs = {name: _dirs(data, name, path) for name in ("in_dirs", "not_in_dirs")}
    for member in (*_field(data, "context.reachable_from", tuple, path, ()),
                   *_field(data, "context.not_reachable_from", tuple, path, ())):
        if "." not in member:
            raise MigratorError(f"{path}: context callback {member!r} must be struct_type.member")
    fix_table = data.get("fix", {})
    if not isinstance(fix_table, dict):
        raise MigratorError(f"{path}: [fix] must be a table")
    fix = parse_fix(fix_table, path)
    rule = Rule(
        id=_field(data, "id", str, path),
        stage=stage,
        template=template,
        title=_field(data, "title", str, path),
        description=_field(data, "description", str, path),
        confidence=confidence,
        calls=_field(data, "select.calls", tuple, path, ()),
        in_dirs=dirs["in_dirs"],
        not_in_dirs=dirs["not_in_dirs"],
        after=_field(data, "select.after", tuple, path, ()),
        local=scope == "local",
        reachable_from=_field(data, "context.reachable_from", tuple, path, ()),
        not_reachable_from=_field(data, "context.not_reachable_from", tuple, path, ()),
        outcome=Outcome(outcome),
        reason=_field(data, "fix.reason", str, path, ""),
        rename=_field(data, "fix.rename", str, path, None),
        fix=fix,
        finder=path.parent / FINDER_FILE if (path.parent / FINDER_FILE).is_file() else None,
        options=_field(data, "options", dict, path, {}),
        path=path,
        pack=pack,
        explain=_explain(path.parent / "explain.md"),
    )
    if rule.id != path.parent.name:
        raise MigratorError(f"{path}: field 'id' ({rule.id!r}) must match the folder name")
    if set(rule.done_calls) & set(rule.calls):
        raise MigratorError(f"{path}: done_when.callee names a call the rule selects")
    if "analysis" in data:  # the older form: a finder named in a module of the pack
        raise MigratorError(f"{path}: 'analysis' is no longer read: the rule's finder is "
                            f"find(ctx) in {path.parent / FINDER_FILE}")
    if rule.finder is None and not rule.calls:
        raise MigratorError(f"{path}: a rule needs 'select.calls' or a {FINDER_FILE}")
    if rule.finder is None:  # a data rule: its texts may use only what a call binds
        bound = {"callee", "function", *(("in_dir",) if rule.in_dirs else ())}
        unbound = sorted(name for name in rule.fix.names() | _reason_names(rule)
                         if name not in bound and not re.fullmatch(r"arg\d+", name))
        if unbound:
            raise MigratorError(f"{path}: [fix] uses {{{unbound[0]}}}, which a rule without "
                                f"a {FINDER_FILE} never binds (a call binds {{arg0}}.., "
                                "{callee}, {function}, and {in_dir} with [select] in_dirs)")
    if rule.fix.add_param is not None and rule.finder is None:
        raise MigratorError(f"{path}: [fix] add_param needs a {FINDER_FILE}: the finder says "
                            "which function gains the parameter and which calls pass it")
    return rule


_FINDERS: dict[Path, Callable[..., Iterable[Any]]] = {}


def load_finder(rule: Rule) -> Callable[..., Iterable[Any]]:
    """The `find(ctx)` of the rule's finder.py (loaded once per process). Raises
    MigratorError naming the file when it cannot be loaded or has no `find`."""
    assert rule.finder is not None
    if rule.finder in _FINDERS:
        return _FINDERS[rule.finder]
    # a module of its own per rule folder (its name holds the pack and the rule id): the
    # folder is not a package (rule ids have dashes), so it is loaded from its path
    name = f"migrator_finder.{rule.pack or 'rules'}.{rule.id.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(name, rule.finder)
    if spec is None or spec.loader is None:
        raise MigratorError(f"{rule.finder}: cannot load the rule's finder")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it: dataclasses and pickle look it up
    try:
        spec.loader.exec_module(module)
    except MigratorError:
        raise
    except Exception as exc:
        sys.modules.pop(name, None)
        raise MigratorError(f"{rule.finder}: cannot load the rule's finder: "
                            f"{type(exc).__name__}: {exc}") from exc
    function = getattr(module, FINDER_FUNCTION, None)
    if not callable(function):
        raise MigratorError(f"{rule.finder}: a finder defines {FINDER_FUNCTION}(ctx)")
    _FINDERS[rule.finder] = function
    return function  # type: ignore[no-any-return]


RULE_KEYS = frozenset({"id", "stage", "template", "title", "description", "confidence",
                       "select", "context", "fix", "options", "analysis"})
SELECT_KEYS = frozenset({"calls", "scope", "in_dirs", "not_in_dirs", "after"})
CONTEXT_KEYS = frozenset({"reachable_from", "not_reachable_from"})


def _reason_names(rule: Rule) -> set[str]:
    """The metavariables of the rule's [fix] reason (a malformed one is fill_reason's
    error, where the reason is filled)."""
    try:
        return metavariables(rule.reason)
    except ValueError:
        return set()


def _known_keys(data: dict[str, Any], path: Path) -> None:
    """A misspelt key (`not_in_dir`) would silently widen or change the rule: an error
    naming the file and the key. [fix] checks its own (migrator.rules.fix)."""
    for table, known, where in ((data, RULE_KEYS, ""),
                                (data.get("select"), SELECT_KEYS, "[select] "),
                                (data.get("context"), CONTEXT_KEYS, "[context] ")):
        if not isinstance(table, dict):
            continue
        unknown = sorted(set(table) - known)
        if unknown:
            raise MigratorError(f"{path}: {where}unknown key {unknown[0]!r} (known: "
                                f"{', '.join(sorted(known - {'analysis'}))})")


def _dirs(data: dict[str, Any], name: str, path: Path) -> tuple[str, ...]:
    """`[select] in_dirs` / `not_in_dirs`: a list of directories, or "{option}"."""
    select = data.get("select", {})
    value = select.get(name, []) if isinstance(select, dict) else []
    entries = (value,) if isinstance(value, str) else value
    if not isinstance(entries, (list, tuple)) or not all(isinstance(v, str) and v.strip("/")
                                                         for v in entries):
        raise MigratorError(f"{path}: field 'select.{name}' must be a directory, a list of "
                            "directories or \"{option}\"")
    for entry in entries:
        if entry.startswith("{") != entry.endswith("}") or (
                entry.startswith("{") and not entry[1:-1].isidentifier()):
            raise MigratorError(f"{path}: field 'select.{name}': {entry!r} is neither a "
                                "directory nor \"{option}\"")
    return tuple(entries)


def _explain(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise MigratorError(f"{path}: cannot read: {exc}") from exc


def load_rules(rules_dir: Path, *, pack: str = "", stages: tuple[int, ...] = (),
               templates: tuple[str, ...] = ()) -> list[Rule]:
    """The rules of `rules_dir`: every `<id>/rule.toml` in it."""
    if not rules_dir.is_dir():
        raise MigratorError(f"{rules_dir}: rules directory not found")
    stray = sorted(rules_dir.glob("*.toml"))
    if stray:
        raise MigratorError(f"{stray[0]}: a rule is a folder, <rules dir>/<id>/{RULE_FILE}")
    rules = [load_rule(path, pack=pack, stages=stages, templates=templates)
             for path in sorted(rules_dir.glob(f"*/{RULE_FILE}"))]
    seen: dict[str, Path] = {}
    for rule in rules:
        if rule.id in seen:
            raise MigratorError(f"{rule.path}: rule id {rule.id!r} also used by {seen[rule.id]}")
        seen[rule.id] = rule.path
    check_precedence(rules)
    return rules


def earlier_rules(rules: list[Rule]) -> dict[str, frozenset[str]]:
    """Rule id -> ids of the rules it runs after, transitively (`[select] after`)."""
    by_id = {rule.id: rule for rule in rules}
    out: dict[str, frozenset[str]] = {}

    def visit(rule: Rule, path: tuple[str, ...]) -> frozenset[str]:
        if rule.id in out:
            return out[rule.id]
        if rule.id in path:
            cycle = " -> ".join((*path[path.index(rule.id):], rule.id))
            raise MigratorError(f"{rule.path}: [select] after: precedence cycle {cycle}")
        found: set[str] = set()
        for other in rule.after:
            if other not in by_id:
                raise MigratorError(f"{rule.path}: [select] after names unknown rule "
                                    f"{other!r}")
            if by_id[other].stage != rule.stage:
                raise MigratorError(f"{rule.path}: [select] after names {other!r}, a rule of "
                                    f"stage {by_id[other].stage}, not of stage {rule.stage}")
            found |= {other, *visit(by_id[other], (*path, rule.id))}
        out[rule.id] = frozenset(found)
        return out[rule.id]

    for rule in rules:
        visit(rule, ())
    return out


def check_precedence(rules: list[Rule]) -> None:
    """`after` names known rules of the same stage without a cycle, and two rules of one
    precedence chain that select a call in common are ordered (see the docstring)."""
    earlier = earlier_rules(rules)
    chain: dict[str, str] = {rule.id: rule.id for rule in rules}  # union-find: the chains

    def find(rule_id: str) -> str:
        while chain[rule_id] != rule_id:
            rule_id = chain[rule_id]
        return rule_id

    for rule in rules:
        for other in rule.after:
            chain[find(other)] = find(rule.id)
    for i, first in enumerate(rules):
        for second in rules[i + 1:]:
            common = sorted(set(first.calls) & set(second.calls))
            if (first.stage != second.stage or not common
                    or find(first.id) != find(second.id)
                    or first.id in earlier[second.id] or second.id in earlier[first.id]):
                continue
            raise MigratorError(
                f"{second.path}: rules {first.id!r} and {second.id!r} both select "
                f"{', '.join(common)}() in one precedence chain of stage {second.stage} but "
                "neither comes after the other: add one to the other's [select] after")


def precedence_order(rules: list[Rule]) -> list[Rule]:
    """`rules` with every rule after the rules it names in `after` (else in their order)."""
    earlier = earlier_rules(rules)
    return sorted(rules, key=lambda rule: len(earlier.get(rule.id, ())))


def under(path: str, dirs: Sequence[str]) -> str | None:
    """The directory of `dirs` (as written, without a trailing /) holding `path`."""
    for directory in dirs:
        if path.startswith(directory.rstrip("/") + "/"):
            return directory.rstrip("/")
    return None
