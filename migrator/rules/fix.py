"""Fixes as data: the `[fix]` table of a rule.toml, in the spirit of Coccinelle's `-`/`+`
lines and ast-grep's `fix`. The vocabulary, applied to each selected call:

    rename = "new_name"                       the callee's name
    bracket = { before = [...], after = [...], region = "statement" }
                                              lines around a region; the `after` lines
                                              also go before every exit leaving it
                                              (return, goto out, break/continue out of
                                              a loop); braces added for an un-braced
                                              branch. `region`:
                                                "statement" (default): the call's
                                                statement of its own;
                                                "enclosing_loop": the innermost loop
                                                around the call (for/while/do, or an
                                                iterator macro and its body), else the
                                                statement holding the call, whatever
                                                its kind. A region holding several
                                                selected calls is bracketed once: the
                                                first call's site carries the edits.
    guard = { condition = "...", prologue = [...], epilogue = [...], on_failure = "..." }
                                              the statement runs only when `condition`
                                              holds; its result variable gets
                                              `on_failure` otherwise
    insert_before = [...] / insert_after = [...]
                                              lines before / after the statement
    declare = "struct foo *a, *b;"            locals, reverse-xmas-tree placed; nothing
                                              when every name is declared with that
                                              type already; review when one is declared
                                              with another type, or only some are
    done_when = { preceded_by = "...", guarded_by = "..." }
                                              converted already (no edit) when
                                              either holds: the statement
                                              right before the region holds the
                                              `preceded_by` text; the statement is in
                                              the braced branch of an `if` whose
                                              condition holds the `guarded_by` text
    done_when = { callee = "new_name" }       (or a list) a call of the new name in the
                                              rule's context is the converted form: the
                                              engine selects it too, as already done

Two keys change a function's signature rather than the call's statement. A finder
applies them where it decides (`RuleContext.add_param(fn)`, `.add_param_prototype(...)`,
`.add_arg(call, kind)`); a rule using them needs a finder:

    add_param = { param = "struct foo *foo", arg = "foo" }
                                              `param`, a declaration ending with its
                                              name, is appended to the parameter list of
                                              the function the finder names
                                              (ctx.add_param(fn)) and of each prototype
                                              it names (ctx.add_param_prototype(file,
                                              at, name): the finder finds them); review
                                              when the list has a parameter of that
                                              name already; `arg` is
                                              appended to the arguments of the calls the
                                              finder names. `arg` may be a table, one
                                              text per kind of call the finder tells
                                              apart (`arg = { passed_on = "foo", held =
                                              "{dev}->foo" }`: `add_arg(call, "held")`;
                                              a kind it lacks is an error naming the
                                              rule.toml)
    kdoc_param = "@foo: what foo is"          the kernel-doc line added after the last
                                              `@name:` line of the function's kernel-doc
                                              comment, when it has one that does not
                                              document `@foo` yet; needs add_param
A list that would pass 80 columns is wrapped under its opening parenthesis (or at the
indentation its continuation lines use).

`done_when` is the one definition of "converted": the re-run's idempotence and
`migrate status` (done = the rule's ALREADY_DONE sites) both read it.

Text may use metavariables bound from the match: {arg0}, {arg1}... (the call's
arguments as written), {callee}, {function} (the caller; for add_param's `param` and
kdoc_param, the function gaining the parameter), and any name a finder binds
(`RuleContext.fix(candidate, name=value)`: a finder decides where, the fix says what).
An argument a text uses must be a plain expression (it is evaluated again).
A statement-level fix needs the call to be a statement of its own (`f(x);` or
`v = f(x);`), except a bracket of the enclosing loop; anything else, or an edit the
edit layer refuses, is NeedsReview.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, MutableSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrator.edit import params
from migrator.edit.cedit import NeedsReview
from migrator.edit.fntree import FnTree, Node
from migrator.model import CallSite, Edit, FunctionDef
from migrator.model.errors import MigratorError
from migrator.parse.tree import declared_names, parse, walk

FIX_KEYS = frozenset({"outcome", "reason", "rename", "bracket", "guard", "insert_before",
                      "insert_after", "declare", "done_when", "add_param", "kdoc_param"})
ADD_PARAM_KEYS = frozenset({"param", "arg"})
BRACKET_KEYS = frozenset({"before", "after", "region"})
REGIONS = ("statement", "enclosing_loop")
GUARD_KEYS = frozenset({"condition", "prologue", "epilogue", "on_failure"})
DONE_KEYS = frozenset({"preceded_by", "guarded_by", "callee"})
# a name, or one built of metavariables: "__{callee}", "{callee}_locked"
RENAME = re.compile(r"(?:[A-Za-z_]|\{\w+\})(?:\w|\{\w+\})*")
PLAIN_ARG = re.compile(r"[\w.\->\[\]&* ]+")
# a declaration ends with the name it declares, or with a metavariable giving it
PARAM_DECL = re.compile(r".*(?:\w|\{\w+\})\s*", re.S)
# `@name: text`, the name possibly a metavariable
KDOC_LINE = re.compile(r"@(?:\w+|\{\w+\})\s*:\s*\S.*", re.S)


@dataclass(frozen=True, slots=True)
class Guard:
    condition: str
    prologue: tuple[str, ...] = ()
    epilogue: tuple[str, ...] = ()
    on_failure: str = ""


@dataclass(frozen=True, slots=True)
class Bracket:
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    region: str = "statement"  # one of REGIONS


@dataclass(frozen=True, slots=True)
class AddParam:
    """`add_param`: the declaration a function gains, the argument its calls gain (one
    per kind of call when `arg` is a table: `args` holds (kind, text), kind "" for the
    one text of a plain string)."""

    param: str
    args: tuple[tuple[str, str], ...]

    def arg(self, kind: str = "") -> str | None:
        """The argument text for calls of `kind` (None: the rule has none for it)."""
        return dict(self.args).get(kind)


@dataclass(frozen=True, slots=True)
class FixSpec:
    """A rule's `[fix]`; `statement_level` when it edits around the call's statement."""

    rename: str | None = None
    bracket: Bracket | None = None
    guard: Guard | None = None
    insert_before: tuple[str, ...] = ()
    insert_after: tuple[str, ...] = ()
    declare: str | None = None
    done_when: str | None = None  # preceded_by text
    done_callees: tuple[str, ...] = ()  # done_when callee: the converted call's names
    done_guarded_by: str | None = None  # done_when.guarded_by text
    add_param: AddParam | None = None
    kdoc_param: str | None = None  # the `@name: text` kernel-doc line add_param adds

    @property
    def statement_level(self) -> bool:
        return bool(self.bracket or self.guard or self.insert_before or self.insert_after
                     or self.declare)

    def texts(self) -> list[str]:
        out = [*(self.bracket.before if self.bracket else ()),
               *(self.bracket.after if self.bracket else ()),
               *self.insert_before, *self.insert_after, self.declare or "",
               self.done_when or "", self.done_guarded_by or "", self.rename or "",
               self.kdoc_param or ""]
        if self.add_param is not None:
            out += [self.add_param.param, *(text for _, text in self.add_param.args)]
        if self.guard is not None:
            out += [self.guard.condition, *self.guard.prologue, *self.guard.epilogue,
                    self.guard.on_failure]
        return out

    def names(self) -> set[str]:
        """The metavariables the texts use."""
        return {name for text in self.texts() for name in metavariables(text)}


def metavariables(text: str) -> set[str]:
    """The {names} of a fix text or reason (ValueError: a malformed one)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _lines(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MigratorError(f"{where} must be a string or a list of strings")
    return tuple(value)


def _table(table: Mapping[str, Any], name: str, keys: frozenset[str], path: Path,
           shape: str) -> dict[str, Any]:
    value = table[name]
    if not isinstance(value, dict):
        raise MigratorError(f"{path}: [fix] {name} must be a table ({shape})")
    unknown = set(value) - keys
    if unknown:
        raise MigratorError(f"{path}: [fix] {name} has unknown key(s) "
                            f"{', '.join(sorted(unknown))} (known: {', '.join(sorted(keys))})")
    return value


def _text(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise MigratorError(f"{where} must be a string")
    return value


def _add_param(table: Mapping[str, Any], path: Path) -> AddParam | None:
    """`add_param = { param = "...", arg = "..." | { kind = "...", ... } }`."""
    if "add_param" not in table:
        return None
    value = _table(table, "add_param", ADD_PARAM_KEYS, path, "param, arg")
    param = value.get("param")
    if not isinstance(param, str) or not PARAM_DECL.fullmatch(param):
        raise MigratorError(f"{path}: [fix] add_param needs a 'param' string, a "
                            "declaration ending with its name (\"struct foo *foo\")")
    arg = value.get("arg")
    if isinstance(arg, str) and arg.strip():
        return AddParam(param, (("", arg),))
    if isinstance(arg, dict) and arg and all(
            isinstance(kind, str) and kind.isidentifier() and isinstance(text, str)
            and text.strip() for kind, text in arg.items()):
        return AddParam(param, tuple(arg.items()))
    raise MigratorError(f"{path}: [fix] add_param needs an 'arg' string, or a table of "
                        "them by kind of call ({ kind = \"...\" })")


def parse_fix(table: Mapping[str, Any], path: Path) -> FixSpec:
    """The `[fix]` table -> FixSpec. Raises MigratorError naming the file and the key."""
    unknown = set(table) - FIX_KEYS
    if unknown:
        raise MigratorError(f"{path}: [fix] has unknown key(s) {', '.join(sorted(unknown))} "
                            f"(known: {', '.join(sorted(FIX_KEYS))})")
    bracket = None
    if "bracket" in table:
        b = _table(table, "bracket", BRACKET_KEYS, path, "before, after, region")
        region = b.get("region", "statement")
        if region not in REGIONS:
            raise MigratorError(f"{path}: [fix] bracket.region must be one of "
                                f"{', '.join(REGIONS)}, not {region!r}")
        bracket = Bracket(_lines(b.get("before", []), f"{path}: fix.bracket.before"),
                          _lines(b.get("after", []), f"{path}: fix.bracket.after"), region)
    guard = None
    if "guard" in table:
        g = _table(table, "guard", GUARD_KEYS, path,
                   "condition, prologue, epilogue, on_failure")
        if not isinstance(g.get("condition"), str):
            raise MigratorError(f"{path}: [fix] guard needs a 'condition' string")
        guard = Guard(g["condition"], _lines(g.get("prologue", []), f"{path}: fix.guard"),
                      _lines(g.get("epilogue", []), f"{path}: fix.guard"),
                      _text(g.get("on_failure", ""), f"{path}: fix.guard.on_failure") or "")
    done: dict[str, Any] = {}
    if "done_when" in table:
        if not isinstance(table["done_when"], dict) or set(table["done_when"]) - DONE_KEYS:
            raise MigratorError(f"{path}: [fix] done_when must be {{ preceded_by = \"...\", "
                                "guarded_by = \"...\", callee = \"name\" }")
        done = table["done_when"]
    callees = _lines(done.get("callee", []), f"{path}: fix.done_when.callee")
    add_param = _add_param(table, path)
    kdoc = _text(table.get("kdoc_param"), f"{path}: [fix] kdoc_param")
    if kdoc is not None and not KDOC_LINE.fullmatch(kdoc):
        raise MigratorError(f"{path}: [fix] kdoc_param must be a kernel-doc parameter line "
                            f"\"@name: text\", not {kdoc!r}")
    if kdoc is not None and add_param is None:
        raise MigratorError(f"{path}: [fix] kdoc_param documents the parameter add_param "
                            "adds: it needs add_param")
    if ("callee" in done and not callees) or not all(name.isidentifier() for name in callees):
        raise MigratorError(f"{path}: [fix] done_when.callee must name functions")
    rename = _text(table.get("rename"), f"{path}: fix.rename")
    if rename is not None and not RENAME.fullmatch(rename):
        raise MigratorError(f"{path}: [fix] rename must be a function name (metavariables "
                            f"such as {{callee}} allowed), not {rename!r}")
    return FixSpec(
        rename=rename,
        bracket=bracket,
        guard=guard,
        insert_before=_lines(table.get("insert_before", []), f"{path}: fix.insert_before"),
        insert_after=_lines(table.get("insert_after", []), f"{path}: fix.insert_after"),
        declare=_text(table.get("declare"), f"{path}: [fix] declare"),
        done_when=_text(done.get("preceded_by"), f"{path}: fix.done_when.preceded_by"),
        done_guarded_by=_text(done.get("guarded_by"), f"{path}: fix.done_when.guarded_by"),
        done_callees=callees,
        add_param=add_param,
        kdoc_param=kdoc,
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


def _own_statement(ft: FnTree, stmt: Node, call: Node) -> bool:
    """`stmt` is `call;` or `v = call;`."""
    expr = stmt.named_children[0] if stmt.named_children else None
    if expr is not None and expr.type == "assignment_expression":
        expr = expr.child_by_field_name("right")
    return stmt.type == "expression_statement" and expr is not None and \
        ft.start(expr) == ft.start(call) and ft.end(expr) == ft.end(call)


def _not_own(ft: FnTree, call: Node) -> NeedsReview:
    return NeedsReview(f"{ft.text(call).split('(', 1)[0]}() is not a statement of its own "
                       "(its value is used inside an expression): where the fix goes is "
                       "a choice")


def _region(ft: FnTree, spec: FixSpec, call: Node, stmt: Node) -> list[Node]:
    """The statements the fix brackets (the call's statement but for a loop region)."""
    if spec.bracket is not None and spec.bracket.region == "enclosing_loop":
        return ft.enclosing_loop(call) or [stmt]
    return [stmt]


def _done(spec: FixSpec, ft: FnTree, region: list[Node], stmt: Node,
          values: Mapping[str, str], path: Path) -> bool:
    if spec.done_when is not None and \
            ft.preceded_by(region[0], _fill(spec.done_when, values, path)):
        return True
    if spec.done_guarded_by is not None:
        check = ft.guarding_if(stmt)
        cond = check.child_by_field_name("condition") if check is not None else None
        return cond is not None and _fill(spec.done_guarded_by, values, path) in ft.text(cond)
    return False


def _types(src: bytes, root: Node) -> dict[str, str]:
    """Name -> type ("struct foo *") of every parameter and local under `root`."""
    out: dict[str, str] = {}
    for node in walk(root):
        if node.type in ("declaration", "parameter_declaration"):
            for param in declared_names(src, node):
                out.setdefault(param.name, " ".join(param.type.split()))
    return out


def _declare(ft: FnTree, decl: str) -> list[Edit]:
    """`decl` added to the function's locals, unless every name it declares is there with
    that type; NeedsReview when a name is taken by another type or only some are."""
    text = decl.encode()
    wanted = _types(text, parse(text).root_node)
    if not wanted:
        raise NeedsReview(f"the fix declares {decl!r}, which names no variable")
    # the function's parameters and locals as the index read them
    have: dict[str, str] = {}
    for param in (*ft.fn.params, *ft.fn.locals):
        have.setdefault(param.name, " ".join(param.type.split()))
    present = [name for name in wanted if name in have]
    for name in present:
        if have[name] != wanted[name]:
            raise NeedsReview(f"a local named {name} already exists with another type "
                              f"({have[name]})")
    if len(present) == len(wanted):
        return []
    if present:
        raise NeedsReview(f"{', '.join(present)} already declared in the function, "
                          f"{', '.join(n for n in wanted if n not in present)} not")
    return ft.add_local(decl)


def apply_fix(spec: FixSpec, path: Path, src: bytes, function: FunctionDef, call: CallSite,
              rule: str, values: Mapping[str, str], *, ft: FnTree | None = None,
              fixed: MutableSet[tuple[str, int]] | None = None) -> list[Edit] | None:
    """The edits `spec` makes for `call` (None: converted already, by done_when).
    Raises NeedsReview with the reason when it cannot be made safely. `ft`: the
    function already parsed; `fixed`: the regions edited so far in this run (a region
    holding several calls is edited for the first only: [] for the others)."""
    edits: list[Edit] = []
    if spec.rename is not None:
        end = call.start + len(call.callee)
        if src[call.start:end] != call.callee.encode():
            raise NeedsReview("source changed since indexing; not rewritten")
        name = _fill(spec.rename, values, path)
        if not name.isidentifier():  # a metavariable bound to more than a name
            raise NeedsReview(f"the new name {name!r} is not a C identifier")
        edits.append(Edit(call.file, call.start, end, name, rule))
    if not spec.statement_level:
        return edits
    for i, arg in enumerate(call.args):
        if f"arg{i}" in spec.names() and not PLAIN_ARG.fullmatch(arg):
            raise NeedsReview(f"argument {arg!r} is not a plain expression: the fix would "
                              "evaluate it again")
    ft = ft if ft is not None else FnTree(src, function, rule)
    node = ft.call_at(call.start, call.end)
    stmt = ft.statement_of(node)
    own = _own_statement(ft, stmt, node)
    loop = spec.bracket is not None and spec.bracket.region == "enclosing_loop"
    anywhere = loop and not (spec.insert_before or spec.insert_after)
    if not own and spec.guard is None and not anywhere:
        raise _not_own(ft, node)
    region = _region(ft, spec, node, stmt)
    if _done(spec, ft, region, stmt, values, path):
        return None
    where = (call.file, ft.start(region[0]))
    if fixed is not None and where in fixed:
        return []
    if spec.declare is not None:
        edits += _declare(ft, _fill(spec.declare, values, path))
    if spec.insert_before:
        edits += ft.insert_before(stmt, [_fill(x, values, path) for x in spec.insert_before])
    if spec.bracket is not None:
        edits += ft.bracket(region, [_fill(x, values, path) for x in spec.bracket.before],
                            [_fill(x, values, path) for x in spec.bracket.after])
    if spec.guard is not None:
        g = spec.guard
        edits += ft.guard(stmt, _fill(g.condition, values, path),
                          [_fill(x, values, path) for x in g.prologue],
                          [_fill(x, values, path) for x in g.epilogue],
                          _fill(g.on_failure, values, path))
        if not own:  # the guard's own refusals (return, condition...) name the shape first
            raise NeedsReview("call nested in another expression")
    if spec.insert_after:
        edits += ft.wrap(stmt, [], [_fill(x, values, path) for x in spec.insert_after])
    if fixed is not None:
        fixed.add(where)
    return edits


def _add_param_of(spec: FixSpec, path: Path) -> AddParam:
    if spec.add_param is None:
        raise MigratorError(f"{path}: the finder adds a parameter, but [fix] has no "
                            "add_param = { param = \"...\", arg = \"...\" }")
    return spec.add_param


def apply_add_param(spec: FixSpec, path: Path, src: bytes, function: FunctionDef, rule: str,
                    values: Mapping[str, str]) -> params.ParamEdits:
    """add_param's `param` appended to `function`'s definition, with kdoc_param's line
    when it has kernel-doc ({function}: its name)."""
    values = {"function": function.name, **values}
    kdoc = _fill(spec.kdoc_param, values, path) if spec.kdoc_param else None
    return params.add_param(function.file, src, function,
                            _fill(_add_param_of(spec, path).param, values, path), rule, kdoc)


def apply_add_param_prototype(spec: FixSpec, path: Path, file: str, src: bytes, at: int,
                              name: str, rule: str, values: Mapping[str, str]
                              ) -> Edit | None:
    """add_param's `param` appended to the prototype of `name` at offset `at` of `file`
    (None: the text there is not a prototype)."""
    decl = _fill(_add_param_of(spec, path).param, {"function": name, **values}, path)
    return params.prototype_param(file, src, at, name, decl, rule)


def apply_add_arg(spec: FixSpec, path: Path, src: bytes, call: CallSite, kind: str, rule: str,
                  values: Mapping[str, str]) -> Edit:
    """add_param's `arg` (of `kind`, when it is a table) appended to `call`'s arguments."""
    add = _add_param_of(spec, path)
    text = add.arg(kind)
    if text is None:
        kinds = ", ".join(k for k, _ in add.args if k) or "none: arg is a string"
        raise MigratorError(f"{path}: [fix] add_param.arg has no text for calls of kind "
                            f"{kind!r}, which the finder names (kinds: {kinds})")
    values = {**{f"arg{i}": arg for i, arg in enumerate(call.args)},
              "callee": call.callee, "function": call.caller, **values}
    return params.add_arg(call.file, src, call, _fill(text, values, path), rule)
