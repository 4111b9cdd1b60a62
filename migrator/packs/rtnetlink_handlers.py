"""rtnetlink message handlers as a tree registers them, for the packs' censuses.

A registration is an rtnl_register() / rtnl_register_module() call or a row of a
`struct rtnl_msg_handler` table (passed to rtnl_register_many()); its flags say how
the core runs the doit()/dumpit(). Which flag names mean what is read from the tree's
include/net/rtnetlink.h (`RTNL_FLAG_X = BIT(n)` in the enum, `#define RTNL_FLAG_Y
RTNL_FLAG_X` aliases), never assumed: a flag counts as another when its definition
names it, aliases of aliases included.

The index records these only when the pack asks for the names (`[index] names` in
pack.toml): rtnl_register, rtnl_register_module, __rtnl_register_many,
rtnl_register_many, rtnl_msg_handler.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from migrator.model import CallSite
from migrator.model.srctext import CODEC
from migrator.rules.context import TreeView

HEADER = "include/net/rtnetlink.h"
DOIT_UNLOCKED = "RTNL_FLAG_DOIT_UNLOCKED"
DUMP_UNLOCKED = "RTNL_FLAG_DUMP_UNLOCKED"
REGISTRATION_NAMES = ("rtnl_register", "rtnl_register_module", "__rtnl_register_many",
                      "rtnl_register_many", "rtnl_msg_handler")
_FLAG_DEF = re.compile(
    rb"^\s*(?:#\s*define\s+(RTNL_FLAG_\w+)\s+([^\n]+)|(RTNL_FLAG_\w+)\s*=\s*([^,}]+))",
    re.MULTILINE,
)
_TABLE_FIELDS = ("owner", "protocol", "msgtype", "doit", "dumpit", "flags")
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)


@dataclass(slots=True)
class Handler:
    """One registration of an rtnetlink message handler: an rtnl_register() or
    rtnl_register_module() call, or a row of a struct rtnl_msg_handler table."""

    where: str  # file:line
    doit: str  # "" when NULL
    dumpit: str
    flags: str

    def has_flag(self, names: Iterable[str]) -> bool:
        return bool(set(re.findall(r"\w+", self.flags)) & set(names))


@dataclass(slots=True)
class HandlerCensus:
    doit_flags: set[str] = field(default_factory=lambda: {DOIT_UNLOCKED})
    dump_flags: set[str] = field(default_factory=lambda: {DUMP_UNLOCKED})
    handlers: list[Handler] = field(default_factory=list)

    def _unlocked(self, handler: Handler, flags: set[str]) -> bool:
        return handler.has_flag(flags)

    @property
    def doit(self) -> int:
        return sum(1 for h in self.handlers if h.doit)

    @property
    def doit_unlocked(self) -> int:
        return sum(1 for h in self.handlers if h.doit and self._unlocked(h, self.doit_flags))

    @property
    def dumpit(self) -> int:
        return sum(1 for h in self.handlers if h.dumpit)

    @property
    def dumpit_unlocked(self) -> int:
        return sum(1 for h in self.handlers if h.dumpit and self._unlocked(h, self.dump_flags))

    @property
    def registrations(self) -> list[str]:
        return [h.where for h in self.handlers]

    def distinct(self, kind: str) -> tuple[int, int]:
        """(functions registered only with the unlocked flag, functions) of `kind`."""
        flags = self.doit_flags if kind == "doit" else self.dump_flags
        locked: dict[str, bool] = {}
        for handler in self.handlers:
            name = getattr(handler, kind)
            if name:
                unlocked = self._unlocked(handler, flags)
                locked[name] = locked.get(name, True) and unlocked
        return sum(locked.values()), len(locked)

    def summary(self) -> str:
        """Counted by registration, as upstream counts them."""
        return (f"{self.doit_unlocked} out of {self.doit} doit()s, {self.dumpit_unlocked} out of "
                f"{self.dumpit} dumpit()s run without RTNL (by registration)")

    def distinct_summary(self) -> str:
        """Counted by function: one registered several times counts once, as converted
        when every registration of it runs without RTNL."""
        doit_done, doit_all = self.distinct("doit")
        dump_done, dump_all = self.distinct("dumpit")
        return (f"{doit_done} out of {doit_all} doit()s, {dump_done} out of {dump_all} "
                "dumpit()s run without RTNL (by distinct function)")


def calls(view: TreeView, *names: str) -> list[CallSite]:
    """Calls of `names`, those hidden in a macro's text included (at the macro's use)."""
    wanted = set(names)
    return [c for c in (*view.index.calls(), *view.index.macro_calls(),
                        *view.index.masked_calls())
            if not c.via_member and c.callee in wanted]


def flag_definitions(view: TreeView) -> list[tuple[str, str]]:
    """(name, definition text) of every RTNL_FLAG_* the tree's include/net/rtnetlink.h
    defines, enum members and #defines alike, in file order; [] without the header."""
    try:
        text = (view.tree / HEADER).read_bytes()
    except OSError:
        return []
    out = []
    for match in _FLAG_DEF.finditer(text):
        name = (match.group(1) or match.group(3)).decode(*CODEC)
        value = (match.group(2) or match.group(4)).decode(*CODEC)
        out.append((name, " ".join(_COMMENT.sub("", value).split())))
    return out


