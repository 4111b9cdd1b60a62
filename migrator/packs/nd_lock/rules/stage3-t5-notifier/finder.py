"""stage3-t5-notifier (T5): register_netdevice() reached from the .notifier_call of a
notifier_block that is passed to register_netdevice_notifier*() (common.
netdev_notifier_roots(): other notifier blocks do not count, so it is not a plain
`reachable_from`; the chain is bound as the site's evidence). The registration runs
under another device's lock, so the new device gets a private lock (alloc_nd_lock(),
mutex_trylock(), attach) right before it. Review by default (option `t5`, --t5=rewrite
applies it), and review when the shape is none of those below. The calls it leaves are
the next rules' (stage3-t7-known-family, stage3-t3-t4-parent-or-private).

Shapes, all starting with `nd_lock = alloc_nd_lock();` + the registration's own error
branch on allocation failure + trylock + attach, right before the registration:
  stored:  `<err> = register_netdevice(<dev>);` + `if (<test of err>) <exit>`: detach on
           error and unlock between the two statements;
  tested:  `if (<test of register_netdevice(<dev>)>) <exit>`, with or without
           `(<err> = ...)`: detach + unlock first thing in the branch, unlock after the if;
  return:  `return register_netdevice(<dev>);`: the result goes through a variable.
The allocation failure sets <err> = -ENOMEM only where the registration stored its
result; where it did not, the branch returns whatever the function set beforehand,
exactly as a failing register_netdevice() did.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from migrator.callgraph import key
from migrator.edit import cedit
from migrator.edit.cedit import NeedsReview
from migrator.model import Edit, Site
from migrator.model.srctext import CODEC
from migrator.packs.nd_lock.common import netdev_notifier_roots, real_calls
from migrator.packs.nd_lock.stage3_shape import RENAMED, _decl, _located, _rename, _unlock_after
from migrator.rules.context import Candidate, RuleContext

# a fresh private lock: the trylock succeeds (nothing else holds it) and tells lockdep
_LOCK_COMMENT = "/* never contended: the trylock keeps lockdep quiet */"
_EXIT_TYPES = ("return_statement", "goto_statement", "break_statement", "continue_statement")
_RESULT_NAMES = ("err", "ret", "rc", "error")


def netdev_notifiers(ctx: RuleContext) -> dict[tuple[str, str], list[str]]:
    """Functions reachable from the .notifier_call of a notifier_block that is passed to
    register_netdevice_notifier*() somewhere in the index."""
    return ctx.graph.reach(netdev_notifier_roots(ctx))  # type: ignore[arg-type]


def find(ctx: RuleContext) -> Iterable[Site]:
    """Binds the chain from a netdevice notifier: only the notifier_blocks passed to
    register_netdevice_notifier*() count (netdev_notifier_roots), so it is not a plain
    `reachable_from`. T5: review unless `t5 = "rewrite"`."""
    notif = netdev_notifiers(ctx)
    rewrite = str(ctx.options.get("t5", "review")) == "rewrite"
    for cand, _ft, _node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        chain = notif.get(key(cand.function))
        if chain is None:
            continue
        cand.chain = chain
        if not rewrite:
            yield ctx.review(cand, reason="registration from a netdevice notifier: T5 "
                             "(private lock via alloc_nd_lock()/mutex_trylock()); "
                             "review by default, --t5=rewrite to apply")
            continue
        try:
            yield _t5(ctx, cand)
        except NeedsReview as exc:
            yield ctx.review(cand, reason=str(exc))
    yield from ctx.macro_sites(lambda c: key(c.function) in notif)
    yield from ctx.done_sites(lambda c: key(c.function) in notif)


def _t5(ctx: RuleContext, cand: Candidate) -> Site:
    """nd_lock = alloc_nd_lock(); if (!nd_lock) <the registration's error path>;
    trylock; attach; __register_netdevice(); detach on error; unlock."""
    src, dev, fn_node, stmt = _located(ctx, cand, "T5: ")
    if stmt.type == "return_statement":
        return _t5_return(ctx, cand, src, fn_node, stmt, dev)
    if stmt.type == "expression_statement":
        var = _stored_var(src, stmt, dev)
        check = cedit.following_statement(stmt)
        if check is None or check.type != "if_statement":
            raise NeedsReview(f"T5: no `if ({var}) ...` error branch right after the registration")
        if _failure_test(src, check, dev) != var:
            raise NeedsReview(f"T5: the branch after the registration does not test {var} alone")
    elif stmt.type == "if_statement":
        check, var = stmt, _failure_test(src, stmt, dev)
        if var is None:
            raise NeedsReview("T5: the if condition is not a failure test of the registration "
                         "alone (`if (register_netdevice(dev))`, `if ((err = ...))`, "
                         "`< 0`, `!= 0`, `unlikely()`)")
    elif stmt.type == "declaration":
        raise NeedsReview("T5: registration in the initializer of a declaration: the lock must "
                     "be allocated before it; split it into a declaration and "
                     "`err = register_netdevice(dev);`")
    else:
        raise NeedsReview(f"T5: registration inside a {stmt.type.replace('_', ' ')}: not a "
                     "stored result, an if condition or a return")
    failure, single = _error_branch(src, check)
    edits = _decl(ctx, cand, src, fn_node)
    edits.append(_alloc_before(ctx, cand, src, stmt, dev, var, failure, single))
    edits.append(_rename(ctx, cand))
    if stmt is check:
        edits.extend(_release_in_branch(ctx, cand, src, check, dev))
    else:
        edits.append(_unlock_after(ctx, cand, src, stmt, var, dev))
    evidence = [*cand.evidence(),
                f"allocation failure takes the registration's error branch (line "
                f"{check.start_point[0] + 1}: {cedit.text(src, check).splitlines()[0]}), "
                + (f"with {var} = -ENOMEM" if var else
                   "with the error value the function set before the registration")]
    return ctx.rewrite(cand, template="T5", edits=edits, evidence=evidence,
                       reason=f"T5: {dev} registered from a netdevice notifier on a private "
                       "lock taken with mutex_trylock()")


def _stored_var(src: bytes, stmt: cedit.Node, dev: str) -> str:
    m = re.fullmatch(rf"(\w+)\s*=\s*register_netdevice\s*\(\s*{re.escape(dev)}\s*\)\s*;",
                     cedit.text(src, stmt))
    if m is not None:
        return m.group(1)
    if re.fullmatch(rf"register_netdevice\s*\(\s*{re.escape(dev)}\s*\)\s*;",
                    cedit.text(src, stmt)):
        raise NeedsReview("T5: the result of register_netdevice() is ignored: there is no error "
                     "path for an alloc_nd_lock() failure to take")
    raise NeedsReview("T5: registration is not `<err> = register_netdevice(<dev>);`")


def _failure_test(src: bytes, check: cedit.Node, dev: str) -> str | None:
    """What the if tests, when it is true exactly when the registration failed: the
    variable tested or assigned in the condition, "" for the bare call, else None."""
    cond = check.child_by_field_name("condition")
    if cond is None:
        return None
    expr = re.sub(r"\s+", " ", cedit.text(src, cond)).strip()[1:-1].strip()
    m = re.fullmatch(r"unlikely ?\((.*)\)", expr)
    if m is not None:
        expr = m.group(1).strip()
    expr = re.sub(r" ?(?:<|!=) ?0$", "", expr)
    call = rf"register_netdevice ?\( ?{re.escape(dev)} ?\)"
    if re.fullmatch(call, expr):
        return ""
    m = re.fullmatch(rf"\( ?(\w+) ?= ?{call} ?\)", expr) or re.fullmatch(r"(\w+)", expr)
    return m.group(1) if m is not None else None


def _error_branch(src: bytes, check: cedit.Node) -> tuple[list[str], bool]:
    """The branch's lines, indented relative to the if (to be copied for the allocation
    failure), and whether it is a single statement."""
    if check.child_by_field_name("alternative") is not None:
        raise NeedsReview("T5: the registration's error test has an else branch")
    body = check.child_by_field_name("consequence")
    assert body is not None
    braced = body.type == "compound_statement"
    inner = body.named_children if braced else [body]
    stmts = [n for n in inner if n.type != "comment"]
    # The branch must never fall through: the lock is released in it or before it, and
    # the copy for the allocation failure must not go on to attach a NULL lock.
    if not stmts or stmts[-1].type not in _EXIT_TYPES:
        raise NeedsReview("T5: the registration's error branch does not end in return, goto, "
                     "break or continue")
    if any(n.type == "labeled_statement" for n in cedit.walk(body)):
        raise NeedsReview("T5: the registration's error branch holds a label: it cannot be "
                     "copied for the alloc_nd_lock() failure")
    ind = cedit.line_indent(src, check.start_byte)
    if braced:
        start = cedit.line_end(src, body.start_byte)
        end = cedit.line_start(src, body.end_byte - 1)
        if src[body.start_byte + 1:start].strip() or src[end:body.end_byte - 1].strip():
            raise NeedsReview("T5: error branch braces do not sit on their own lines")
    else:
        start, end = cedit.line_start(src, body.start_byte), cedit.line_end(src, body.end_byte)
        if src[start:body.start_byte].strip() or cedit.line_indent(
                src, body.start_byte) != ind + "\t":
            raise NeedsReview("T5: the un-braced error branch is not on its own line, one tab "
                         "deeper than its if")
        rest = src[body.end_byte:end].strip()
        if rest and not rest.startswith((b"/*", b"//")):
            raise NeedsReview("T5: the error branch does not end its line")
    lines = src[start:end].decode(*CODEC).rstrip("\n").split("\n")
    failure = [line[len(ind):] if line.startswith(ind) else line for line in lines]
    return failure, len(inner) == 1


def _alloc_before(ctx: RuleContext, cand: Candidate, src: bytes, stmt: cedit.Node, dev: str,
                  var: str, failure: list[str], single: bool) -> Edit:
    if var:
        fail = ["if (!nd_lock) {", f"\t{var} = -ENOMEM;", *failure, "}"]
    elif single:
        fail = ["if (!nd_lock)", *failure]
    else:
        fail = ["if (!nd_lock) {", *failure, "}"]
    edit = cedit.insert_before_statement(
        cand.call.file, src, stmt,
        ["nd_lock = alloc_nd_lock();", *fail, _LOCK_COMMENT,
         "WARN_ON_ONCE(!mutex_trylock(&nd_lock->mutex));", f"attach_nd_lock({dev}, nd_lock);"],
        ctx.rule.id)
    # Blank lines copied from the branch get no indentation (no trailing whitespace).
    return Edit(edit.file, edit.start, edit.end,
                re.sub(r"(?m)^[ \t]+$", "", edit.replacement), edit.rule)


def _release_in_branch(ctx: RuleContext, cand: Candidate, src: bytes, check: cedit.Node,
                       dev: str) -> list[Edit]:
    """Detach + unlock as the first thing of the error branch (braces added when it has
    none), unlock right after the if: the branch never falls through."""
    file, rule = cand.call.file, ctx.rule.id
    ind = cedit.line_indent(src, check.start_byte)
    release = f"{ind}\tdetach_nd_lock({dev});\n{ind}\tunlock_netdev(nd_lock);\n"
    body = check.child_by_field_name("consequence")
    cond = check.child_by_field_name("condition")
    assert body is not None and cond is not None
    if body.type == "compound_statement":
        at = cedit.line_end(src, body.start_byte)
        return [Edit(file, at, at, release, rule),
                cedit.insert_after_statement(file, src, check, ["unlock_netdev(nd_lock);"],
                                             rule)]
    if src[cond.end_byte:body.start_byte].strip():
        raise NeedsReview("T5: a comment sits between the if condition and its error branch")
    at = cedit.line_end(src, body.end_byte)
    return [Edit(file, cond.end_byte, body.start_byte, f" {{\n{release}{ind}\t", rule),
            Edit(file, at, at, f"{ind}}}\n{ind}unlock_netdev(nd_lock);\n", rule)]


def _t5_return(ctx: RuleContext, cand: Candidate, src: bytes, fn_node: cedit.Node,
               stmt: cedit.Node, dev: str) -> Site:
    """`return register_netdevice(dev);`: through a result variable, so that the lock is
    released before the return; -ENOMEM on allocation failure, as register_netdevice()
    itself returns when it cannot allocate the lock."""
    if not re.fullmatch(rf"return\s+register_netdevice\s*\(\s*{re.escape(dev)}\s*\)\s*;",
                        cedit.text(src, stmt)):
        raise NeedsReview("T5: the result of register_netdevice() is used inside another "
                     f"expression: `{cedit.text(src, stmt)}`")
    var, var_decl = _result_var(ctx, cand, src, fn_node)
    edits = _merge_decls([*_decl(ctx, cand, src, fn_node), *var_decl])
    edits.append(cedit.insert_before_statement(
        cand.call.file, src, stmt,
        ["nd_lock = alloc_nd_lock();", "if (!nd_lock)", "\treturn -ENOMEM;", _LOCK_COMMENT,
         "WARN_ON_ONCE(!mutex_trylock(&nd_lock->mutex));", f"attach_nd_lock({dev}, nd_lock);",
         f"{var} = {RENAMED}({dev});", f"if ({var})", f"\tdetach_nd_lock({dev});",
         "unlock_netdev(nd_lock);"], ctx.rule.id))
    edits.append(Edit(cand.call.file, stmt.start_byte, stmt.end_byte, f"return {var};",
                      ctx.rule.id))
    evidence = [*cand.evidence(),
                f"the result goes through {var}" + (" (new)" if var_decl else
                                                    " (its value is dead after the return)")
                + " so that nd_lock is released before returning"]
    return ctx.rewrite(cand, template="T5", edits=edits, evidence=evidence,
                       reason=f"T5: {dev} registered from a netdevice notifier on a private "
                       "lock taken with mutex_trylock()")


def _result_var(ctx: RuleContext, cand: Candidate, src: bytes, fn_node: cedit.Node
                ) -> tuple[str, list[Edit]]:
    """Like T0's _result_var (stage1-t0-register-netdev): an int err/ret/rc/error, else a
    new `int err;`. Only an int declared once, at the top of the body, is reused: one
    declared in an inner block may be out of scope or shadowed at the return."""
    fn = cand.function
    counts: dict[str, int] = {}
    for p in (*fn.params, *fn.locals):
        counts[p.name] = counts.get(p.name, 0) + 1
    top: set[str] = set()
    for child in cedit.body(fn_node).named_children:
        if child.type == "comment":
            continue
        if child.type != "declaration":
            break
        typ = child.child_by_field_name("type")
        if typ is None or cedit.text(src, typ) != "int" or any(
                c.type in ("storage_class_specifier", "type_qualifier") for c in child.children):
            continue
        for d in child.children_by_field_name("declarator"):
            name = d.child_by_field_name("declarator") if d.type == "init_declarator" else d
            if name is not None and name.type == "identifier":
                top.add(cedit.text(src, name))
    for name in _RESULT_NAMES:
        if name in top and counts.get(name) == 1:
            return name, []
    if "err" in counts or "err" in cedit.declared_names(src, fn_node):
        raise NeedsReview("T5: `return register_netdevice()` needs a result variable and `err` "
                     "is declared in an inner block or with another type; reusing it could "
                     "change behaviour")
    d = cedit.add_local_declaration(cand.call.file, src, fn_node, "int err;", ctx.rule.id)
    return "err", [d] if d is not None else []


def _merge_decls(edits: list[Edit]) -> list[Edit]:
    """Two declarations added where a body has none each come with a blank line after:
    keep one (the order of the edits is the order of the lines)."""
    if len(edits) == 2 and edits[0].start == edits[1].start == edits[0].end == edits[1].end \
            and edits[0].replacement.endswith("\n\n"):
        first, second = edits
        return [Edit(first.file, first.start, first.end,
                     first.replacement[:-1] + second.replacement, first.rule)]
    return edits
