"""The namespace a function knows and the devices it touches while RTNL is held.

Stage 2 takes rtnl_net_lock(net) instead of rtnl_lock() only when everything the locked
region touches belongs to `net`. Neither the namespace nor the devices are looked up
here by following calls: what a function knows is read from its own text.

* The namespace: the one `struct net *` of the function, a parameter never assigned,
  or a local defined once before the lock by a source that names a namespace without a
  device (`container_of(work, struct net, ...)`, `sock_net(...)`, the pack's
  `net_sources`). A device's namespace (`dev_net(dev)`) is not one: the device can move
  until RTNL is held.
* The devices: every `struct net_device *` local the region uses comes from a lookup
  in that namespace (`__dev_get_by_index(net, ...)`, `for_each_netdev(net, dev)`, the
  pack's `lookups`/`iterators`) or is `net->...`; an in_device/inet6_dev local comes
  from such a device. No other device is reached (`priv->dev`, `skb->dev`), no other
  namespace (`init_net`, `for_each_net()`), no device moves namespace, and every call
  is given `net` or a device of it, or is a primitive that touches no device
  (`safe_calls`). Anything else stops the rewrite, with the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from migrator.callgraph import FnKey
from migrator.edit.cedit import NeedsReview
from migrator.edit.edits import line_of
from migrator.edit.fntree import FnTree, Node
from migrator.index.tree_index import TreeIndex
from migrator.model import FunctionDef, Param
from migrator.parse.tree import walk

NET_TYPE = "struct net *"
DEVICE_TYPE = "struct net_device *"
DERIVED_TYPES = ("struct in_device *", "struct inet6_dev *")
DEV_FIELD = re.compile(r"dev$|^(?:ndev|netdev|master|slave|lower|upper)\w*$|^ip6?_ptr$")
_CONTAINER = re.compile(r"^container_of\s*\(.*,\s*struct\s+net\s*,", re.DOTALL)
ITER = re.compile(r"(?:for_each|foreach|_walk|for_all)\w*$")
# Callees that reach the devices linked to the one they are given: upper, lower, master,
# real device, peer; those may be in another namespace. (`netif_is_*()` only test it.)
LINKED = re.compile(r"upper|lower|master|slave|real_?dev|peer")
_PREDICATE = re.compile(r"netif_is_\w+")
MOVES = frozenset({"dev_change_net_namespace", "__dev_change_net_namespace", "dev_net_set"})


def type_of(param: Param) -> str:
    return " ".join(param.type.replace("*", " *").split()).replace("* *", "**")


def net_vars(fn: FunctionDef) -> list[Param]:
    """The `struct net *` parameters and locals of `fn`, in order."""
    return [p for p in (*fn.params, *fn.locals) if type_of(p) == NET_TYPE]


def device_vars(fn: FunctionDef) -> list[Param]:
    return [p for p in (*fn.params, *fn.locals) if type_of(p) == DEVICE_TYPE]


def scope_of(fn: FunctionDef) -> str:
    """What a function calling rtnl_lock() has in scope: "net", "dev" or "neither"."""
    if net_vars(fn):
        return "net"
    return "dev" if device_vars(fn) else "neither"


def callee(node: Node, ft: FnTree) -> str:
    f = node.child_by_field_name("function")
    return ft.text(f) if f is not None else ""


def args(node: Node) -> list[Node]:
    a = node.child_by_field_name("arguments")
    return [c for c in a.named_children if c.type != "comment"] if a is not None else []


def strip(expr: Node) -> Node:
    while expr.type in ("parenthesized_expression", "cast_expression") and expr.named_children:
        expr = expr.named_children[-1]
    return expr


@dataclass(frozen=True, slots=True)
class Definition:
    node: Node  # the declarator, assignment or call
    kind: str  # "init" | "assign" | "iter" (a loop macro's variable) | "address" (&v) | "other"
    value: Node | None  # the assigned expression (init, assign); the macro call (iter)


def definitions(ft: FnTree, name: str, ns_first: frozenset[str] = frozenset()
                ) -> list[Definition]:
    """Where local `name` gets a value in the function. A loop macro may set any plain
    variable it is given, but the first argument of `ns_first` (`for_each_netdev(net,
    dev)`) is the namespace it walks."""
    out = []
    for n in walk(ft.body()):
        t = n.type
        if t == "init_declarator":
            decl, value = n.child_by_field_name("declarator"), n.child_by_field_name("value")
            while decl is not None and decl.type == "pointer_declarator":
                decl = decl.child_by_field_name("declarator")
            if decl is not None and ft.text(decl) == name:
                out.append(Definition(n, "init", value))
        elif t in ("assignment_expression", "update_expression"):
            left = n.child_by_field_name("left") or n.child_by_field_name("argument")
            if left is not None and ft.text(strip(left)) == name:
                kind = "assign" if t == "assignment_expression" \
                    and ft.text(n.child_by_field_name("operator") or n) == "=" else "other"
                out.append(Definition(n, kind, n.child_by_field_name("right")))
        elif t == "pointer_expression" and ft.text(n).startswith("&"):
            arg = n.child_by_field_name("argument")
            if arg is not None and ft.text(arg) == name:
                out.append(Definition(n, "address", None))
        elif t == "call_expression" and ITER.search(callee(n, ft)):
            given = args(n)[1:] if callee(n, ft) in ns_first else args(n)
            if any(ft.text(a) == name for a in given):
                out.append(Definition(n, "iter", n))
    return out


@dataclass(slots=True)
class Namespace:
    """The function's namespace: its variable, where it comes from, whether stage 2 may
    lock it."""

    name: str
    origin: str  # evidence: "net: parameter of foo() (file:line)"
    problem: str = ""  # why it is not a namespace known without a device ("" when it is)


def namespaces(ft: FnTree, fn: FunctionDef, first_lock: int, sources: Iterable[str],
               ns_first: frozenset[str], callback: str = "") -> list[Namespace]:
    """Each `struct net *` variable of `fn`, judged; [] when it has none (not a stage 2
    site)."""
    return [_judge_net(ft, fn, var, first_lock, frozenset(sources), ns_first, callback)
            for var in dict((p.name, p) for p in net_vars(fn)).values()]


def _judge_net(ft: FnTree, fn: FunctionDef, var: Param, first_lock: int,
               sources: frozenset[str], ns_first: frozenset[str], callback: str) -> Namespace:
    where = f"{fn.file}:{fn.line}"
    defs = definitions(ft, var.name, ns_first)
    if any(p.name == var.name for p in fn.params):
        origin = f"{var.name}: parameter of {fn.name}() ({where})" \
            + (f", {callback}" if callback else "")
        if defs:
            return Namespace(var.name, origin, f"{var.name} is assigned in the function "
                             f"({_at(ft, defs[0].node)})")
        return Namespace(var.name, origin)
    loops = [d for d in defs if d.kind == "iter"]
    if loops:
        macro = callee(loops[0].node, ft)
        first = args(loops[0].node)[:1]
        role = (f"the cursor of {macro}()" if first and ft.text(first[0]) == var.name
                else f"given to loop macro {macro}(), which may set it")
        return Namespace(var.name, f"{var.name}: local of {fn.name}() ({where})",
                         f"{var.name} is {role} ({_at(ft, loops[0].node)}): the function "
                         "may work on several namespaces")
    values = [d for d in defs if d.kind in ("init", "assign") and d.value is not None]
    if len(defs) != 1 or len(values) != 1:
        shown = "; ".join(f"{_short(ft, d.node)} ({_at(ft, d.node)})" for d in defs[:3])
        return Namespace(var.name, f"{var.name}: local of {fn.name}() ({where})",
                         f"{var.name} is not assigned exactly once"
                         + (f": {shown}" if shown else ""))
    d = values[0]
    assert d.value is not None
    text = " ".join(ft.text(d.value).split())
    origin = f"{var.name} = {_short(ft, d.value)} ({_at(ft, d.node)})"
    if ft.start(d.node) > first_lock:
        return Namespace(var.name, origin, f"{var.name} is assigned after RTNL is taken")
    value = strip(d.value)
    if value.type == "call_expression" and _CONTAINER.match(ft.text(value)):
        return Namespace(var.name, origin + ": the namespace holding this work")
    if value.type == "call_expression" and callee(value, ft) in sources:
        return Namespace(var.name, origin)
    return Namespace(var.name, origin, f"{var.name} comes from {_short(ft, d.value)}, not "
                     "from a source that names a namespace without a device"
                     + (" (a device's namespace can change until RTNL is held)"
                        if "dev_net" in text else ""))


def choose(found: list[Namespace]) -> tuple[Namespace, list[Namespace]]:
    """The namespace the rewrite locks and the other namespace variables; NeedsReview
    unless exactly one is known without a device."""
    known = [ns for ns in found if not ns.problem]
    if len(known) == 1:
        return known[0], [ns for ns in found if ns is not known[0]]
    if known:
        names = ", ".join(ns.name for ns in known)
        raise NeedsReview(f"{len(known)} namespaces are known ({names}): which one the "
                          "region works on is not known")
    if len(found) == 1:
        raise NeedsReview(found[0].problem)
    raise NeedsReview("no namespace is known without a device: "
                      + "; ".join(ns.problem for ns in found))


@dataclass(slots=True)
class Devices:
    """Which device variables of the function come from the namespace's own lookups."""

    ft: FnTree
    net: str
    lookups: frozenset[str]
    iterators: frozenset[str]
    origin: dict[str, str] = field(default_factory=dict)  # device variable -> evidence
    good: set[str] = field(default_factory=set)  # of the namespace: devices, lists of them
    devices: set[str] = field(default_factory=set)  # net_device, in_device, inet6_dev locals
    # Other locals got from the namespace or its devices (`mrt = ipmr_get_table(net, id)`,
    # `vlan = vlan_dev_priv(dev)`): a call given one works on the namespace. Never a way
    # to a device (`vlan->real_dev` is not one of the namespace's).
    objects: set[str] = field(default_factory=set)

    def classify(self, fn: FunctionDef) -> None:
        devices = {p.name for p in (*fn.params, *fn.locals) if type_of(p) == DEVICE_TYPE}
        derived = {p.name for p in (*fn.params, *fn.locals) if type_of(p) in DERIVED_TYPES}
        self.devices = devices | derived
        params = {p.name for p in fn.params}
        for name in sorted(devices | derived):
            if name in params:
                self.origin[name] = f"{name}: parameter of {fn.name}(), its namespace is " \
                    "not known"
        for _ in range(2):  # `dev = tmp;` after for_each_netdev(net, tmp)
            for name in sorted(devices - params - self.good):
                self._judge(name, self._from_namespace)
        for _ in range(2):  # in_device/inet6_dev from devices of the namespace
            for name in sorted(derived - params - self.good):
                self._judge(name, lambda d: self._from_namespace(d)
                            or self._from_good_device(d))
        self._kill_lists()
        typed = devices | derived | {p.name for p in net_vars(fn)}
        others = {p.name for p in fn.locals} - typed - params
        for _ in range(2):
            for name in sorted(others - self.objects):
                defs = definitions(self.ft, name, self.iterators)
                if defs and all(self._from_namespace_object(d, name) for d in defs):
                    self.objects.add(name)

    def _names(self, node: Node) -> set[str]:
        return {self.ft.text(n) for n in walk(node) if n.type == "identifier"}

    def of_namespace(self, names: set[str]) -> bool:
        return bool(names & ({self.net} | self.good | self.objects))

    def _from_namespace_object(self, d: Definition, name: str) -> bool:
        if d.kind in ("init", "assign") and d.value is not None:
            return self.of_namespace(self._names(d.value))
        if d.kind == "iter":  # the cursor of a walk over a list of the namespace
            return self.of_namespace({n for a in args(d.node) for n in self._names(a)}
                                     - {name})
        return False

    def _kill_lists(self) -> None:
        """A list head local (`LIST_HEAD(list)`) that only ever gets devices of the
        namespace (`unregister_netdevice_queue(dev, &list)`) and is only given to
        unregister_netdevice_many*() holds devices of the namespace."""
        uses: dict[str, list[tuple[str, list[str]]]] = {}
        for n in walk(self.ft.body()):
            if n.type != "call_expression":
                continue
            given = [self.ft.text(a) for a in args(n)]
            for i, text in enumerate(given):
                m = re.fullmatch(r"&\s*(\w+)", text)
                if m:
                    uses.setdefault(m.group(1), []).append((callee(n, self.ft), given[:i]))
        for name, calls in uses.items():
            queued = [before for f, before in calls if f == "unregister_netdevice_queue"]
            if queued and all(
                    (f == "unregister_netdevice_queue" and before and before[0] in self.good
                     and before[0] in self.devices) or f.startswith("unregister_netdevice_many")
                    for f, before in calls):
                self.good.add(name)
                self.origin[name] = f"{name}: a list of devices of {self.net} to unregister"

    def _judge(self, name: str, ok: object) -> None:
        defs = definitions(self.ft, name, self.iterators)
        bad = [d for d in defs if not ok(d)]  # type: ignore[operator]
        if defs and not bad:
            self.good.add(name)
            self.origin[name] = f"{name}: " + "; ".join(
                f"{_short(self.ft, d.value or d.node)} ({_at(self.ft, d.node)})" for d in defs)
        elif bad:
            self.origin[name] = f"{name} from {_short(self.ft, bad[0].value or bad[0].node)} " \
                f"({_at(self.ft, bad[0].node)})"
        else:
            self.origin[name] = f"{name}: never assigned in the function"

    def _from_namespace(self, d: Definition) -> bool:
        if d.kind == "iter":
            call = d.node
            first = args(call)
            return callee(call, self.ft) in self.iterators and bool(first) \
                and self.ft.text(first[0]) == self.net
        if d.kind not in ("init", "assign") or d.value is None:
            return False
        value = strip(d.value)
        text = self.ft.text(value)
        if text == "NULL" or re.fullmatch(rf"{re.escape(self.net)}\s*->\s*\w+", text):
            return True
        if text in self.good:
            return True
        if value.type != "call_expression" or callee(value, self.ft) not in self.lookups:
            return False
        first = args(value)
        return bool(first) and self.ft.text(first[0]) == self.net

    def _from_good_device(self, d: Definition) -> bool:
        if d.kind not in ("init", "assign") or d.value is None:
            return False
        if self.ft.text(strip(d.value)) == "NULL":
            return True
        names = {self.ft.text(n) for n in walk(d.value) if n.type == "identifier"}
        return bool(names & self.good)


