"""Stage 2, T6: the `struct nd_lock *nd_lock` parameter added to a family's
definitions, calls, kernel-doc and prototypes (text edits of parameter/argument lists).
"""

from __future__ import annotations

import re

from migrator.edit import cedit
from migrator.index.discover import grep_hits, is_git_tree
from migrator.model import Edit, FunctionDef
from migrator.model.srctext import CODEC
from migrator.rules.context import RuleContext

ND_LOCK_PARAM = "struct nd_lock *nd_lock"
KDOC_ND_LOCK = "@nd_lock: lock to attach the new device to"


def _match_paren(src: bytes, open_paren: int) -> int:
    depth = 0
    for i in range(open_paren, len(src)):
        c = src[i:i + 1]
        if c == b"(":
            depth += 1
        elif c == b")":
            depth -= 1
            if depth == 0:
                return i
    raise cedit.NeedsReview("unbalanced parentheses")


def _append_arg(file: str, src: bytes, open_paren: int, close_paren: int, arg: str,
                rule: str) -> Edit:
    """`arg` as a new last argument/parameter; wrapped under the open parenthesis when the
    line would pass 80 columns."""
    inner = src[open_paren + 1:close_paren].decode(*CODEC)
    if inner.strip() in ("", "void"):
        return Edit(file, open_paren + 1, close_paren, arg, rule)
    head = src[cedit.line_start(src, close_paren):close_paren].decode(*CODEC)
    tail = src[close_paren:cedit.line_end(src, close_paren)].decode(*CODEC).rstrip("\n")
    if len((head.rstrip() + ", " + arg + tail).expandtabs(8)) <= 80:
        at = close_paren - (len(head) - len(head.rstrip()))
        return Edit(file, at, close_paren, ", " + arg, rule)
    if cedit.line_start(src, open_paren) != cedit.line_start(src, close_paren):
        # already a continuation line: keep the style the list uses
        indent = cedit.line_indent(src, close_paren)
    else:
        lead = src[cedit.line_start(src, open_paren):open_paren + 1].decode(*CODEC)
        col = len(lead.expandtabs(8))
        indent = "\t" * (col // 8) + " " * (col % 8)
    at = close_paren - (len(head) - len(head.rstrip()))
    return Edit(file, at, close_paren, ",\n" + indent + arg, rule)


def _param_list(src: bytes, fn: FunctionDef) -> tuple[int, int]:
    fn_node = cedit.function_node(src, fn.body_start)
    if fn_node is None:
        raise cedit.NeedsReview(f"{fn.name}() not re-parsed")
    for n in cedit.walk(fn_node):
        if n.type == "function_declarator":
            name = n.child_by_field_name("declarator")
            params = n.child_by_field_name("parameters")
            if name is not None and params is not None and cedit.text(src, name) == fn.name:
                return params.start_byte, params.end_byte - 1
    raise cedit.NeedsReview(f"parameter list of {fn.name}() not found")


def _kdoc_edit(file: str, src: bytes, def_start: int, name: str, rule: str) -> Edit | None:
    """` * @nd_lock: ...` after the last parameter of the kernel-doc comment right above
    `def_start` (None when there is no kernel-doc with a parameter list)."""
    head = src[:def_start]
    end = len(head.rstrip())
    if not head[:end].endswith(b"*/"):
        return None
    start = head.rfind(b"/**", 0, end)
    if start < 0 or b"*/" in head[start:end - 2]:
        return None
    comment = head[start:end]
    if not re.search(rb"(?m)^\s*\*\s*" + re.escape(name.encode()) + rb"(?:\(\))?\s+-", comment):
        return None
    if re.search(rb"@nd_lock\s*:", comment):
        return None
    insert_at = None
    prefix = b" * "
    in_param = False
    for m in re.finditer(rb"(?m)^[^\n]*\n", head[start:end + 1]):
        line = m.group(0)
        pm = re.match(rb"(\s*\*\s*)@\w+\s*:", line)
        if pm:
            in_param, prefix, insert_at = True, pm.group(1), start + m.end()
        elif in_param and re.match(rb"\s*\*\s+\S", line) and not re.match(
                rb"\s*\*\s+\w[\w ]*:", line) and not line.strip().startswith(b"*/"):
            insert_at = start + m.end()  # continuation of the last parameter
        else:
            in_param = False
    if insert_at is None:
        return None
    return Edit(file, insert_at, insert_at,
                prefix.decode(*CODEC) + KDOC_ND_LOCK + "\n", rule)


def _text_references(ctx: RuleContext, members: list[FunctionDef]
                     ) -> dict[str, list[int]]:
    """Offsets of every whole-word occurrence of the members' names in the tree's C files
    where they can be seen (static: their own file)."""

    out: dict[str, list[int]] = {}
    global_names = {f.name for f in members if not f.is_static}
    paths: set[str] = {f.file for f in members}
    if global_names:
        paths |= set(grep_hits(ctx.view.tree, global_names,
                               git=is_git_tree(ctx.view.tree), files_only=True))
    for path in sorted(paths):
        names = [f.name for f in members if not f.is_static or f.file == path]
        if not names:
            continue
        src = ctx.index.source(path)
        pattern = re.compile(rb"\b(?:" + b"|".join(re.escape(n.encode()) for n in names) +
                             rb")\b")
        out[path] = [m.start() for m in pattern.finditer(src)]
    return out


def _prototype_edit(ctx: RuleContext, path: str, src: bytes, at: int, name: str
                    ) -> Edit | None:
    """The parameter edit of a file-scope prototype `type name(...);` at `at`."""
    line_start = cedit.line_start(src, at)
    prefix = src[line_start:at].decode(*CODEC)
    if not re.fullmatch(r"(?:\w+[ \t]+|\w+[ \t]*\*+[ \t]*)+\**", prefix) or \
            prefix.split()[0] in ("return", "else", "case", "goto", "do"):
        return None
    m = re.compile(rb"\s*\(").match(src, at + len(name))
    if m is None:
        return None
    close = _match_paren(src, m.end() - 1)
    if not re.match(rb"\s*(?:__\w+(?:\([^;]*?\))?\s*)*;", src[close + 1:close + 200]):
        return None
    return _append_arg(path, src, m.end() - 1, close, ND_LOCK_PARAM, ctx.rule.id)
