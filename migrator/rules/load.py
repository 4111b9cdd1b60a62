"""Rules are data: one TOML file per rule under rules/, loaded and checked here.

A rule selects calls (`[select] calls`), keeps those whose function satisfies the
context (`[context] reachable_from` / `not_reachable_from`: callbacks named as
`struct_type.member`), and either applies a data fix (`[fix] rename`) or hands
the candidates to a Python analysis it names (`analysis = "module:function"`).
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator import RULES_DIR
from migrator.model.errors import MigratorError

TEMPLATES = ("T0", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "link_deps", "report",
             "core")
CONFIDENCES = ("high", "medium", "low")


@dataclass(frozen=True, slots=True)
class Example:
    code: str
    sites: int  # sites the rule must find in `code` (0 for an invalid example)
    after: str | None = None  # expected text after the rewrite, when given


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
    outcome: str  # "rewrite" | "review"
    reason: str
    rename: str | None
    analysis: str | None
    options: dict[str, Any] = field(default_factory=dict)
    examples: tuple[Example, ...] = ()
    path: Path = Path()

    def analysis_function(self) -> Callable[..., Any] | None:
        if self.analysis is None:
            return None
        module_name, _, func_name = self.analysis.partition(":")
        try:
            return getattr(importlib.import_module(module_name), func_name)  # type: ignore[no-any-return]
        except (ImportError, AttributeError) as exc:
            raise MigratorError(f"{self.path}: analysis {self.analysis!r} not found: {exc}") \
                from exc


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


def load_rule(path: Path) -> Rule:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise MigratorError(f"{path}: cannot read rule file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MigratorError(f"{path}: malformed rule file: {exc}") from exc
    template = _field(data, "template", str, path)
    if template not in TEMPLATES:
        raise MigratorError(f"{path}: field 'template' must be one of {', '.join(TEMPLATES)}")
    confidence = _field(data, "confidence", str, path)
    if confidence not in CONFIDENCES:
        raise MigratorError(f"{path}: field 'confidence' must be one of {', '.join(CONFIDENCES)}")
    stage = _field(data, "stage", int, path)
    if not 1 <= stage <= 6:
        raise MigratorError(f"{path}: field 'stage' must be 1..6")
    outcome = _field(data, "fix.outcome", str, path, "review")
    if outcome not in ("rewrite", "review"):
        raise MigratorError(f"{path}: field 'fix.outcome' must be 'rewrite' or 'review'")
    scope = _field(data, "select.scope", str, path, "global")
    if scope not in ("global", "local"):
        raise MigratorError(f"{path}: field 'select.scope' must be 'global' or 'local'")
    for member in (*_field(data, "context.reachable_from", tuple, path, ()),
                   *_field(data, "context.not_reachable_from", tuple, path, ())):
        if "." not in member:
            raise MigratorError(f"{path}: context callback {member!r} must be struct_type.member")
    examples = []
    for i, example in enumerate(data.get("examples", [])):
        if not isinstance(example, dict) or not isinstance(example.get("code"), str):
            raise MigratorError(f"{path}: examples[{i}] needs a 'code' string")
        examples.append(Example(example["code"], int(example.get("sites", 0)),
                                example.get("after")))
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
        outcome=outcome,
        reason=_field(data, "fix.reason", str, path, ""),
        rename=_field(data, "fix.rename", str, path, None),
        analysis=_field(data, "analysis", str, path, None),
        options=_field(data, "options", dict, path, {}),
        examples=tuple(examples),
        path=path,
    )
    if rule.id != path.stem:
        raise MigratorError(f"{path}: field 'id' ({rule.id!r}) must match the file name")
    if rule.analysis is None and not rule.calls:
        raise MigratorError(f"{path}: a rule needs 'select.calls' or an 'analysis'")
    return rule


def load_rules(rules_dir: Path | None = None) -> list[Rule]:
    """The rules: `*.toml` directly in the rules folder. Subfolders hold data the rules
    and the verifier read (rules/data/: the API's names, lock pairs), never rules."""
    directory = rules_dir or RULES_DIR
    if not directory.is_dir():
        raise MigratorError(f"{directory}: rules directory not found")
    rules = [load_rule(path) for path in sorted(directory.glob("*.toml"))]
    seen: dict[str, Path] = {}
    for rule in rules:
        if rule.id in seen:
            raise MigratorError(f"{rule.path}: rule id {rule.id!r} also used by {seen[rule.id]}")
        seen[rule.id] = rule.path
    return rules
