"""Stage 3: register_netdevice() outside .newlink/.changelink.

Per call, in this order:
- the function is itself an API another rule migrates the callers of (e.g.
  register_netdev() in net/core): review "core API", never rewritten;
- configured fallback family (`families`): T7, the helper attaches
  &fallback_nd_lock and its in-tree callers take fallback_nd_lock.mutex around the
  call on every exit path; review when a caller already holds another lock there;
- reached from a netdevice notifier: T5, review unless `t5 = "rewrite"`;
- known, unconfigured family: review;
- else T3 (a parent device is identifiable) or T4 (private lock), rewritten when the
  statement shape and the error path are ones the templates cover.  The T0 form stage 1
  writes (`v = rtnl_lock_killable(); if (!v) { v = register_netdevice(d); ...`) is not a
  site: register_netdevice() gives the device its private lock by design.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from migrator.callgraph import key
from migrator.edit import cedit
from migrator.model import CallSite, Edit, FunctionDef, Site
from migrator.model.srctext import CODEC
from migrator.packs.nd_lock import stage1, stage2_common, stage2_outside
from migrator.packs.nd_lock.common import (
    ND_LOCK_DECL,
    FnTree,
    Unsafe,
    asserted_locks,
    held_locks_before,
    in_family,
    netdev_notifier_roots,
    other_rule_calls,
    real_calls,
)
from migrator.packs.nd_lock.common import NOTIFIER_REGISTER as _REGISTER
from migrator.rules.context import Candidate, RuleContext

NOTIFIER_REGISTER = tuple(_REGISTER)
FALLBACK_LOCK = "mutex_lock(&fallback_nd_lock.mutex);"
FALLBACK_UNLOCK = "mutex_unlock(&fallback_nd_lock.mutex);"
RENAMED = "__register_netdevice"


def netdev_notifiers(ctx: RuleContext) -> dict[tuple[str, str], list[str]]:
    """Functions reachable from the .notifier_call of a notifier_block that is passed to
    register_netdevice_notifier*() somewhere in the index."""
    return ctx.graph.reach(netdev_notifier_roots(ctx))  # type: ignore[arg-type]


def t3(ctx: RuleContext) -> Iterable[Site]:
    families = list(ctx.options.get("families", []))
    known = list(ctx.options.get("known_families", []))
    t5 = str(ctx.options.get("t5", "review"))
    notif = netdev_notifiers(ctx)
    api = other_rule_calls(ctx)
    for cand, ft, node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        k = key(cand.function)
        fam = in_family(cand.call.file, families)
        template = None
        try:
            if cand.function.name in api:
                yield ctx.site(cand, outcome="review", template="core",
                               reason=f"core API: {cand.function.name}() is itself the "
                               f"registration API migrated by rule {api[cand.function.name]}; "
                               "its lock handling belongs to the core patch")
                continue
            stmt = ft.statement_of(node)
            dev = cand.call.args[0] if cand.call.args else ""
            if fam:
                template = "T7"
                yield from _t7(ctx, cand, ft, node, stmt, dev, fam)
                continue
            if k in notif:
                cand.chain = notif[k]
                template = "T5"
                if t5 != "rewrite":
                    yield ctx.site(cand, outcome="review", template="T5",
                                   reason="registration from a netdevice notifier: T5 "
                                   "(private lock via alloc_nd_lock()/mutex_trylock()); "
                                   "review by default, --t5=rewrite to apply")
                    continue
                yield _t5(ctx, cand)
                continue
            kfam = in_family(cand.call.file, known)
            if kfam:
                yield ctx.site(cand, outcome="review", template="T7",
                               reason=f"fallback family {kfam}: configure it in `families` "
                               "to register on fallback_nd_lock")
                continue
            if stage1.is_t0_form(ft, node):
                # What stage 1 writes (the loopback reference): register_netdevice() under
                # the function's own rtnl_lock_killable() gives the device a private lock.
                continue
            parent = parent_candidates(ctx, cand.function, dev.strip(), cand.call.start)
            yield _t3_t4(ctx, cand, parent)
        except (Unsafe, cedit.CannotEdit) as exc:
            yield ctx.site(cand, outcome="review", template=template, reason=str(exc))


# --- shared shape -------------------------------------------------------------------------


def _located(ctx: RuleContext, cand: Candidate, tag: str = "", *, unbraced: bool = False
             ) -> tuple[bytes, str, cedit.Node, cedit.Node]:
    """(src, registered device, function node, statement holding the registration);
    `unbraced`: the statement may be the un-braced body of a branch (the edits then go
    through cedit.wrap()/guard(), which add the braces)."""
    call = cand.call
    src = ctx.index.source(call.file)
    dev = call.args[0].strip() if call.args else ""
    if not dev.isidentifier():
        raise Unsafe(f"{tag}registered device {dev!r} is not a plain variable")
    fn_node = cedit.function_node(src, call.start)
    if fn_node is None:
        raise Unsafe(f"{tag}function not re-parsed")
    if unbraced:
        return src, dev, fn_node, cedit.innermost_statement(fn_node, call.start)
    return src, dev, fn_node, cedit.enclosing_statement(fn_node, call.start)


def _shape(ctx: RuleContext, cand: Candidate) -> tuple[bytes, cedit.Node, cedit.Node, str, str]:
    """(src, function node, `<var> = register_netdevice(<dev>);` statement, var, dev)."""
    src, dev, fn_node, stmt = _located(ctx, cand, unbraced=True)
    if stmt.type != "expression_statement":
        raise Unsafe(f"registration inside a {stmt.type.replace('_', ' ')}: the result must "
                     "be stored in a variable first (`err = register_netdevice(dev);`)")
    m = re.fullmatch(rf"(\w+)\s*=\s*register_netdevice\s*\(\s*{re.escape(dev)}\s*\)\s*;",
                     cedit.text(src, stmt))
    if m is None:
        raise Unsafe("registration is not `<err> = register_netdevice(<dev>);`")
    return src, fn_node, stmt, m.group(1), dev


def _rename(ctx: RuleContext, cand: Candidate) -> Edit:
    call = cand.call
    src = ctx.index.source(call.file)
    end = call.start + len("register_netdevice")
    if src[call.start:end] != b"register_netdevice":
        raise Unsafe("source changed since indexing")
    return Edit(call.file, call.start, end, RENAMED, ctx.rule.id)


def _decl(ctx: RuleContext, cand: Candidate, src: bytes, fn_node: cedit.Node) -> list[Edit]:
    d = cedit.add_local_declaration(cand.call.file, src, fn_node, ND_LOCK_DECL, ctx.rule.id)
    return [d] if d is not None else []


def _unlock_after(ctx: RuleContext, cand: Candidate, src: bytes, stmt: cedit.Node, var: str,
                  dev: str) -> Edit:
    return cedit.insert_after_statement(
        cand.call.file, src, stmt,
        [f"if ({var})", f"\tdetach_nd_lock({dev});", "unlock_netdev(nd_lock);"], ctx.rule.id)


# --- T3 / T4 ------------------------------------------------------------------------------


def _t3_t4(ctx: RuleContext, cand: Candidate, found: tuple[str, str]) -> Site:
    fn = cand.function
    parent, why = found
    template = "T3" if parent else "T4"
    evidence = cand.evidence()
    try:
        src, fn_node, stmt, var, dev = _shape(ctx, cand)
        edits = _decl(ctx, cand, src, fn_node)
        if parent:
            evidence.append(f"parent device: {parent} ({why}); the child shares its nd_lock; "
                            f"{var} = {stage2_outside.LOCK_FAILED} when lock_netdev({parent}) "
                            "fails (the parent is being unregistered)")
        else:
            evidence.append(f"no parent device: {dev} gets a private nd_lock")
            attach = stage2_outside._attach_new_lock(ctx, fn, fn_node, src, dev, evidence, stmt)
            _no_exit_between(src, fn_node, attach.start, stmt, dev)
            edits.append(attach)
        edits.extend(stage2_outside.child_bracket(fn.file, src, stmt, var, dev, parent,
                                                  ctx.rule.id))
        edits.append(_rename(ctx, cand))
    except (Unsafe, cedit.CannotEdit) as exc:
        return ctx.site(cand, outcome="review", template=template, evidence=evidence,
                        reason=f"register_netdevice() outside .newlink/.changelink: "
                        f"{template} ({'parent ' + parent if parent else 'private lock'}) "
                        f"not applied: {exc}")
    reason = (f"T3: {dev} inherits the nd_lock of parent {parent}" if parent
              else f"T4: {dev} gets a private nd_lock outside rtnetlink")
    return ctx.site(cand, outcome="rewrite", template=template, edits=edits,
                    evidence=evidence, reason=reason)


def _no_exit_between(src: bytes, fn_node: cedit.Node, start: int, stmt: cedit.Node,
                     dev: str) -> None:
    """Between the attach (right after the allocation check) and the registration, an
    exit would free the device with the new lock still attached."""
    found = cedit.exits(src, fn_node, start, stmt.start_byte)
    if found:
        raise Unsafe(f"{len(found)} exit(s) between the allocation of {dev} and its "
                     f"registration ({found[0].describe(src)}) would leave the attached "
                     "lock behind")


# --- T5 -----------------------------------------------------------------------------------
#
# Shapes, all starting with `nd_lock = alloc_nd_lock();` + the registration's own error
# branch on allocation failure + trylock + attach, right before the registration:
#   stored:  `<err> = register_netdevice(<dev>);` + `if (<test of err>) <exit>`: detach on
#            error and unlock between the two statements;
#   tested:  `if (<test of register_netdevice(<dev>)>) <exit>`, with or without
#            `(<err> = ...)`: detach + unlock first thing in the branch, unlock after the if;
#   return:  `return register_netdevice(<dev>);`: the result goes through a variable.
# The allocation failure sets <err> = -ENOMEM only where the registration stored its
# result; where it did not, the branch returns whatever the function set beforehand,
# exactly as a failing register_netdevice() did.

_LOCK_COMMENT = "/* a fresh private lock: never contended, trylock keeps lockdep quiet */"
_EXIT_TYPES = ("return_statement", "goto_statement", "break_statement", "continue_statement")
_RESULT_NAMES = ("err", "ret", "rc", "error")


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
            raise Unsafe(f"T5: no `if ({var}) ...` error branch right after the registration")
        if _failure_test(src, check, dev) != var:
            raise Unsafe(f"T5: the branch after the registration does not test {var} alone")
    elif stmt.type == "if_statement":
        check, var = stmt, _failure_test(src, stmt, dev)
        if var is None:
            raise Unsafe("T5: the if condition is not a failure test of the registration "
                         "alone (`if (register_netdevice(dev))`, `if ((err = ...))`, "
                         "`< 0`, `!= 0`, `unlikely()`)")
    elif stmt.type == "declaration":
        raise Unsafe("T5: registration in the initializer of a declaration: the lock must "
                     "be allocated before it; split it into a declaration and "
                     "`err = register_netdevice(dev);`")
    else:
        raise Unsafe(f"T5: registration inside a {stmt.type.replace('_', ' ')}: not a "
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
    return ctx.site(cand, outcome="rewrite", template="T5", edits=edits, evidence=evidence,
                    reason=f"T5: {dev} registered from a netdevice notifier on a private "
                    "lock taken with mutex_trylock()")


def _stored_var(src: bytes, stmt: cedit.Node, dev: str) -> str:
    m = re.fullmatch(rf"(\w+)\s*=\s*register_netdevice\s*\(\s*{re.escape(dev)}\s*\)\s*;",
                     cedit.text(src, stmt))
    if m is not None:
        return m.group(1)
    if re.fullmatch(rf"register_netdevice\s*\(\s*{re.escape(dev)}\s*\)\s*;",
                    cedit.text(src, stmt)):
        raise Unsafe("T5: the result of register_netdevice() is ignored: there is no error "
                     "path for an alloc_nd_lock() failure to take")
    raise Unsafe("T5: registration is not `<err> = register_netdevice(<dev>);`")


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
        raise Unsafe("T5: the registration's error test has an else branch")
    body = check.child_by_field_name("consequence")
    assert body is not None
    braced = body.type == "compound_statement"
    inner = body.named_children if braced else [body]
    stmts = [n for n in inner if n.type != "comment"]
    # The branch must never fall through: the lock is released in it or before it, and
    # the copy for the allocation failure must not go on to attach a NULL lock.
    if not stmts or stmts[-1].type not in _EXIT_TYPES:
        raise Unsafe("T5: the registration's error branch does not end in return, goto, "
                     "break or continue")
    if any(n.type == "labeled_statement" for n in cedit.walk(body)):
        raise Unsafe("T5: the registration's error branch holds a label: it cannot be "
                     "copied for the alloc_nd_lock() failure")
    ind = cedit.line_indent(src, check.start_byte)
    if braced:
        start = cedit.line_end(src, body.start_byte)
        end = cedit.line_start(src, body.end_byte - 1)
        if src[body.start_byte + 1:start].strip() or src[end:body.end_byte - 1].strip():
            raise Unsafe("T5: error branch braces do not sit on their own lines")
    else:
        start, end = cedit.line_start(src, body.start_byte), cedit.line_end(src, body.end_byte)
        if src[start:body.start_byte].strip() or cedit.line_indent(
                src, body.start_byte) != ind + "\t":
            raise Unsafe("T5: the un-braced error branch is not on its own line, one tab "
                         "deeper than its if")
        rest = src[body.end_byte:end].strip()
        if rest and not rest.startswith((b"/*", b"//")):
            raise Unsafe("T5: the error branch does not end its line")
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
        raise Unsafe("T5: a comment sits between the if condition and its error branch")
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
        raise Unsafe("T5: the result of register_netdevice() is used inside another "
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
    return ctx.site(cand, outcome="rewrite", template="T5", edits=edits, evidence=evidence,
                    reason=f"T5: {dev} registered from a netdevice notifier on a private "
                    "lock taken with mutex_trylock()")


def _result_var(ctx: RuleContext, cand: Candidate, src: bytes, fn_node: cedit.Node
                ) -> tuple[str, list[Edit]]:
    """Like stage1._result_var (T0): an int err/ret/rc/error, else a new `int err;`. Only
    an int declared once, at the top of the body, is reused: one declared in an inner
    block may be out of scope or shadowed at the return."""
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
        raise Unsafe("T5: `return register_netdevice()` needs a result variable and `err` "
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


# --- T7 -----------------------------------------------------------------------------------


def _t7(ctx: RuleContext, cand: Candidate, ft: FnTree, node: cedit.Node, stmt: cedit.Node,
        dev: str, fam: str) -> Iterable[Site]:
    """The helper attaches &fallback_nd_lock; each in-tree caller of the helper takes
    fallback_nd_lock.mutex around the call, released on every exit. All or nothing."""
    helper = cand.function
    try:
        src, _fn_node, cstmt, var, dev = _shape(ctx, cand)
    except (Unsafe, cedit.CannotEdit) as exc:
        raise Unsafe(f"T7 ({fam}): {exc}") from exc
    try:
        edits = [*cedit.wrap(helper.file, src, cstmt,
                             [f"attach_nd_lock({dev}, &fallback_nd_lock);"],
                             [f"if ({var})", f"\tdetach_nd_lock({dev});"], ctx.rule.id),
                 _rename(ctx, cand)]
    except cedit.CannotEdit as exc:
        raise Unsafe(f"T7 ({fam}): {exc}") from exc
    asserted = asserted_locks(ctx.index.source(helper.file), helper)
    callers = [c for c in ctx.graph.callers(helper) if not c.via_member]
    plans: list[tuple[object, Site]] = []
    # callers that cannot take fallback_nd_lock.mutex around the call: each is a place a
    # human must change, listed as its own review site (the lock it holds as evidence)
    problems: list[Site] = []
    registers = (f"{helper.name}() registers on fallback_nd_lock "
                 f"({cand.call.file}:{cand.call.line})")
    for call in callers:
        caller = ctx.index.function(call.file, call.caller)
        where = f"{call.file}:{call.line} {call.caller}()"
        calls = f"{where} calls {helper.name}({', '.join(call.args)})"

        def problem(why: str, evidence: list[str], call: CallSite = call,
                    calls: str = calls) -> Site:
            return Site(stage=ctx.rule.stage, template="T7", outcome="review",
                        file=call.file, function=call.caller, line=call.line,
                        start=call.start, end=call.end, rule=ctx.rule.id,
                        reason=f"T7 ({fam}) not applied: {why}",
                        evidence=[calls, *evidence, registers])

        if caller is None:
            problems.append(problem(f"{call.caller}() is not indexed", []))
            continue
        csrc = ctx.index.source(call.file)
        held = held_locks_before(csrc, caller, call.start)
        if asserted or held:
            problems.append(problem(
                f"{call.caller}() holds {', '.join([*held, *asserted])} at the call: "
                "fallback_nd_lock.mutex goes after RTNL and before the subsystem's own lock, "
                "so it must be taken where that lock is taken, not around the call",
                [*(f"lock held: {lock} taken earlier in {call.caller}()" for lock in held),
                 *(f"lock held: {lock} ({helper.name}() asserts it held: "
                   f"{helper.file}:{helper.line})" for lock in asserted)]))
            continue
        cft = FnTree(csrc, caller, ctx.rule.id)
        try:
            cnode = cft.call_at(call.start, call.end)
            cstmt = cft.statement_of(cnode)
            if cft.preceded_by(cstmt, FALLBACK_LOCK):
                continue
            cedits = cft.bracket([cstmt], FALLBACK_LOCK, FALLBACK_UNLOCK)
        except Unsafe as exc:
            problems.append(problem(str(exc), []))
            continue
        plans.append((call, Site(
            stage=ctx.rule.stage, template="T7", outcome="rewrite", file=call.file,
            function=call.caller, line=call.line, start=call.start, end=call.end,
            rule=ctx.rule.id, edits=cedits,
            reason=f"T7: caller of {helper.name}() holds fallback_nd_lock.mutex",
            evidence=[calls, registers])))
    if problems:
        for _call, site in plans:
            site.outcome, site.edits = "review", []
            site.reason = f"T7 caller not bracketed: another caller of {helper.name}() " \
                          "needs a human (listed as its own site)"
        yield ctx.site(cand, outcome="review", template="T7",
                       evidence=[*cand.evidence(), *(
                           f"caller {p.file}:{p.line} {p.function}(): review site of its own"
                           for p in problems)],
                       reason=f"T7 ({fam}): {len(problems)} caller(s) of {helper.name}() "
                       "cannot take fallback_nd_lock.mutex around the call")
        yield from problems
        yield from (s for _, s in plans)
        return
    notes = [f"caller {c.file}:{c.line} {c.caller}() brackets the call" for c, _ in plans]
    if not callers:
        notes.append("no in-tree caller found: callers must take fallback_nd_lock.mutex "
                     "(after RTNL, before the subsystem lock" +
                     (f" {', '.join(asserted)}" if asserted else "") + ")")
    yield ctx.site(cand, outcome="rewrite", template="T7", edits=edits,
                   evidence=[*cand.evidence(), *notes],
                   reason=f"T7: fallback family {fam} registers on fallback_nd_lock")
    yield from (s for _, s in plans)


def parent_candidates(ctx: RuleContext, fn: FunctionDef, child: str, call_start: int
                      ) -> tuple[str, str]:
    """A parent device for a device `fn` registers itself: another struct net_device *
    parameter of `fn` (e.g. the lower device a child is created on), else the device the
    stage 2 detection finds through the upper-link field (stage2_outside._parent_device
    with `fn` as both helper and caller)."""
    for p in fn.params:
        if p.name and p.name != child and stage2_common.NET_DEVICE_PTR.search(p.type):
            return p.name, f"struct net_device *{p.name} parameter of {fn.name}()"
    src = ctx.index.source(fn.file)  # type: ignore[attr-defined]
    for call in ctx.index.calls_in(fn):  # type: ignore[attr-defined]
        if call.start == call_start:
            parent, why = stage2_outside._parent_device(ctx, fn, fn, call, child, child, src)  # type: ignore[arg-type]
            if parent and parent != child:
                return parent, why
    return "", ""
