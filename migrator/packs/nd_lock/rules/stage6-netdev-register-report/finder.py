"""stage6-netdev-register-report: netdevice notifier handlers (the .notifier_call of a
notifier_block passed to register_netdevice_notifier*(): common.netdev_notifier_roots())
whose NETDEV_REGISTER branch (`case NETDEV_REGISTER:`, `if (... == NETDEV_REGISTER)`)
touches a device other than the event's: registers, links or moves one, or calls a
function with another net_device * of the handler as first argument, directly or
through up to two levels of callees (the event's device, `ptr` and the handler's first
net_device * local, followed as parameters). Each such handler is one report site at the
branch, the calls as evidence: a candidate for deferral once NETDEV_REGISTER runs under
the registering device's nd_lock. Nothing is rewritten.
"""

from __future__ import annotations

from collections.abc import Iterable

from migrator.edit.edits import line_of
from migrator.model import FunctionDef, Site
from migrator.packs.nd_lock.common import FnTree, Node, netdev_notifier_roots
from migrator.rules.context import At, RuleContext

OTHER_DEVICE_CALLS = frozenset({"register_netdevice", "__register_netdevice",
                                "netdev_master_upper_dev_link", "netdev_upper_dev_link",
                                "dev_change_net_namespace"})


def _branches(ft: FnTree) -> list[Node]:
    """Statements run for NETDEV_REGISTER: `case NETDEV_REGISTER:` bodies, `if (... ==
    NETDEV_REGISTER)` consequences."""
    out: list[Node] = []

    def walk(n: Node) -> None:
        if n.type == "case_statement":
            v = n.child_by_field_name("value")
            if v is not None and ft.text(v) == "NETDEV_REGISTER":
                out.extend(c for c in n.named_children[1:])
        if n.type == "if_statement":
            cond = n.child_by_field_name("condition")
            if cond is not None and "NETDEV_REGISTER" in ft.text(cond) \
                    and "!=" not in ft.text(cond):
                body = n.child_by_field_name("consequence")
                if body is not None:
                    out.append(body)
        for c in n.named_children:
            walk(c)
    walk(ft.root)
    return out


def _touches(ctx: RuleContext, fn: FunctionDef, nodes: list[Node], ft: FnTree,
             own: set[str], depth: int, chain: list[str]) -> list[str]:
    devs = {p.name for p in (*fn.params, *fn.locals) if "net_device *" in p.type} - own
    out: list[str] = []

    def walk(n: Node) -> None:
        if n.type == "call_expression":
            f = n.child_by_field_name("function")
            args = n.child_by_field_name("arguments")
            name = ft.text(f) if f is not None else ""
            argv = [ft.text(a) for a in (args.named_children if args else [])]
            where = f"{fn.file}:{line_of(ft.src, ft.start(n))}"
            via = (" via " + " -> ".join(chain)) if chain else ""
            if name in OTHER_DEVICE_CALLS:
                out.append(f"{where} {name}({', '.join(argv)}){via}")
            elif argv and argv[0] in devs:
                out.append(f"{where} {name}({argv[0]}, ...) on another device{via}")
            elif depth > 0 and f is not None and f.type == "identifier":
                for callee in ctx.graph.resolve_name(fn.file, name):
                    cft = FnTree(ctx.index.source(callee.file), callee, ctx.rule.id)
                    passed = {p.name for p, a in zip(callee.params, argv, strict=False)
                              if a in own}
                    out.extend(_touches(ctx, callee, [cft.body()], cft, passed, depth - 1,
                                        [*chain, callee.name]))
        for c in n.named_children:
            walk(c)
    for n in nodes:
        walk(n)
    return out


def find(ctx: RuleContext) -> Iterable[Site]:
    seen = set()
    for root in netdev_notifier_roots(ctx):
        fn = root.function  # type: ignore[attr-defined]
        if (fn.file, fn.name) in seen:
            continue
        seen.add((fn.file, fn.name))
        ft = FnTree(ctx.index.source(fn.file), fn, ctx.rule.id)
        branches = _branches(ft)
        if not branches:
            continue
        own = {p.name for p in fn.params if p.name == "ptr"}
        for p in fn.locals:
            if "net_device *" in p.type:
                own.add(p.name)
                break  # the event device is the first net_device local by convention
        touched = _touches(ctx, fn, branches, ft, own, 2, [fn.name])
        if not touched:
            continue
        line = line_of(ft.src, ft.start(branches[0]))
        yield ctx.report(At(fn.file, fn.name, line, ft.start(branches[0]), ft.start(branches[0])),
                         "NETDEV_REGISTER handler touches another device: candidate for "
                         "deferral once NETDEV_REGISTER runs under the nd_lock",
                         evidence=[f"notifier: {root.describe()}", *touched])  # type: ignore[attr-defined]
