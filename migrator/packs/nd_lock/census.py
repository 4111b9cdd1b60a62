"""`migrate status`: how far each stage has got, and the RTNL handler census."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migrator.model import CallSite
from migrator.model.srctext import CODEC
from migrator.packs.nd_lock.common import FnTree
from migrator.packs.nd_lock.stage1 import is_t0_form
from migrator.packs.nd_lock.stage4 import LOCKED_ROOTS
from migrator.rules.context import TreeView

CENSUS_NAMES = frozenset({
    "__register_netdevice", "__unregister_netdevice", "attach_nd_lock", "double_lock_netdev",
    "lock_netdev", "fallback_nd_lock", "rtnl_register", "rtnl_register_module",
    "__rtnl_register_many", "rtnl_register_many", "rtnl_msg_handler", "NETDEV_REGISTER",
    "register_netdevice_notifier", "notifier_block", "call_netdevice_notifier",
})
NEWLINK_CALLBACKS = ("rtnl_link_ops.newlink", "rtnl_link_ops.changelink")
_FLAG_DEF = re.compile(
    rb"^\s*(?:#\s*define\s+(RTNL_FLAG_\w+)\s+([^\n]+)|(RTNL_FLAG_\w+)\s*=\s*([^,}]+))",
    re.MULTILINE,
)


@dataclass(slots=True)
class StageCensus:
    stage: int
    what: str
    done: int
    todo: int


@dataclass(slots=True)
class Handler:
    """One registration of an rtnetlink message handler: an rtnl_register() or
    rtnl_register_module() call, or a row of a struct rtnl_msg_handler table."""

    where: str  # file:line
    doit: str  # "" when NULL
    dumpit: str
    flags: str


@dataclass(slots=True)
class HandlerCensus:
    doit_flags: set[str] = field(default_factory=lambda: {"RTNL_FLAG_DOIT_UNLOCKED"})
    dump_flags: set[str] = field(default_factory=lambda: {"RTNL_FLAG_DUMP_UNLOCKED"})
    handlers: list[Handler] = field(default_factory=list)

    def _unlocked(self, handler: Handler, flags: set[str]) -> bool:
        return bool(set(re.findall(r"\w+", handler.flags)) & flags)

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


def _calls(view: TreeView, *names: str) -> list[CallSite]:
    """Calls of `names`, those hidden in a macro's text included (at the macro's use)."""
    wanted = set(names)
    return [c for c in (*view.index.calls(), *view.index.macro_calls(),
                        *view.index.masked_calls())
            if not c.via_member and c.callee in wanted]


def _unless_macro(call: CallSite, done: bool) -> bool:
    """A call of an unconverted name hidden in a macro is never counted as done: the
    bracket or attach around the macro's use is not seen by these checks."""
    return done and not ((call.via_macro or call.masked_arm)
                         and not call.callee.startswith("__"))


def _preceded_in_function(view: TreeView, call: CallSite, names: set[str]) -> bool:
    fn = view.index.function(call.file, call.caller)
    if fn is None:
        return False
    return any(c.callee in names and c.start < call.start for c in view.index.calls_in(fn))


def _held_on_every_path(view: TreeView, call: CallSite, names: set[str],
                        depth: int = 3) -> bool:
    """`call` comes after one of `names` in its function, or every direct caller of its
    function does (T8 brackets legacy enslave entry points, not the link itself); the
    core's dispatch of .ndo_add_slave/.newlink/.changelink holds the locks (stage 4's
    premise).  A function with no caller found is not counted."""

    if _preceded_in_function(view, call, names):
        return True
    if call.via_member and any(root.endswith("." + call.callee) for root in LOCKED_ROOTS):
        return True  # the core's ops->ndo_add_slave() dispatch, made under both locks
    fn = view.index.function(call.file, call.caller)
    if depth == 0 or fn is None:
        return False
    callers = view.graph.callers(fn)
    return bool(callers) and all(_held_on_every_path(view, c, names, depth - 1)
                                 for c in callers)


def _standalone(view: TreeView, call: CallSite) -> bool:
    """register_netdevice() in the form stage 1's T0 writes (under the function's own
    rtnl_lock_killable()): a private lock by design, what stage 3 leaves alone."""

    fn = view.index.function(call.file, call.caller)
    if fn is None or call.callee != "register_netdevice" or not _preceded_in_function(
            view, call, {"rtnl_lock_killable"}):
        return False
    ft = FnTree(view.index.source(call.file), fn, "census")
    return any(is_t0_form(ft, node) for node in ft.calls("register_netdevice")
               if ft.start(node) == call.start)


