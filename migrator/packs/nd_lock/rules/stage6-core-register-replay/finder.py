"""stage6-core-register-replay (--with-core): the NETDEV_REGISTER replay of
register_netdevice_notifier*() to a new notifier block, in `core_source`
(net/core/dev.c), runs under the replayed device's nd_lock. Each
`call_netdevice_notifier(nb, NETDEV_REGISTER, dev)` is a site: already done when its
function takes lock_netdev() before it; a rewrite (lock_netdev() before the statement,
unlock_netdev() after it) when the shape makes it safe (see find()); review otherwise,
with the replay's caller, its rollback and its entry points as evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from migrator.edit import cedit
from migrator.edit.edits import byte_offset, line_of
from migrator.model import Site
from migrator.model.srctext import CODEC
from migrator.packs.nd_lock.common import Node
from migrator.parse.tree import function_def
from migrator.rules.context import At, RuleContext

REPLAY_NOTIFY = "call_netdevice_notifier"  # one notifier block, one event, one device
LOCK_FAIL_ERR = "-ENODEV"


def find(ctx: RuleContext) -> Iterable[Site]:
    """--with-core: the NETDEV_REGISTER replay of register_netdevice_notifier*() to a new
    notifier block runs under the replayed device's nd_lock.

    The bracket is `if (!lock_netdev(dev, &nd_lock)) return -ENODEV;` before the
    `err = call_netdevice_notifier(nb, NETDEV_REGISTER, dev);` statement and
    `unlock_netdev(nd_lock);` after it.  It is derived safe from the function itself:
    it must already leave with the notifier's error right after that call, before any
    other event reaches the device.  Callers then already treat a failure as "this
    device got nothing" (the rollback unwinds only the devices before it), so a device
    whose lock cannot be taken takes the same exit.  Any other shape is review."""
    if not ctx.options.get("with_core"):
        return
    path = str(ctx.options.get("core_source", "net/core/dev.c"))
    try:
        src = ctx.index.source(path)
    except OSError:
        return
    text = src.decode(*CODEC)
    pattern = re.compile(REPLAY_NOTIFY + r"\s*\(\s*(\w+)\s*,\s*NETDEV_REGISTER\s*,\s*(\w+)\s*\)")
    for m in pattern.finditer(text):
        at = byte_offset(text, m.start())
        fn_node = cedit.function_node(src, at)
        if fn_node is not None and b"lock_netdev(" in src[fn_node.start_byte:at]:
            # converted by an earlier run or by hand
            fdef = function_def(src, fn_node)
            yield ctx.already_done(At(path, fdef.name if fdef is not None else "",
                                      line_of(src, at), at, at))
            continue
        yield _core_site(ctx, path, src, text, at, m.group(1), m.group(2))


def _core_site(ctx: RuleContext, path: str, src: bytes, text: str, at: int, nb: str,
               dev: str) -> Site:
    line = line_of(src, at)
    fn_node = cedit.function_node(src, at)
    fdef = function_def(src, fn_node) if fn_node is not None else None
    name = fdef.name if fdef is not None else ""
    evidence = [f"{path}:{line} NETDEV_REGISTER replayed to notifier block {nb} for "
                f"{dev} in {name}()"]
    evidence.extend(_replay_context(path, src, text, name))

    def review(why: str) -> Site:
        return ctx.review(At(path, name, line, at, at),
                          f"NETDEV_REGISTER replay not put under lock_netdev({dev}): {why}",
                          evidence=evidence)

    if fn_node is None or fdef is None:
        return review("the call is not inside a function definition")
    if dev not in {p.name for p in fdef.params}:
        return review(f"{dev} is not a parameter of {name}(); the device to lock is unclear")
    try:
        stmt = cedit.enclosing_statement(fn_node, at)
    except cedit.NeedsReview as exc:
        return review(str(exc))
    var = _assigned_var(src, stmt, at)
    if var is None:
        return review("the notifier's result is not stored in a variable")
    leave = _error_return_after(src, stmt, var)
    if leave is None:
        return review(f"{name}() does not return {var} right after the call, before any "
                      "other event reaches the device; a lock failure would need a new "
                      "unwind in the callers")
    exit_text = " ".join(cedit.text(src, leave).split())
    evidence.append(f"{path}:{line_of(src, leave.start_byte)} {exit_text} is "
                    "the existing exit for a device that got no NETDEV_REGISTER; a failed "
                    f"lock_netdev() takes it with {LOCK_FAIL_ERR}")
    try:
        edits = [e for e in (cedit.add_local_declaration(path, src, fn_node,
                                                         "struct nd_lock *nd_lock;",
                                                         ctx.rule.id),) if e is not None]
        edits.append(cedit.insert_before_statement(path, src, stmt, [
            "/* The replayed event runs under the device's nd_lock, like the one",
            " * __register_netdevice() sends.  A device whose lock cannot be taken",
            " * (it is being unregistered) fails the replay like a notifier error.",
            " */",
            f"if (!lock_netdev({dev}, &nd_lock))",
            f"\treturn {LOCK_FAIL_ERR};"], ctx.rule.id))
        edits.append(cedit.insert_after_statement(path, src, stmt, ["unlock_netdev(nd_lock);"],
                                                  ctx.rule.id))
    except cedit.NeedsReview as exc:
        return review(str(exc))
    return ctx.rewrite(At(path, name, line, stmt.start_byte, stmt.end_byte), edits,
                       f"NETDEV_REGISTER replay to a new notifier under lock_netdev({dev})",
                       evidence=evidence)


def _assigned_var(src: bytes, stmt: Node, at: int) -> str | None:
    """`v` of the statement `v = call_netdevice_notifier(...);` holding offset `at`."""
    if stmt.type != "expression_statement" or not stmt.named_children:
        return None
    expr = stmt.named_children[0]
    left = expr.child_by_field_name("left")
    right = expr.child_by_field_name("right")
    if expr.type != "assignment_expression" or left is None or right is None \
            or left.type != "identifier" or right.start_byte != at:
        return None
    return cedit.text(src, left)


def _error_return_after(src: bytes, stmt: Node, var: str) -> Node | None:
    """The `if (var) return var;` that follows `stmt`, allowing only `var = f(var);`
    conversions (notifier_to_errno()) in between."""
    node = cedit.following_statement(stmt)
    convert = re.compile(rf"{var}\s*=\s*\w+\(\s*{var}\s*\)\s*;")
    while node is not None and node.type == "expression_statement" \
            and convert.fullmatch(cedit.text(src, node)):
        node = cedit.following_statement(node)
    if node is None or node.type != "if_statement" or \
            node.child_by_field_name("alternative") is not None:
        return None
    cond = node.child_by_field_name("condition")
    body = node.child_by_field_name("consequence")
    if cond is None or body is None or \
            re.fullmatch(rf"\(\s*{var}\s*\)", cedit.text(src, cond)) is None:
        return None
    if body.type == "compound_statement" and len(body.named_children) == 1:
        body = body.named_children[0]
    if body.type != "return_statement" or \
            re.fullmatch(rf"return\s+{var}\s*;", cedit.text(src, body)) is None:
        return None
    return node


def _replay_context(path: str, src: bytes, text: str, name: str) -> list[str]:
    """Where the replay is called from, how that caller unwinds, and where the caller is
    entered (register_netdevice_notifier*()): evidence for the reader."""
    out = []
    for c in re.finditer(rf"(?m)^[ \t]*\w+\s*=\s*{name}\s*\(", text) if name else ():
        at = c.start() + len(c.group(0)) - len(c.group(0).lstrip())
        out.append(f"{path}:{line_of(src, byte_offset(text, at))} caller: "
                   f"{text[at:text.find(chr(10), at)].strip()}")
        # The unwind the caller's error exit runs: the next reverse walk after the call.
        rb = re.compile(r"for_each_netdev_continue_reverse\([^)]*\)").search(text, at)
        if rb is not None:
            out.append(f"{path}:{line_of(src, byte_offset(text, rb.start()))} rollback: "
                       f"{rb.group(0)} -> NETDEV_UNREGISTER to the devices before the "
                       "failing one only")
        outer = cedit.function_node(src, byte_offset(text, at))
        outer_def = function_def(src, outer) if outer is not None else None
        entry = outer_def.name if outer_def is not None else ""
        for e in re.finditer(rf"(?m)^[ \t]*\w+\s*=\s*({entry})\s*\(", text) if entry else ():
            out.append(f"{path}:{line_of(src, byte_offset(text, e.start(1)))} replay entry: "
                       f"{entry}()")
    return out
