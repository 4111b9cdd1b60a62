"""What several nd_lock finders share: families, notifier roots, the locks a function
holds. The edit helpers are migrator.edit.fntree (FnTree) and migrator.edit.cedit."""

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


# --- stage 3 helpers (wrappers around stage 2 / cedit, which other sessions own) ----------

ND_LOCK_DECL = "struct nd_lock *nd_lock;"
_NON_RTNL_ASSERT = re.compile(r"\blockdep_assert_held\s*\(\s*&?\s*([^)]+?)\s*\)")
_LOCK_CALL = re.compile(r"\b(mutex_lock\w*|spin_lock\w*|down_write|down_read|wiphy_lock|"
                        r"rtnl_net_lock|read_lock\w*|write_lock\w*)\s*\(\s*([^;]*?)\s*\)\s*;")
_UNLOCK_FOR = {"mutex_lock": "mutex_unlock", "spin_lock": "spin_unlock",
               "down_write": "up_write", "down_read": "up_read", "wiphy_lock": "wiphy_unlock",
               "read_lock": "read_unlock", "write_lock": "write_unlock"}


def other_rule_calls(ctx: object) -> dict[str, str]:
    """Selected call name -> id of the rule selecting it, for every rule but this one: a
    function so named *is* an API another rule migrates the callers of."""
    out: dict[str, str] = {}
    for rule in ctx.view.rules:  # type: ignore[attr-defined]
        if rule.id == ctx.rule.id:  # type: ignore[attr-defined]
            continue
        for name in rule.calls:
            out.setdefault(name, rule.id)
    return out


def asserted_locks(src: bytes, fn: FunctionDef) -> list[str]:
    """Locks other than RTNL the function asserts held (`lockdep_assert_held(&x->mtx)`):
    its callers hold them at the call."""
    body = src[fn.body_start:fn.body_end].decode(*CODEC)
    return [m.group(1) for m in _NON_RTNL_ASSERT.finditer(body) if "rtnl" not in m.group(1)]


def held_locks_before(src: bytes, fn: FunctionDef, offset: int) -> list[str]:
    """Locks taken in `fn` before `offset` and not released in between (textual: a
    `mutex_lock(&x)` without a later `mutex_unlock(&x)` before the offset)."""
    text = src[fn.body_start:offset].decode(*CODEC)
    held: list[str] = []
    for m in _LOCK_CALL.finditer(text):
        name, arg = m.group(1), re.sub(r"\s+", "", m.group(2))
        if name.startswith("rtnl") or "rtnl" in arg:
            continue
        base = re.sub(r"_(nested|interruptible|killable|irqsave|irq|bh|io)$", "", name)
        unlock = _UNLOCK_FOR.get(base, base.replace("lock", "unlock"))
        rest = text[m.end():]
        if not re.search(rf"\b{re.escape(unlock)}\w*\s*\(\s*{re.escape(m.group(2).strip())}",
                         rest):
            held.append(f"{name}({m.group(2).strip()})")
    return held