def reaches_linked(name: str) -> bool:
    return bool(LINKED.search(name)) and not _PREDICATE.fullmatch(name)


def linked_functions(index: TreeIndex, names: frozenset[str]) -> dict[FnKey, str]:
    """Functions of the index that call one of `names` (the walks to upper, lower and
    master devices), directly or through other such functions: function -> the calls
    that get there ("foo() -> netdev_lower_get_next()"). The index records these calls
    when the rule asks for the names (`index_names`): their callers in the same file,
    and theirs, are indexed too."""
    out: dict[FnKey, str] = {}
    for k, calls in index.calls_by_function.items():
        hit = next((c.callee for c in calls if c.callee in names), None)
        if hit is not None:
            out[k] = f"{hit}()"
    changed = True
    while changed:
        changed = False
        by_name: dict[str, list[FnKey]] = {}
        for k in out:
            by_name.setdefault(k[1], []).append(k)
        for k, calls in index.calls_by_function.items():
            if k in out:
                continue
            for c in calls:
                keys = by_name.get(c.callee, [])
                via = (c.file, c.callee) if (c.file, c.callee) in out else \
                    (keys[0] if keys else None)
                if via is not None:
                    out[k] = f"{c.callee}() -> {out[via]}"
                    changed = True
                    break
    return out


