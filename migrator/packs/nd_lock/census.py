"""`migrate status`: how far each stage has got, and the RTNL handler census (the
registrations are read by migrator.packs.rtnetlink_handlers, shared with netns_rtnl)."""

from __future__ import annotations

import re

from migrator.model import CallSite
from migrator.packs.nd_lock.common import FnTree
from migrator.packs.nd_lock.stage1 import is_t0_form
from migrator.packs.nd_lock.stage4 import LOCKED_ROOTS
from migrator.packs.rtnetlink_handlers import Handler as Handler  # re-exported
from migrator.packs.rtnetlink_handlers import HandlerCensus as HandlerCensus  # re-exported
from migrator.packs.rtnetlink_handlers import calls as _calls
from migrator.packs.rtnetlink_handlers import handler_census
from migrator.packs.rtnetlink_handlers import table_rows as table_rows  # re-exported
from migrator.rules.context import StageCensus, TreeView

CENSUS_NAMES = frozenset({
    "__register_netdevice", "__unregister_netdevice", "attach_nd_lock", "double_lock_netdev",
    "lock_netdev", "fallback_nd_lock", "rtnl_register", "rtnl_register_module",
    "__rtnl_register_many", "rtnl_register_many", "rtnl_msg_handler", "NETDEV_REGISTER",
    "register_netdevice_notifier", "notifier_block", "call_netdevice_notifier",
})
NEWLINK_CALLBACKS = ("rtnl_link_ops.newlink", "rtnl_link_ops.changelink")



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


def handler_lines(view: TreeView) -> list[str]:
    """`migrate status` lines: the rtnetlink handlers that run without RTNL."""
    census = handler_census(view)
    return [f"rtnetlink: {census.summary()}", f"rtnetlink: {census.distinct_summary()}"]
