"""Stage 6: report netdevice notifier handlers whose NETDEV_REGISTER branch touches a
device other than the event's; the dev.c replay core change is a review site."""

from __future__ import annotations

import re
from collections.abc import Iterable

from migrator.analyses.common import FnTree, Node, netdev_notifier_roots
from migrator.edits import line_of
from migrator.engine import RuleContext
from migrator.model import FunctionDef, Site

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
            where = f"{fn.file}:{line_of(ft.src, ft.a(n))}"
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


def report(ctx: RuleContext) -> Iterable[Site]:
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
        line = line_of(ft.src, ft.a(branches[0]))
        yield Site(stage=6, template="report", outcome="review", file=fn.file,
                   function=fn.name, line=line, start=ft.a(branches[0]),
                   end=ft.a(branches[0]), rule=ctx.rule.id,
                   reason="NETDEV_REGISTER handler touches another device: candidate for "
                   "deferral once NETDEV_REGISTER runs under the nd_lock",
                   evidence=[f"notifier: {root.describe()}", *touched])  # type: ignore[attr-defined]


DEV_C = "net/core/dev.c"
REPLAY_CALL = "call_netdevice_register_notifiers"


def core(ctx: RuleContext) -> Iterable[Site]:
    """--with-core: the NETDEV_REGISTER replay of register_netdevice_notifier*()
    (for_each_netdev() -> call_netdevice_register_notifiers()).  Not rewritten: a
    review site naming the loop, its rollback and why the bracket is not mechanical."""
    if not ctx.options.get("with_core"):
        return
    path = ctx.engine.tree / DEV_C
    if not path.is_file():
        return
    src = path.read_bytes()
    if b"lock_netdev(" in src:
        return  # the core already takes nd_locks: converted by hand
    text = src.decode("utf-8", "surrogateescape")
    m = re.search(r"(?m)^\s*(\w+)\s*=\s*" + REPLAY_CALL + r"\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)\s*;",
                  text)
    if m is None:
        return
    at = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
    line = line_of(src, at)
    evidence = [f"{DEV_C}:{line} {m.group(0).strip()} (NETDEV_REGISTER replay to a new "
                "notifier, RTNL held)"]
    loop = text.rfind("for_each_netdev(", 0, at)
    if loop >= 0:
        evidence.append(f"{DEV_C}:{line_of(src, loop)} loop: "
                        f"{text[loop:text.find(chr(10), loop)].strip()}")
    rb = re.search(r"(?m)^rollback:\s*\n\s*(for_each_netdev_continue_reverse\([^)]*\))", text[at:])
    if rb is not None:
        evidence.append(f"{DEV_C}:{line_of(src, at + rb.start(1))} rollback: {rb.group(1)} "
                        "-> call_netdevice_unregister_notifiers() on every earlier device")
    for c in re.finditer(r"(?m)^\s*err\s*=\s*(call_netdevice_register_net_notifiers)\(", text):
        evidence.append(f"{DEV_C}:{line_of(src, c.start(1))} replay entry: {c.group(1)}()")
    evidence.append("in-registration NETDEV_REGISTER already runs under the nd_lock: "
                    "__register_netdevice() is called with the lock attached and held "
                    "(stage 1 core)")
    yield Site(stage=6, template="core", outcome="review", file=DEV_C,
               function="call_netdevice_register_net_notifiers", line=line, start=at,
               end=at + len(m.group(0).strip()), rule=ctx.rule.id,
               reason=f"NETDEV_REGISTER replay to {m.group(2)} not put under "
               f"lock_netdev({m.group(3)}): lock_netdev() returns false for a device being "
               "unregistered, "
               "and skipping that device would make the rollback loop send "
               "NETDEV_UNREGISTER to a device that never got NETDEV_REGISTER; the skip needs "
               "the rollback to remember which devices were replayed (a human decision "
               "on the core's unwind)",
               evidence=evidence)