def file_function(src: bytes, name: str) -> bool:
    """`name` is a function the file defines or declares (a callback given by name)."""
    return re.search(rb"^[^\n;#]*\b" + re.escape(name.encode()) + rb"\s*\(", src,
                     re.MULTILINE) is not None


def file_variable(src: bytes, name: str) -> int | None:
    """The line of a file-scope, non-const variable `name` of the file (`static int x;`,
    `static LIST_HEAD(x);`), None when there is none. Locks of their own
    (DEFINE_MUTEX(), DEFINE_SPINLOCK()) and anything declared in headers are not found."""
    text = src.decode("utf-8", "replace")
    word = re.escape(name)
    for m in re.finditer(rf"^(?![\s#/*}}])([^\n;(){{}}=]*?)\b{word}\s*(?:\[[^\]\n]*\]\s*)*[=;]"
                         rf"|^(?:static\s+)?(?:LIST_HEAD|HLIST_HEAD)\s*\(\s*{word}\s*\)",
                         text, re.MULTILINE):
        head = m.group(1)
        if head is not None and (not head.strip() or re.search(r"\bconst\b|\btypedef\b|"
                                                               r"\breturn\b", head)):
            continue
        return text.count("\n", 0, m.start()) + 1
    return None


def _at(ft: FnTree, node: Node) -> str:
    return f"{ft.fn.file}:{line_of(ft.src, ft.start(node))}"


def _short(ft: FnTree, node: Node, limit: int = 70) -> str:
    text = " ".join(ft.text(node).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def refuse(ft: FnTree, node: Node, what: str) -> NeedsReview:
    return NeedsReview(f"{what} ({_at(ft, node)})", [f"stops: {_at(ft, node)} {_short(ft, node)}"])