def stage_census(view: TreeView) -> list[StageCensus]:
    reach, _ = view.reach(NEWLINK_CALLBACKS)

    def in_newlink(call: CallSite) -> bool:
        return (call.file, call.caller) in reach

    out = []
    register_netdev = _calls(view, "register_netdev")
    out.append(StageCensus(1, "register_netdev() callers left", 0, len(register_netdev)))
    reg = [c for c in _calls(view, "register_netdevice", "__register_netdevice") if in_newlink(c)]
    out.append(StageCensus(2, "newlink/changelink registrations use __register_netdevice",
                           sum(c.callee.startswith("__") for c in reg),
                           sum(not c.callee.startswith("__") for c in reg)))
    unreg = [c for c in _calls(view, "unregister_netdevice", "__unregister_netdevice")
             if in_newlink(c)]
    out.append(StageCensus(2, "newlink/changelink unregistrations use __unregister_netdevice",
                           sum(c.callee.startswith("__") for c in unreg),
                           sum(not c.callee.startswith("__") for c in unreg)))
    other = [c for c in _calls(view, "register_netdevice", "__register_netdevice")
             if not in_newlink(c)]
    # __register_netdevice() is only ever written with the lock arranged by the caller
    # (T3/T4 bracket the helper's callers), so the renamed call counts as done; so does
    # the T0 form stage 1 writes (a private lock by design).
    attached = [_unless_macro(c, c.callee.startswith("__") or _standalone(view, c) or
                              _preceded_in_function(view, c, {"attach_nd_lock",
                                                                "attach_new_nd_lock"}))
                for c in other]
    out.append(StageCensus(3, "other register_netdevice() users with their lock arranged",
                           sum(attached), len(attached) - sum(attached)))
    links = _calls(view, "netdev_master_upper_dev_link")
    locked = [_unless_macro(c, _held_on_every_path(view, c, {"double_lock_netdev"}))
              for c in links]
    out.append(StageCensus(4, "netdev_master_upper_dev_link() under double_lock_netdev()",
                           sum(locked), len(locked) - sum(locked)))
    move_calls = ("dev_change_net_namespace", "__dev_change_net_namespace")
    moves = [c for c in _calls(view, *move_calls) if c.caller not in move_calls]
    moved = [_unless_macro(c, _preceded_in_function(view, c, {"lock_netdev", "mutex_lock"})
                           and b"nd_lock" in _function_text(view, c)) for c in moves]
    out.append(StageCensus(5, "dev_change_net_namespace() under nd_lock",
                           sum(moved), len(moved) - sum(moved)))
    # The replay of NETDEV_REGISTER to one late notifier block (net/core/dev.c).
    replays = [c for c in _calls(view, "call_netdevice_notifier")
               if len(c.args) == 3 and c.args[1] == "NETDEV_REGISTER"]
    replayed = [_preceded_in_function(view, c, {"lock_netdev"}) for c in replays]
    out.append(StageCensus(6, "NETDEV_REGISTER replays to new notifiers under nd_lock",
                           sum(replayed), len(replayed) - sum(replayed)))
    handlers = _register_handlers(view)
    out.append(StageCensus(6, "notifier handlers reacting to NETDEV_REGISTER (reported)", 0,
                           len(handlers)))
    return out


def _function_text(view: TreeView, call: CallSite) -> bytes:
    fn = view.index.function(call.file, call.caller)
    if fn is None:
        return b""
    return view.index.source(call.file)[fn.body_start : fn.body_end]


def _register_handlers(view: TreeView) -> list[str]:
    """notifier_call handlers whose body mentions NETDEV_REGISTER."""
    out = []
    for root in view.graph.roots(["notifier_block.notifier_call"]):
        fn = root.function
        body = view.index.source(fn.file)[fn.body_start : fn.body_end]
        if re.search(rb"\bNETDEV_REGISTER\b", body):
            out.append(f"{fn.file}:{fn.line} {fn.name}")
    return sorted(set(out))


def unlocked_flags(view: TreeView) -> tuple[set[str], set[str]]:
    """Flag names meaning "doit without RTNL" / "dumpit without RTNL", aliases included,
    read from the tree's include/net/rtnetlink.h."""
    doit, dump = {"RTNL_FLAG_DOIT_UNLOCKED"}, {"RTNL_FLAG_DUMP_UNLOCKED"}
    header = view.tree / "include/net/rtnetlink.h"
    try:
        text = header.read_bytes()
    except OSError:
        return doit, dump
    definitions = []
    for match in _FLAG_DEF.finditer(text):
        name = (match.group(1) or match.group(3)).decode(*CODEC)
        value = (match.group(2) or match.group(4)).decode(*CODEC)
        definitions.append((name, value))
    changed = True
    while changed:  # aliases of aliases
        changed = False
        for name, value in definitions:
            words = set(re.findall(r"\w+", value))
            for group in (doit, dump):
                if name not in group and words & group:
                    group.add(name)
                    changed = True
    return doit, dump


_TABLE_FIELDS = ("owner", "protocol", "msgtype", "doit", "dumpit", "flags")
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)


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
        text = (view.tree / "include/net/rtnetlink.h").read_text(errors="replace")
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


def handler_census(view: TreeView) -> HandlerCensus:
    """Registrations of rtnetlink handlers, counted as upstream counts them: each
    rtnl_register() / rtnl_register_module() call and each row of a struct
    rtnl_msg_handler table is one; the flags say whether it runs without RTNL."""
    doit_flags, dump_flags = unlocked_flags(view)
    census = HandlerCensus(doit_flags=doit_flags, dump_flags=dump_flags)
    for call in _calls(view, "rtnl_register", "rtnl_register_module"):
        args = list(call.args)
        if call.callee == "rtnl_register_module":
            args = args[1:]
        if len(args) < 4:
            continue
        census.handlers.append(Handler(f"{call.file}:{call.line}", _function(args[2]),
                                       _function(args[3]), args[4] if len(args) > 4 else "0"))
    fields = table_fields(view)
    for init in view.index.inits_of("rtnl_msg_handler"):
        if not init.is_array:
            continue
        text = view.index.source(init.file)[init.body_start : init.body_end]
        for row in table_rows(text.decode("utf-8", "replace"), fields):
            census.handlers.append(Handler(f"{init.file}:{init.line}", _function(
                row.get("doit", "")), _function(row.get("dumpit", "")), row.get("flags", "0")))
    return census


def handler_lines(view: TreeView) -> list[str]:
    """`migrate status` lines: the rtnetlink handlers that run without RTNL."""
    census = handler_census(view)
    return [f"rtnetlink: {census.summary()}", f"rtnetlink: {census.distinct_summary()}"]
