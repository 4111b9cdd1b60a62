"""Rules are data: one folder per rule, `<rules dir>/<id>/rule.toml`, loaded and
checked here, with `explain.md` (the commit-log paragraph) and `cases/` beside it.

A rule selects calls (`[select] calls`), keeps those whose function satisfies the
context (`[context] reachable_from` / `not_reachable_from`: callbacks named as
`struct_type.member`), and either applies a data fix (`[fix] rename`) or hands
the candidates to a Python finder of its pack (`analysis = "module:function"`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.model import Outcome
from migrator.model.errors import MigratorError, read_toml
from migrator.rules.fix import FixSpec, parse_fix

RULE_FILE = "rule.toml"
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
    local: bool  # callers of the calls are searched in the same file only
    reachable_from: tuple[str, ...]
    not_reachable_from: tuple[str, ...]
    outcome: Outcome  # of a data rule's sites: REWRITE (its [fix]), REVIEW or REPORT
    reason: str
    rename: str | None
    fix: FixSpec  # the whole [fix] table (rename included): migrator.rules.fix
    analysis: str | None  # "module:function" of the rule's pack
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
        local=scope == "local",
        reachable_from=_field(data, "context.reachable_from", tuple, path, ()),
        not_reachable_from=_field(data, "context.not_reachable_from", tuple, path, ()),
        outcome=Outcome(outcome),
        reason=_field(data, "fix.reason", str, path, ""),
        rename=_field(data, "fix.rename", str, path, None),
        fix=fix,
        analysis=_field(data, "analysis", str, path, None),
        options=_field(data, "options", dict, path, {}),
        path=path,
        pack=pack,
        explain=_explain(path.parent / "explain.md"),
    )
    if rule.id != path.parent.name:
        raise MigratorError(f"{path}: field 'id' ({rule.id!r}) must match the folder name")
    if set(rule.done_calls) & set(rule.calls):
        raise MigratorError(f"{path}: done_when.callee names a call the rule selects")
    if rule.analysis is None and not rule.calls:
        raise MigratorError(f"{path}: a rule needs 'select.calls' or an 'analysis'")
    return rule


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
    return rules
