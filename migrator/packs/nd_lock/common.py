"""What several nd_lock finders share: a rule's calls re-located in the parsed function
(real_calls) and the netdevice notifier roots (stage 3's T5, stage 4, stage 6's report).
The edit helpers are migrator.edit.fntree (FnTree) and migrator.edit.cedit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from migrator.callgraph import Root
from migrator.edit.edits import line_of
from migrator.edit.fntree import FnTree, Node
from migrator.model import FunctionDef, StructInit
from migrator.model.srctext import CODEC
from migrator.rules.context import Candidate


def real_calls(ctx: object, names: tuple[str, ...] | None = None
               ) -> Iterator[tuple[object, FnTree, Node]]:
    """(candidate, parsed function, call node) for each call of the rule's names.

    Calls are re-located in the re-parsed function rather than taken from the index
    offsets, so each site's line and range are those of the call itself."""
    seen: set[tuple[str, str]] = set()
    for cand in ctx.candidates:  # type: ignore[attr-defined]
        k = (cand.function.file, cand.function.name)
        if k in seen:
            continue
        seen.add(k)
        src = ctx.index.source(cand.function.file)  # type: ignore[attr-defined]
        ft = FnTree(src, cand.function, ctx.rule.id)  # type: ignore[attr-defined]
        taken = ctx.taken  # type: ignore[attr-defined]
        for name in names or ctx.rule.calls:  # type: ignore[attr-defined]
            for node in ft.calls(name):
                if (cand.call.file, ft.start(node)) in taken:
                    continue  # claimed by a rule this one runs after
                args = node.child_by_field_name("arguments")
                call = replace(
                    cand.call, callee=name, start=ft.start(node), end=ft.end(node),
                    line=line_of(src, ft.start(node)),
                    args=tuple(ft.text(a) for a in (args.named_children if args else [])
                               if a.type != "comment"))
                yield Candidate(call, cand.function, cand.chain, cand.root,
                                cand.binds), ft, node


# --- netdevice notifiers ------------------------------------------------------------------

# Registration function -> position of the notifier_block argument.
NOTIFIER_REGISTER: dict[str, int] = {
    "register_netdevice_notifier": 0,
    "register_netdevice_notifier_net": 1,
    "register_netdevice_notifier_dev_net": 1,
}


def notifier_arg(call: object) -> str | None:
    """The notifier_block expression a register_netdevice_notifier*() call passes."""
    pos = NOTIFIER_REGISTER.get(call.callee)  # type: ignore[attr-defined]
    args = call.args  # type: ignore[attr-defined]
    if pos is None or pos >= len(args):
        return None
    return re.sub(r"\s+", "", args[pos])


def netdev_notifier_roots(ctx: object) -> list[object]:
    """Roots (`.notifier_call` handlers) of the notifier_blocks that are passed to a
    register_netdevice_notifier*() call: static initializers (`static struct
    notifier_block x = { .notifier_call = f }`, matched by variable name, same file
    first) and run-time assignments in the registering file (`priv->nb.notifier_call =
    f;` for `&priv->nb`)."""
    index, graph = ctx.index, ctx.graph  # type: ignore[attr-defined]
    inits_by_var: dict[str, list[StructInit]] = {}
    for init in index.inits_of("notifier_block"):
        if init.var:
            inits_by_var.setdefault(init.var, []).append(init)
    out: list[Root] = []
    seen: set[tuple[str, str, str]] = set()

    def add(fn: FunctionDef, init: StructInit) -> None:
        k = (fn.file, fn.name, init.var)
        if k not in seen:
            seen.add(k)
            out.append(Root(fn, init, "notifier_call"))

    for call in index.calls():
        expr = notifier_arg(call)
        if not expr:
            continue
        var = expr.lstrip("&")
        if var.isidentifier() and var in inits_by_var:
            inits = inits_by_var[var]
            same = [i for i in inits if i.file == call.file]
            for init in same or inits:
                value = init.member("notifier_call")
                if value and value.isidentifier():
                    for fn in graph.resolve_name(init.file, value):
                        add(fn, init)
            continue
        field = re.split(r"->|\.", var)[-1]
        if not field.isidentifier():
            continue
        src = index.source(call.file).decode(*CODEC)
        pats = (rf"(?:->|\.|\b){re.escape(field)}\s*\.\s*notifier_call\s*=\s*(\w+)\s*;",
                rf"\.{re.escape(field)}\s*=\s*\{{\s*\.notifier_call\s*=\s*(\w+)")
        for pat in pats:
            for m in re.finditer(pat, src):
                line = src.count("\n", 0, m.start()) + 1
                init = StructInit(call.file, var, "notifier_block", m.start(), m.end(),
                                  m.start(), m.end(), line, False,
                                  (("notifier_call", m.group(1)),))
                for fn in graph.resolve_name(call.file, m.group(1)):
                    add(fn, init)
    out.sort(key=lambda r: (r.function.file, r.function.name))
    return out