def aliases(definitions: list[tuple[str, str]], names: Iterable[str]) -> set[str]:
    """`names` and every flag defined (directly or through other aliases) as one of them."""
    group = set(names)
    changed = True
    while changed:  # aliases of aliases
        changed = False
        for name, value in definitions:
            if name not in group and set(re.findall(r"\w+", value)) & group:
                group.add(name)
                changed = True
    return group


def unlocked_flags(view: TreeView) -> tuple[set[str], set[str]]:
    """Flag names meaning "doit without RTNL" / "dumpit without RTNL", aliases included,
    read from the tree's include/net/rtnetlink.h."""
    definitions = flag_definitions(view)
    return aliases(definitions, {DOIT_UNLOCKED}), aliases(definitions, {DUMP_UNLOCKED})


def _split_top(text: str, sep: str = ",") -> list[str]:
    """Split at `sep` outside (), [] and {}."""
    parts, depth, current = [], 0, []
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts]


def table_fields(view: TreeView) -> tuple[str, ...]:
    """Member order of struct rtnl_msg_handler, read from include/net/rtnetlink.h (for
    rows written without designators: `{THIS_MODULE, PF_MPLS, RTM_NEWROUTE, f, NULL, 0}`)."""
    try:
        text = (view.tree / HEADER).read_text(errors="replace")
    except OSError:
        return _TABLE_FIELDS
    match = re.search(r"struct\s+rtnl_msg_handler\s*\{(.*?)\};", _COMMENT.sub("", text),
                      re.DOTALL)
    if not match:
        return _TABLE_FIELDS
    names = []
    for declaration in match.group(1).split(";"):
        words = re.findall(r"[A-Za-z_]\w*", declaration)
        if words:
            names.append(words[-1])
    return tuple(names) or _TABLE_FIELDS


def table_rows(text: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows of an array initializer `{ {...}, {...} }`, designated or positional."""
    text = _COMMENT.sub("", text)
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    rows = []
    for element in _split_top(body):
        if not (element.startswith("{") and element.endswith("}")):
            continue
        row: dict[str, str] = {}
        position = 0
        for item in _split_top(element[1:-1]):
            if not item:
                continue
            designated = re.match(r"^\.(\w+)\s*=\s*(.*)$", item, re.DOTALL)
            if designated:
                name, value = designated.groups()
                position = fields.index(name) + 1 if name in fields else position
            else:
                name, value = (fields[position] if position < len(fields) else ""), item
                position += 1
            if name:
                row[name] = " ".join(value.split())
        rows.append(row)
    return rows


def _function(value: str) -> str:
    """A doit/dumpit argument: the function's name, "" for NULL / 0."""
    value = value.strip()
    return "" if value in ("", "NULL", "0") else value


def handlers(view: TreeView) -> list[Handler]:
    """Every registration of an rtnetlink handler in the tree, in index order."""
    out = []
    for call in calls(view, "rtnl_register", "rtnl_register_module"):
        args = list(call.args)
        if call.callee == "rtnl_register_module":
            args = args[1:]
        if len(args) < 4:
            continue
        out.append(Handler(f"{call.file}:{call.line}", _function(args[2]),
                           _function(args[3]), args[4] if len(args) > 4 else "0"))
    fields = table_fields(view)
    for init in view.index.inits_of("rtnl_msg_handler"):
        if not init.is_array:
            continue
        text = view.index.source(init.file)[init.body_start : init.body_end]
        for row in table_rows(text.decode("utf-8", "replace"), fields):
            out.append(Handler(f"{init.file}:{init.line}", _function(row.get("doit", "")),
                               _function(row.get("dumpit", "")), row.get("flags", "0")))
    return out


def handler_census(view: TreeView) -> HandlerCensus:
    """Registrations of rtnetlink handlers, counted as upstream counts them: each
    rtnl_register() / rtnl_register_module() call and each row of a struct
    rtnl_msg_handler table is one; the flags say whether it runs without RTNL."""
    doit_flags, dump_flags = unlocked_flags(view)
    return HandlerCensus(doit_flags=doit_flags, dump_flags=dump_flags,
                         handlers=handlers(view))
