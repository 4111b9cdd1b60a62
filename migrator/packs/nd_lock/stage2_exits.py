"""Stage 2, T6: how an outside caller leaves when lock_netdev() fails (a copy of an
earlier error exit, or a plain return when nothing is taken before the call).
"""

from __future__ import annotations

import re

from migrator.edit import cedit
from migrator.model.srctext import CODEC

# Calls that take something the error path of an earlier exit would not give back.
_ACQUIRE = re.compile(r"\b(?!\w*unlock)\w*(?:lock|alloc|_get|hold|_begin)\w*\s*\(")
_ERR_CONST = r"-E[A-Z0-9]+"


def _break_owner(node: cedit.Node) -> tuple[int, int] | None:
    owner = node.parent
    while owner is not None and owner.type not in ("for_statement", "while_statement",
                                                   "do_statement", "switch_statement"):
        owner = owner.parent
    return (owner.start_byte, owner.end_byte) if owner is not None else None


def _exit_shape(src: bytes, branch: cedit.Node, owner: tuple[int, int] | None
                ) -> list[str] | None:
    """Body for `if (!lock_netdev(...))` copied from an earlier error exit `branch`:
    `return -EFOO;`, `{ err = -EFOO; break|goto out; }` or `err = -EFOO; if (x) goto out;`."""
    if branch.type != "if_statement" or branch.child_by_field_name("alternative") is not None:
        return None
    body = branch.child_by_field_name("consequence")
    if body is None:
        return None
    stmts = ([c for c in body.named_children if c.type != "comment"]
             if body.type == "compound_statement" else [body])
    texts = [cedit.text(src, s).strip() for s in stmts]
    if len(stmts) == 1 and re.fullmatch(rf"return\s+{_ERR_CONST}\s*;", texts[0]):
        return ["\treturn -ENODEV;"]
    var = leave = None
    if len(stmts) == 2:
        m = re.fullmatch(rf"(\w+)\s*=\s*{_ERR_CONST}\s*;", texts[0])
        var, leave = (m.group(1) if m else None), stmts[1]
    elif len(stmts) == 1:
        prev = branch.prev_named_sibling
        m = re.fullmatch(rf"(\w+)\s*=\s*{_ERR_CONST}\s*;", cedit.text(src, prev).strip()) \
            if prev is not None else None
        var, leave = (m.group(1) if m else None), stmts[0]
    if var is None or leave is None:
        return None
    if (leave.type == "break_statement" and _break_owner(leave) == owner) or \
            leave.type == "goto_statement":
        return ["{", f"\t{var} = -ENODEV;", f"\t{cedit.text(src, leave).strip()}", "}"]
    return None


def _lock_failure(src: bytes, fn_node: cedit.Node, stmt: cedit.Node) -> tuple[list[str], str]:
    """How to leave when lock_netdev() fails: a copy of the nearest earlier error exit on
    the way to `stmt`, provided nothing is acquired between that exit and `stmt`."""
    owner = _break_owner(stmt)
    node: cedit.Node | None = stmt
    while node is not None and node.type != "function_definition":
        prev = node.prev_named_sibling
        while prev is not None:
            shape = _exit_shape(src, prev, owner)
            if shape is not None:
                between = src[prev.end_byte:stmt.start_byte].decode(*CODEC)
                grabbed = _ACQUIRE.search(between)
                if grabbed:
                    raise cedit.NeedsReview(
                        f"{grabbed.group(0).rstrip('( ')}() is called between the earlier "
                        f"error exit (line {prev.start_point[0] + 1}) and the call: no clean "
                        "exit for a lock_netdev() failure")
                return shape, (f"line {prev.start_point[0] + 1}: "
                               + " ".join(cedit.text(src, prev).split()))
            prev = prev.prev_named_sibling
        node = node.parent
    if not _returns_int(src, fn_node):
        raise cedit.NeedsReview("no earlier error exit to copy for a lock_netdev() failure "
                               "and the function does not return an int error")
    if _in_loop(src, stmt):
        raise cedit.NeedsReview("no earlier error exit to copy, and the call is inside a "
                               "loop: what earlier iterations took is not known")
    body = cedit.body(fn_node)
    grabbed = _ACQUIRE.search(src[body.start_byte:stmt.start_byte].decode(*CODEC))
    if grabbed:
        raise cedit.NeedsReview(
            f"no earlier error exit to copy, and {grabbed.group(0).rstrip('( ')}() is called "
            "before the call: no clean exit for a lock_netdev() failure")
    return ["\treturn -ENODEV;"], ("a plain return: nothing is taken before the call in "
                                   "this int function")


_ITER_MACRO = re.compile(r"\w*(?:for_each|foreach)\w*\s*\(")


def _in_loop(src: bytes, stmt: cedit.Node) -> bool:
    """`stmt` is inside a for/while/do loop or an iterator macro's block
    (`list_for_each_entry(...) { ... }`)."""
    node = stmt.parent
    while node is not None and node.type != "function_definition":
        if node.type in ("for_statement", "while_statement", "do_statement"):
            return True
        prev = node.prev_named_sibling if node.type == "compound_statement" else None
        if prev is not None and _ITER_MACRO.match(cedit.text(src, prev)):
            return True
        node = node.parent
    return False


def _returns_int(src: bytes, fn_node: cedit.Node) -> bool:
    """The function returns a plain `int` (an error code), not a pointer."""
    typ = fn_node.child_by_field_name("type")
    decl = fn_node.child_by_field_name("declarator")
    return typ is not None and cedit.text(src, typ) == "int" and decl is not None \
        and decl.type == "function_declarator"
