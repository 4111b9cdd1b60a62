"""`migrate status` for netns_rtnl beyond the rules' own census (stage 1 and 2 done /
to do come from the rules: migrator.commands.status): the rtnetlink doit()s registered
per namespace, and where rtnl_lock() is taken with what in scope (the RTNL API's own
definitions are not counted)."""

from __future__ import annotations

from migrator.model import CallSite
from migrator.packs.netns_rtnl.lockflow import API
from migrator.packs.netns_rtnl.netns import scope_of
from migrator.packs.rtnetlink_handlers import HEADER, aliases, calls, flag_definitions, handlers
from migrator.rules.context import TreeView

PERNET_FLAGS = ("RTNL_FLAG_DOIT_PERNET", "RTNL_FLAG_DOIT_PERNET_WIP")
LOCKS = ("rtnl_lock", "rtnl_trylock")
NET_LOCKS = ("rtnl_net_lock", "rtnl_net_trylock")
AREAS = (("net/", "net/"), ("drivers/net/", "drivers/net/"))
SCOPES = (("net", "with a struct net *"), ("dev", "with only a struct net_device *"),
          ("neither", "with neither"))



def _outside_api(view: TreeView, names: tuple[str, ...]) -> list[CallSite]:
    return [c for c in calls(view, *names) if c.caller not in API]


def _scope(view: TreeView, call: CallSite) -> str:
    fn = view.index.function(call.file, call.caller)
    return scope_of(fn) if fn is not None else "neither"


def handler_lines(view: TreeView) -> list[str]:
    """The rtnetlink doit()s registered to run under the per-namespace RTNL: with
    RTNL_FLAG_DOIT_PERNET (converted) or RTNL_FLAG_DOIT_PERNET_WIP (being converted), or
    a flag the tree defines as one of them, out of all doit()s, by registration."""
    definitions = flag_definitions(view)
    defined = dict(definitions)
    doits = [h for h in handlers(view) if h.doit]
    counts = []
    for flag in PERNET_FLAGS:
        names = aliases(definitions, {flag}) if flag in defined else set()
        counts.append(f"{sum(h.has_flag(names) for h in doits)} with {flag}")
    out = [f"rtnetlink: {', '.join(counts)}, out of {len(doits)} doit()s (by registration)"]
    shown = [f"{flag} = {defined[flag]}" for flag in PERNET_FLAGS if flag in defined]
    missing = [flag for flag in PERNET_FLAGS if flag not in defined]
    if shown:
        out.append(f"rtnetlink: {HEADER} defines {'; '.join(shown)}")
    if missing:
        out.append(f"rtnetlink: {HEADER} does not define {', '.join(missing)}")
    return out


def scope_lines(view: TreeView) -> list[str]:
    """rtnl_lock()/rtnl_trylock() calls by what their function has in scope, in net/ and
    in drivers/net/ apart (and elsewhere)."""
    counts: dict[str, dict[str, int]] = {}
    for call in _outside_api(view, LOCKS):
        area = next((name for name, prefix in AREAS if call.file.startswith(prefix)),
                    "elsewhere")
        by_scope = counts.setdefault(area, dict.fromkeys((s for s, _ in SCOPES), 0))
        by_scope[_scope(view, call)] += 1
    out = []
    for area in (*(name for name, _ in AREAS), "elsewhere"):
        by_scope = counts.get(area, dict.fromkeys((s for s, _ in SCOPES), 0))
        parts = ", ".join(f"{by_scope[s]} {words}" for s, words in SCOPES)
        where = area if area == "elsewhere" else f"in {area}"
        out.append(f"rtnl_lock()/rtnl_trylock() {where}: {sum(by_scope.values())} calls: "
                   f"{parts}")
    return out
