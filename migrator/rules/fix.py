"""Fixes as data: the `[fix]` table of a rule.toml, in the spirit of Coccinelle's `-`/`+`
lines and ast-grep's `fix`. The vocabulary, applied to each selected call:

    rename = "new_name"                       the callee's name
    bracket = { before = [...], after = [...] }
                                              lines around the call's statement
                                              (braces added for an un-braced branch)
    guard = { condition = "...", prologue = [...], epilogue = [...], on_failure = "..." }
                                              the statement runs only when `condition`
                                              holds; its result variable gets
                                              `on_failure` otherwise
    insert_before = [...] / insert_after = [...]
                                              lines before / after the statement
    declare = "struct foo *foo;"              a local, reverse-xmas-tree placed
    done_when = { preceded_by = "..." }       the statement right before the call's
                                              holds this text: converted already
    done_when = { callee = "new_name" }       (or a list) a call of the new name in the
                                              rule's context is the converted form: the
                                              engine selects it too, as already done

`done_when` is the one definition of "converted": the re-run's idempotence and
`migrate status` (done = the rule's ALREADY_DONE sites) both read it.

Text may use metavariables bound from the match: {arg0}, {arg1}... (the call's
arguments as written), {callee}, {function} (the caller), and any name a finder binds.
A statement-level fix needs the call to be a statement of its own (`f(x);` or
`v = f(x);`); anything else, or an edit the edit layer refuses, is NeedsReview.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrator.edit.cedit import NeedsReview
from migrator.edit.fntree import FnTree, Node
from migrator.model import CallSite, Edit, FunctionDef
from migrator.model.errors import MigratorError

FIX_KEYS = frozenset({"outcome", "reason", "rename", "bracket", "guard", "insert_before",
                      "insert_after", "declare", "done_when"})
PLAIN_ARG = re.compile(r"[\w.\->\[\]&* ]+")


@dataclass(frozen=True, slots=True)
class Guard:
    condition: str
    prologue: tuple[str, ...] = ()
    epilogue: tuple[str, ...] = ()
    on_failure: str = ""


@dataclass(frozen=True, slots=True)
class FixSpec:
    """A rule's `[fix]`; `statement_level` when it edits around the call's statement."""

    rename: str | None = None
    bracket: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    guard: Guard | None = None
    insert_before: tuple[str, ...] = ()
    insert_after: tuple[str, ...] = ()
    declare: str | None = None
    done_when: str | None = None  # preceded_by text
    done_callees: tuple[str, ...] = ()  # done_when callee: the converted call's names

    @property
    def statement_level(self) -> bool:
        return bool(self.bracket or self.guard or self.insert_before or self.insert_after
                     or self.declare)

    def names(self) -> set[str]:
        """The metavariables the texts use."""
        texts = [*(self.bracket[0] if self.bracket else ()),
                 *(self.bracket[1] if self.bracket else ()),
                 *self.insert_before, *self.insert_after,
                 self.declare or "", self.done_when or "", self.rename or ""]
        if self.guard is not None:
            texts += [self.guard.condition, *self.guard.prologue, *self.guard.epilogue,
                      self.guard.on_failure]
        return {name for text in texts for _, name, _, _ in string.Formatter().parse(text)
                if name}


def _lines(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MigratorError(f"{where} must be a string or a list of strings")
    return tuple(value)


def parse_fix(table: Mapping[str, Any], path: Path) -> FixSpec:
    """The `[fix]` table -> FixSpec. Raises MigratorError naming the file and the key."""
    unknown = set(table) - FIX_KEYS
    if unknown:
        raise MigratorError(f"{path}: [fix] has unknown key(s) {', '.join(sorted(unknown))} "
                            f"(known: {', '.join(sorted(FIX_KEYS))})")
    bracket = None
    if "bracket" in table:
        b = table["bracket"]
        if not isinstance(b, dict):
            raise MigratorError(f"{path}: [fix] bracket must be a table (before, after)")
        bracket = (_lines(b.get("before", []), f"{path}: fix.bracket.before"),
                   _lines(b.get("after", []), f"{path}: fix.bracket.after"))
    guard = None
    if "guard" in table:
        g = table["guard"]
        if not isinstance(g, dict) or not isinstance(g.get("condition"), str):
            raise MigratorError(f"{path}: [fix] guard needs a 'condition' string")
        guard = Guard(g["condition"], _lines(g.get("prologue", []), f"{path}: fix.guard"),
                      _lines(g.get("epilogue", []), f"{path}: fix.guard"),
                      str(g.get("on_failure", "")))
    done = table.get("done_when", {})
    if not isinstance(done, dict) or set(done) - {"preceded_by", "callee"}:
        raise MigratorError(f"{path}: [fix] done_when must be {{ preceded_by = \"...\" }} "
                            "and/or { callee = \"name\" }")
    callees = _lines(done.get("callee", []), f"{path}: fix.done_when.callee")
    if not all(name.isidentifier() for name in callees):
        raise MigratorError(f"{path}: [fix] done_when.callee must name functions")
    declare = table.get("declare")
    if declare is not None and not isinstance(declare, str):
        raise MigratorError(f"{path}: [fix] declare must be a string")
    return FixSpec(
        rename=table.get("rename"),
        bracket=bracket,
        guard=guard,
        insert_before=_lines(table.get("insert_before", []), f"{path}: fix.insert_before"),
        insert_after=_lines(table.get("insert_after", []), f"{path}: fix.insert_after"),
        declare=declare,
        done_when=done.get("preceded_by"),
        done_callees=callees,
    )


def bindings(call: CallSite, function: FunctionDef, extra: Mapping[str, str] = ()
             ) -> dict[str, str]:
    """The metavariables of one selected call."""
    out = {f"arg{i}": arg for i, arg in enumerate(call.args)}
    out.update(callee=call.callee, function=function.name)
    out.update(dict(extra))
    return out


def _fill(text: str, values: Mapping[str, str], path: Path) -> str:
    try:
        return text.format_map(values)
    except KeyError as exc:
        raise NeedsReview(f"the fix of {path.parent.name} uses {{{exc.args[0]}}}, which this "
                          "call does not bind") from None


def _statement(ft: FnTree, call: Node) -> Node:
    stmt = ft.statement_of(call)
    expr = stmt.named_children[0] if stmt.named_children else None
    if expr is not None and expr.type == "assignment_expression":
        expr = expr.child_by_field_name("right")
    if stmt.type != "expression_statement" or expr is None or \
            ft.start(expr) != ft.start(call) or ft.end(expr) != ft.end(call):
        raise NeedsReview(f"{ft.text(call).split('(', 1)[0]}() is not a statement of its own "
                          "(its value is used inside an expression): where the fix goes is "
                          "a choice")
    return stmt


def apply_fix(spec: FixSpec, path: Path, src: bytes, function: FunctionDef, call: CallSite,
              rule: str, values: Mapping[str, str]) -> list[Edit] | None:
    """The edits `spec` makes for `call` (None: converted already, by done_when).
    Raises NeedsReview with the reason when it cannot be made safely."""
    edits: list[Edit] = []
    if spec.rename is not None:
        end = call.start + len(call.callee)
        if src[call.start:end] != call.callee.encode():
            raise NeedsReview("source changed since indexing; not rewritten")
        edits.append(Edit(call.file, call.start, end, _fill(spec.rename, values, path), rule))
    if not spec.statement_level:
        return edits
    for i, arg in enumerate(call.args):
        if f"arg{i}" in spec.names() and not PLAIN_ARG.fullmatch(arg):
            raise NeedsReview(f"argument {arg!r} is not a plain expression: the fix would "
                              "evaluate it again")
    ft = FnTree(src, function, rule)
    stmt = _statement(ft, ft.call_at(call.start, call.end))
    if spec.done_when is not None and ft.preceded_by(stmt, _fill(spec.done_when, values, path)):
        return None
    if spec.declare is not None:
        edits += ft.add_local(_fill(spec.declare, values, path))
    for line in spec.insert_before:
        edits += ft.insert_before(stmt, _fill(line, values, path))
    if spec.bracket is not None:
        edits += ft.wrap(stmt, [_fill(x, values, path) for x in spec.bracket[0]],
                         [_fill(x, values, path) for x in spec.bracket[1]])
    if spec.guard is not None:
        g = spec.guard
        edits += ft.guard(stmt, _fill(g.condition, values, path),
                          [_fill(x, values, path) for x in g.prologue],
                          [_fill(x, values, path) for x in g.epilogue],
                          _fill(g.on_failure, values, path))
    if spec.insert_after:
        edits += ft.wrap(stmt, [], [_fill(x, values, path) for x in spec.insert_after])
    return edits
