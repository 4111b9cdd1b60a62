"""Stage 2 analyses: T2 peer inherits, T3/T4/T6 callers outside rtnetlink, link_deps.

Every decision is derived from the code of the tree (assignments, error branches,
parameter positions); when a shape is not one the templates cover, the site is a
review with the evidence that led there, never a partial rewrite.

T1 (the renames) stays data (rules/stage2-t1-*.toml). T2 inserts whole lines at the
start of a statement's line, which never shares a byte with T1's rename of the callee,
so both rules edit the same statement without conflict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from migrator.callgraph import FnKey, Root, key
from migrator.edit import cedit
from migrator.edit.edits import line_of
from migrator.index.discover import grep_hits, is_git_tree
from migrator.model import CallSite, Edit, FunctionDef, Site, StructInit
from migrator.model.srctext import CODEC
from migrator.packs.nd_lock import core
from migrator.rules.context import Candidate, RuleContext

NEWLINK_ROOTS = ("rtnl_link_ops.newlink", "rtnl_link_ops.changelink")
NET_DEVICE_PTR = re.compile(r"\bstruct\s+net_device\s*\*")
_ASSIGN_FROM_CALL = r"(?m)^\s*{var}\s*=\s*(\w+)\s*\("
LOCK_FROM_DEV = "rcu_dereference_protected({dev}->nd_lock, true)"
UPPER_LINK_CALLS = ("netdev_upper_dev_link", "netdev_master_upper_dev_link")


def _site(ctx: RuleContext, fn: FunctionDef, offset: int, end: int, *, template: str,
          outcome: str, reason: str, evidence: list[str], edits: list[Edit] | None = None
          ) -> Site:
    src = ctx.index.source(fn.file)
    return Site(stage=ctx.rule.stage, template=template, outcome=outcome,  # type: ignore[arg-type]
                file=fn.file, function=fn.name, line=line_of(src, offset), start=offset,
                end=end, rule=ctx.rule.id, reason=reason, evidence=evidence,
                edits=edits or [])


def _net_device_params(fn: FunctionDef) -> list[str]:
    return [p.name for p in fn.params if p.name and NET_DEVICE_PTR.search(p.type)]


def _first_arg(call: CallSite) -> str:
    return call.args[0].strip() if call.args else ""


# --- T2 -------------------------------------------------------------------------------------


def _error_branch(src: bytes, stmt: cedit.Node, var: str) -> cedit.Node | None:
    """The first `if (<var> ...)` after `stmt` in its block (the registration's error
    test, possibly after unrelated statements such as `put_net(net);`)."""
    for following in list(cedit.statements_from(stmt))[1:6]:
        if following.type == "if_statement":
            cond = following.child_by_field_name("condition")
            if cond is not None and re.search(rf"\b{re.escape(var)}\b", cedit.text(src, cond)):
                return following
    return None


def _free_netdev_on_path(src: bytes, fn_node: cedit.Node, branch: cedit.Node,
                         dev: str) -> cedit.Node | None:
    """Statement `free_netdev(dev);` reached from the error branch: inside it, or at the
    label it jumps to (before the next return)."""
    consequence = branch.child_by_field_name("consequence")
    places: list[cedit.Node] = []
    if consequence is not None:
        places.extend(consequence.named_children if consequence.type == "compound_statement"
                      else [consequence])
    label = cedit.error_goto_after(src, branch)
    if label:
        target = cedit.labels(src, fn_node).get(label)
        if target is not None:
            places.extend(cedit.statements_from(target))
    for stmt in places:
        if stmt.type == "labeled_statement":
            continue
        for call in cedit.calls_named(src, stmt, ["free_netdev"]):
            args = call.child_by_field_name("arguments")
            if args is not None and cedit.text(src, args).strip("() ") == dev:
                return stmt
        if stmt.type in ("return_statement",):
            break
    return None


def peer_inherits(ctx: RuleContext) -> list[Site]:
    """T2: a newlink that registers a device it created itself (the peer) attaches the
    peer to the new device's lock first and detaches it before freeing it on failure."""
    sites = []
    for cand in ctx.candidates:
        fn, call = cand.function, cand.call
        peer = _first_arg(call)
        devs = [d for d in _net_device_params(fn) if d != peer]
        if not peer.isidentifier() or not devs:
            continue
        src = ctx.index.source(fn.file)
        body = src[fn.body_start:fn.body_end].decode(*CODEC)
        created = re.search(_ASSIGN_FROM_CALL.format(var=re.escape(peer)), body)
        if created is None:
            continue  # registers its own `dev` or a device from elsewhere: T1 only
        dev = devs[0]
        evidence = [*cand.evidence(), f"peer device {peer} created by {created.group(1)}() in "
                    f"{fn.name}; new device is parameter {dev}"]
        fn_node = cedit.function_node(src, call.start)
        try:
            if fn_node is None:
                raise cedit.CannotEdit("function not re-parsed")
            stmt = cedit.enclosing_statement(fn_node, call.start)
            before = src[max(fn.body_start, stmt.start_byte - 200):stmt.start_byte]
            if b"attach_nd_lock(" + peer.encode() in before:
                continue  # already converted
            edits = [cedit.insert_before_statement(
                fn.file, src, stmt,
                [f"attach_nd_lock({peer}, {LOCK_FROM_DEV.format(dev=dev)});"], ctx.rule.id)]
            var = _result_var(src, stmt, call)
            cond = stmt.child_by_field_name("condition") if stmt.type == "if_statement" \
                else None
            if cond is not None and cond.start_byte <= call.start < cond.end_byte:
                branch = stmt  # `if ((err = register_netdevice(peer)) < 0) goto ...;`
            else:
                branch = _error_branch(src, stmt, var) if var else None
            free = (_free_netdev_on_path(src, fn_node, branch, peer)
                    if branch is not None else None)
            if free is None:
                raise cedit.CannotEdit(f"no free_netdev({peer}) found on the registration "
                                       "failure path")
            edits.extend(cedit.release_before(
                fn.file, src, fn_node, stmt, free, [f"detach_nd_lock({peer});"], ctx.rule.id,
                label=f"err_detach_{peer}", notes=evidence))
            evidence.append(f"failure path: line {free.start_point[0] + 1}: "
                            f"{cedit.text(src, free)}")
        except cedit.CannotEdit as exc:
            sites.append(_site(ctx, fn, call.start, call.end, template="T2", outcome="review",
                               reason=f"peer device {peer} registered in newlink: {exc}",
                               evidence=[*evidence, *exc.evidence]))
            continue
        sites.append(_site(ctx, fn, call.start, call.end, template="T2", outcome="rewrite",
                           reason=f"peer device {peer} inherits the nd_lock of {dev}",
                           evidence=evidence, edits=edits))
    return sites


def _result_var(src: bytes, stmt: cedit.Node, call: CallSite) -> str | None:
    """`err` of `err = f(...);` / `if ((err = f(...)) ...)`; None for other shapes."""
    stmt_text = cedit.text(src, stmt)
    m = re.match(r"(?:if\s*\(\s*\(\s*)?(\w+)\s*=\s*" + re.escape(call.callee) + r"\s*\(",
                 stmt_text)
    return m.group(1) if m else None


# --- T3 / T4 / T6: callers outside rtnetlink ----------------------------------------------


def _registered_param(ctx: RuleContext, fn: FunctionDef, reach: dict[FnKey, list[str]],
                      seen: set[FnKey]) -> tuple[int, str] | None:
    """(index, name) of the parameter of `fn` that ends up registered by
    register_netdevice(), following calls into reachable helpers."""
    if key(fn) in seen:
        return None
    seen.add(key(fn))
    params = [p.name for p in fn.params]
    for call in ctx.index.calls_in(fn):
        if call.callee in ("register_netdevice", "__register_netdevice"):
            arg = _first_arg(call)
            if arg in params:
                return params.index(arg), arg
            continue
        for callee in ctx.graph.resolve(call):
            if key(callee) not in reach or (callee.file != fn.file and callee.is_static):
                continue
            inner = _registered_param(ctx, callee, reach, seen)
            if inner is not None and inner[0] < len(call.args):
                arg = call.args[inner[0]].strip()
                if arg in params:
                    return params.index(arg), arg
    return None


def _ancestors(ctx: RuleContext, fn: FunctionDef, reach: dict[FnKey, list[str]]
               ) -> list[FunctionDef]:
    """`fn` and the reachable functions calling it, transitively."""
    out: dict[FnKey, FunctionDef] = {key(fn): fn}
    todo = [fn]
    while todo:
        cur = todo.pop()
        for call in ctx.graph.callers(cur):
            caller = ctx.index.function(call.file, call.caller)
            if caller is not None and key(caller) in reach and key(caller) not in out:
                out[key(caller)] = caller
                todo.append(caller)
    return list(out.values())


def outside_callers(ctx: RuleContext) -> list[Site]:
    """T3/T4/T6: a function made __register_netdevice-only by T1 (or a helper on the way
    to it) that is also called from outside .newlink/.changelink paths."""
    reach, roots = ctx.view.reach(NEWLINK_ROOTS)
    sites: list[Site] = []
    done: set[tuple[str, int]] = set()
    families: dict[FnKey, tuple[Candidate, FunctionDef]] = {}
    for cand in ctx.candidates:
        for helper in _ancestors(ctx, cand.function, reach):
            for call in ctx.graph.callers(helper):
                caller = ctx.index.function(call.file, call.caller)
                if caller is None or key(caller) in reach or (call.file, call.start) in done:
                    continue
                if call.via_member and key(helper) in roots:
                    continue  # the rtnetlink core dispatching ops->newlink/changelink
                if call.via_member:
                    done.add((call.file, call.start))
                    sites.append(_site(
                        ctx, caller, call.start, call.end, template="T4", outcome="review",
                        reason=f"{helper.name}() also called through a function pointer "
                               "from a context the tool cannot classify",
                        evidence=[f"{call.file}:{call.line} {call.receiver}->{call.callee}()",
                                  "netlink path: " + " -> ".join(cand.chain)]))
                    continue
                done.add((call.file, call.start))
                if _registered_param(ctx, helper, reach, set()) is None:
                    # The helper creates the device itself: its lock is threaded in (T6).
                    families.setdefault(key(helper), (cand, helper))
                    continue
                sites.append(_outside_call(ctx, cand, helper, caller, call, reach))
    seen: set[FnKey] = set()
    for cand, helper in families.values():
        sites.extend(threaded_lock(ctx, cand, helper, reach, roots, seen))
    return sites


def _outside_call(ctx: RuleContext, cand: Candidate, helper: FunctionDef, caller: FunctionDef,
                  call: CallSite, reach: dict[FnKey, list[str]]) -> Site:
    src = ctx.index.source(caller.file)
    evidence = [
        f"{helper.name}() reaches {cand.call.callee}() at {cand.call.file}:{cand.call.line} "
        "(renamed __register_netdevice by T1)",
        "netlink path: " + " -> ".join(cand.chain),
        f"outside caller: {call.file}:{call.line} {caller.name}() calls "
        f"{helper.name}({', '.join(call.args)})",
    ]
    registered = _registered_param(ctx, helper, reach, set())
    assert registered is not None  # T6 families are handled by threaded_lock()
    index, param = registered
    child = call.args[index].strip() if index < len(call.args) else ""
    if not child.isidentifier():
        return _site(ctx, caller, call.start, call.end, template="T4", outcome="review",
                     reason=f"child device argument {child!r} is not a plain variable",
                     evidence=evidence)
    evidence.append(f"child device: {child} (parameter {param} of {helper.name})")
    parent, why = _parent_device(ctx, helper, caller, call, param, child, src)
    fn_node = cedit.function_node(src, call.start)
    try:
        if fn_node is None:
            raise cedit.CannotEdit("caller not re-parsed")
        stmt = cedit.innermost_statement(fn_node, call.start)
        if stmt.type != "expression_statement":
            raise cedit.CannotEdit(f"result of {helper.name}() is not stored in a variable "
                                   "(no error variable to drive detach_nd_lock())")
        var = _result_var(src, stmt, call)
        if var is None:
            raise cedit.CannotEdit("call is not `<err> = ...;`")
        if b"_nd_lock(" + child.encode() in src[max(caller.body_start,
                                                     stmt.start_byte - 200):stmt.start_byte]:
            raise _AlreadyDone()
        decl = cedit.add_local_declaration(caller.file, src, fn_node,
                                           "struct nd_lock *nd_lock;", ctx.rule.id)
        edits = [decl] if decl is not None else []
        if parent:
            evidence.append(f"parent device: {parent} ({why}); {var} = {LOCK_FAILED} when "
                            f"lock_netdev({parent}) fails (the parent is being "
                            "unregistered): the existing check on it takes the error path")
            template = "T3"
        else:
            edits.append(_attach_new_lock(ctx, caller, fn_node, src, child, evidence, stmt))
            template = "T4"
        edits.extend(child_bracket(caller.file, src, stmt, var, child, parent, ctx.rule.id))
    except _AlreadyDone:
        return _site(ctx, caller, call.start, call.end, template="T3" if parent else "T4",
                     outcome="rewrite", reason="already converted", evidence=evidence)
    except cedit.CannotEdit as exc:
        return _site(ctx, caller, call.start, call.end, template="T3" if parent else "T4",
                     outcome="review", reason=f"not rewritten: {exc}",
                     evidence=evidence)
    reason = (f"{child} inherits the nd_lock of parent {parent}" if parent
              else f"{child} gets a private nd_lock outside rtnetlink")
    return _site(ctx, caller, call.start, call.end, template=template, outcome="rewrite",
                 reason=reason, evidence=evidence, edits=edits)


class _AlreadyDone(Exception):
    pass


LOCK_FAILED = "-ENODEV"  # lock_netdev() fails only for a device being unregistered


def child_bracket(file: str, src: bytes, stmt: cedit.Node, var: str, child: str, parent: str,
                  rule: str) -> list[Edit]:
    """The lock around `<var> = <registering call>;`, wherever the statement stands
    (braces added around an un-braced branch).

    T3 (`parent`): the parent is an existing device that may be being unregistered, so
    its lock_netdev() is checked; on failure <var> = -ENODEV and the call is skipped,
    which the caller's check on <var> already handles (nothing attached, nothing held):

        <var> = -ENODEV;
        if (lock_netdev(<parent>, &nd_lock)) {
                attach_nd_lock(<child>, nd_lock);
                <var> = <call>;
                if (<var>)
                        detach_nd_lock(<child>);
                unlock_netdev(nd_lock);
        }

    T4 (no parent): the child's own fresh lock, attached by attach_new_nd_lock(), is
    taken; the child is not registered yet, so lock_netdev() cannot fail."""
    release = [f"if ({var})", f"\tdetach_nd_lock({child});", "unlock_netdev(nd_lock);"]
    if parent:
        return cedit.guard(file, src, stmt, f"lock_netdev({parent}, &nd_lock)",
                           [f"attach_nd_lock({child}, nd_lock);"], release, LOCK_FAILED, rule)
    return cedit.wrap(file, src, stmt, [f"lock_netdev({child}, &nd_lock);"], release, rule)


def _parent_device(ctx: RuleContext, helper: FunctionDef, caller: FunctionDef, call: CallSite,
                   param: str, child: str, caller_src: bytes) -> tuple[str, str]:
    """A parent device visible at the call: another net_device argument of the helper, or
    the caller's net_device stored in the field the helper links the child under."""
    params = [p.name for p in helper.params]
    for name in _net_device_params(helper):
        i = params.index(name)
        if name != param and i < len(call.args) and call.args[i].strip().isidentifier():
            return call.args[i].strip(), f"passed as {helper.name}() parameter {name}"
    helper_src = ctx.index.source(helper.file)
    helper_body = helper_src[helper.body_start:helper.body_end].decode(*CODEC)
    for link in ctx.index.calls_in(helper):
        if link.callee not in UPPER_LINK_CALLS or len(link.args) < 2:
            continue
        upper, lower = link.args[0].strip(), link.args[1].strip()
        other = lower if upper == param else upper
        # `real_dev = vlan->real_dev;` in the helper names the field holding the parent
        m = re.search(rf"\b{re.escape(other)}\s*=\s*[\w>.-]*?(?:->|\.)(\w+)\s*;", helper_body)
        field = m.group(1) if m else other.rsplit("->", 1)[-1].rsplit(".", 1)[-1]
        caller_body = caller_src[caller.body_start:call.start].decode(*CODEC)
        locals_ = _net_device_params(caller) + [p.name for p in caller.locals
                                                if NET_DEVICE_PTR.search(p.type)]
        for cm in re.finditer(rf"(?:->|\.){re.escape(field)}\s*=\s*(\w+)\s*;", caller_body):
            if cm.group(1) in locals_ and cm.group(1) != child:
                return cm.group(1), (f"stored as the child's ->{field}, which "
                                     f"{helper.name}() passes to {link.callee}()")
    return "", ""


def _attach_new_lock(ctx: RuleContext, caller: FunctionDef, fn_node: cedit.Node, src: bytes,
                     child: str, evidence: list[str], stmt: cedit.Node | None = None) -> Edit:
    """`if (!attach_new_nd_lock(dev)) { free_netdev(dev); return -ENOMEM; }` after the
    allocation's NULL check, when that check leaves with `return -ENOMEM;`.  `stmt`,
    the registration, must run whenever the attach did (not in a branch or loop of its
    own): a path skipping it would keep the lock attached to an unregistered device."""
    body = src[caller.body_start:caller.body_end].decode(*CODEC)
    m = re.search(_ASSIGN_FROM_CALL.format(var=re.escape(child)), body)
    if m is None:
        raise cedit.CannotEdit(f"{child} is not allocated in {caller.name}()")
    alloc = cedit.enclosing_statement(fn_node, caller.body_start + m.end() - 1)
    check = cedit.following_statement(alloc)
    if check is None or check.type != "if_statement" or f"!{child}" not in \
            cedit.text(src, check).replace(" ", ""):
        raise cedit.CannotEdit(f"no NULL check after the allocation of {child}")
    consequence = check.child_by_field_name("consequence")
    if consequence is None or not re.fullmatch(r"return\s+-ENOMEM\s*;",
                                               cedit.text(src, consequence).strip()):
        raise cedit.CannotEdit("the allocation failure path is not `return -ENOMEM;`")
    up = stmt
    while up is not None and check.parent is not None and up.parent != check.parent:
        up = up.parent
        if up is None or up.type != "compound_statement":
            raise cedit.CannotEdit(
                f"the registration at line {stmt.start_point[0] + 1} is conditional "  # type: ignore[union-attr]
                f"({up.type.replace('_', ' ') if up is not None else 'another block'}) while "
                f"the private lock is attached right after the allocation of {child}: the "
                "path that skips it would keep the lock attached")
    evidence.append(f"allocation: line {alloc.start_point[0] + 1}: {m.group(1)}(), "
                    f"failure path `{cedit.text(src, consequence)}`")
    return cedit.insert_after_statement(
        caller.file, src, check,
        [f"if (!attach_new_nd_lock({child})) {{", f"\tfree_netdev({child});",
         "\treturn -ENOMEM;", "}"], ctx.rule.id)


# --- link_deps ------------------------------------------------------------------------------


LOOKUPS = ("__dev_get_by_index", "dev_get_by_index", "dev_get_by_index_rcu",
           "netdev_get_by_index")
_ATTR = re.compile(r"\b(tb|data)\s*\[\s*(\w+)\s*\]")


def _attr_reads(body: str, expr: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in _ATTR.finditer(expr)]


def _lookup_attrs(ctx: RuleContext, fn: FunctionDef, funcs: list[FunctionDef]
                  ) -> Iterable[tuple[str, str, CallSite, str]]:
    """(table, attribute id, lookup call, how the ifindex flows) for lookups in `fn`."""
    src = ctx.index.source(fn.file)
    body = src[fn.body_start:fn.body_end].decode(*CODEC)
    for call in ctx.index.calls_in(fn):
        if call.callee not in LOOKUPS or len(call.args) < 2:
            continue
        arg = call.args[1].strip()
        direct = _attr_reads(body, arg)
        if direct:
            for table, attr in direct:
                yield table, attr, call, f"direct: {arg}"
            continue
        if arg.isidentifier():
            for m in re.finditer(rf"\b{re.escape(arg)}\s*=\s*([^;]+);", body):
                for table, attr in _attr_reads(body, m.group(1)):
                    yield table, attr, call, f"via local {arg} = {m.group(1).strip()}"
            continue
        field = re.search(r"(?:->|\.)(\w+)$", arg)
        if field is None:
            continue
        for other in funcs:
            osrc = ctx.index.source(other.file)
            obody = osrc[other.body_start:other.body_end].decode(*CODEC)
            for m in re.finditer(rf"(?:->|\.){re.escape(field.group(1))}\s*=\s*([^;]+);",
                                 obody):
                for table, attr in _attr_reads(obody, m.group(1)):
                    yield table, attr, call, (f"via field {arg}: {other.name}() sets "
                                              f"->{field.group(1)} = {m.group(1).strip()}")


def _is_mandatory(src: bytes, fn: FunctionDef, table: str, attr: str) -> bool:
    """The callback returns an error when the attribute is absent: an `if (!tb[X]...)`
    (possibly `!data || !data[X]`) whose branch returns or jumps out."""
    body = src[fn.body_start:fn.body_end].decode(*CODEC)
    pattern = (rf"if\s*\(([^)]*?)!\s*{table}\s*\[\s*{attr}\s*\]\s*\)(\s*\{{[^}}]*?|\s*)"
               r"(return\s+-\w+|return\s+\w+|goto\s+\w+)")
    return re.search(pattern, body) is not None


def link_deps(ctx: RuleContext) -> list[Site]:
    sites: list[Site] = []
    for init in ctx.index.inits_of("rtnl_link_ops"):
        if init.is_array:
            continue
        tables: dict[str, dict[str, list[str]]] = {}
        evidence: dict[str, list[str]] = {}
        for member in ("newlink", "changelink"):
            value = init.member(member)
            if not value or not value.isidentifier() or init.member(f"{member}_deps"):
                continue
            roots = [Root(f, init, member) for f in ctx.graph.resolve_name(init.file, value)]
            if not roots:
                continue
            root_fn = roots[0].function
            chains = ctx.graph.reach(roots)
            # Helpers of the driver itself: reach also follows member calls (ops->x())
            # into other drivers, whose lookups are not this callback's dependencies.
            home = init.file.rpartition("/")[0]
            funcs = [f for k, _ in chains.items() for f in [ctx.index.function(*k)]
                     if f and f.file.rpartition("/")[0] == home]
            found: dict[str, list[str]] = {}
            ev: list[str] = []
            for fn in funcs:
                for table, attr, call, how in _lookup_attrs(ctx, fn, funcs):
                    mand = any(_is_mandatory(ctx.index.source(f.file), f, table, attr)
                               for f in (root_fn, fn))
                    kind = "mandatory" if mand else "optional"
                    slot = f"{kind}.{table}"
                    if attr not in found.setdefault(slot, []):
                        found[slot].append(attr)
                        ev.append(f"{member}: {table}[{attr}] {how} -> {call.file}:{call.line} "
                                  f"{call.callee}({', '.join(call.args)}); {kind}: " +
                                  (f"{value}() returns an error when it is absent" if mand
                                   else "used only when present"))
            if found:
                tables[member] = found
                evidence[member] = ev
        if tables:
            sites.append(_deps_site(ctx, init, tables, evidence))
    if any(s.outcome == "rewrite" for s in sites):
        uses_generic = any(f"&{core.GENERIC_DEPS}" in e.replacement
                           for s in sites if s.outcome == "rewrite" for e in s.edits)
        core_site = core.rtnetlink_core(ctx, uses_generic, ctx.options)
        if core_site is not None:
            sites.append(core_site)
    return sites


def _prefix(var: str) -> str:
    return re.sub(r"(_rtnl)?(_link)?_ops$", "", var) or var


def _deps_site(ctx: RuleContext, init: StructInit, tables: dict[str, dict[str, list[str]]],
               evidence: dict[str, list[str]]) -> Site:
    src = ctx.index.source(init.file)
    prefix = _prefix(init.var)
    edits: list[Edit] = []
    defined: dict[str, str] = {}  # canonical table text -> name
    member_lines: dict[str, str] = {}
    for member, found in tables.items():
        if found == {"mandatory.tb": ["IFLA_LINK"]}:
            member_lines[member] = f"&{core.GENERIC_DEPS}"
            continue
        body = "".join(f"\t.{slot} = {{ {', '.join(ids)}, }},\n"
                       for slot, ids in sorted(found.items()))
        if body not in defined:
            shared = len(tables) == 2 and all(v == found for v in tables.values())
            defined[body] = f"{prefix}_{'link' if shared else member}_deps"
        member_lines[member] = f"&{defined[body]}"
    text_tables = "".join(f"static struct link_deps {name} = {{\n{body}}};\n\n"
                          for body, name in defined.items())
    if text_tables:
        at = cedit.line_start(src, init.start)
        edits.append(Edit(init.file, at, at, text_tables, ctx.rule.id))
    block = src[init.body_start:init.body_end]
    for member, ref in member_lines.items():
        m = re.search(rb"(?m)^([ \t]*)\." + member.encode() + rb"(\s*)=", block)
        if m is None:
            return Site(stage=2, template="link_deps", outcome="review", file=init.file,
                        function=init.var, line=init.line, start=init.start, end=init.end,
                        rule=ctx.rule.id, reason=f".{member} member line not found",
                        evidence=[e for v in evidence.values() for e in v])
        indent = m.group(1).decode()
        eq_col = len((m.group(1) + b"." + member.encode() + m.group(2)).decode().expandtabs(8))
        name = f".{member}_deps"
        width = len((indent + name).expandtabs(8))
        pad = ""
        if "\t" in m.group(2).decode():
            while width < eq_col:
                pad += "\t"
                width = (width // 8 + 1) * 8
        pad = pad or " "
        at = init.body_start + m.start()
        edits.append(Edit(init.file, at, at, f"{indent}{name}{pad}= {ref},\n", ctx.rule.id))
    ids = "; ".join(f"{m}: " + ", ".join(f"{s} {i}" for s, ids in t.items() for i in ids)
                    for m, t in tables.items())
    return Site(stage=2, template="link_deps", outcome="rewrite", file=init.file,
                function=init.var, line=init.line, start=init.start, end=init.end,
                rule=ctx.rule.id, reason=f"{init.var}: link_deps ({ids})",
                evidence=[e for v in evidence.values() for e in v], edits=edits)


# --- T6: a lock threaded through the helper that creates the device ----------------------


ND_LOCK_PARAM = "struct nd_lock *nd_lock"
KDOC_ND_LOCK = "@nd_lock: lock to attach the new device to"
REGISTER_CALLS = ("register_netdevice", "__register_netdevice")
NETLINK_MEMBERS = ("newlink", "changelink")
# Calls that take something the error path of an earlier exit would not give back.
_ACQUIRE = re.compile(r"\b(?!\w*unlock)\w*(?:lock|alloc|_get|hold|_begin)\w*\s*\(")
_ERR_CONST = r"-E[A-Z0-9]+"


class _Review(Exception):
    """The whole T6 family needs a human (never half-rewritten)."""


def _creators(ctx: RuleContext, fn: FunctionDef, reach: dict[FnKey, list[str]],
              seen: set[FnKey]) -> list[tuple[FunctionDef, CallSite, str]]:
    """(function, call, device) where a device created by the function itself (not one of
    its parameters) is passed to register_netdevice() or to a helper registering it."""
    if key(fn) in seen:
        return []
    seen.add(key(fn))
    params = [p.name for p in fn.params]
    out: list[tuple[FunctionDef, CallSite, str]] = []
    for call in ctx.index.calls_in(fn):
        if call.via_member:
            continue
        if call.callee in REGISTER_CALLS:
            if _first_arg(call) not in params:
                out.append((fn, call, _first_arg(call)))
            continue
        for callee in ctx.graph.resolve(call):
            if key(callee) not in reach or (callee.file != fn.file and callee.is_static):
                continue
            registered = _registered_param(ctx, callee, reach, set())
            if registered is None:
                out.extend(_creators(ctx, callee, reach, seen))
            elif registered[0] < len(call.args) and \
                    call.args[registered[0]].strip() not in params:
                out.append((fn, call, call.args[registered[0]].strip()))
    return out


def _origin(ctx: RuleContext, fn: FunctionDef, dev: str) -> str | None:
    """None when `fn` allocates `dev` itself (`dev = some_alloc(...)`), else where the
    device comes from (`ndev = priv->dev`, a field such as `ppp->dev`)."""
    src = ctx.index.source(fn.file)
    body = src[fn.body_start:fn.body_end].decode(*CODEC)
    if not dev.isidentifier():
        return f"{dev} is a field"
    if re.search(_ASSIGN_FROM_CALL.format(var=re.escape(dev)), body) or re.search(
            rf"\*\s*{re.escape(dev)}\s*=\s*\w+\s*\(", body):
        return None
    m = re.search(rf"\b{re.escape(dev)}\s*=\s*([^;=][^;]*);", body)
    return f"{dev} = {m.group(1).strip()}" if m else f"{dev} is never assigned a new device"


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
    raise cedit.CannotEdit("unbalanced parentheses")


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
        raise cedit.CannotEdit(f"{fn.name}() not re-parsed")
    for n in cedit.walk(fn_node):
        if n.type == "function_declarator":
            name = n.child_by_field_name("declarator")
            params = n.child_by_field_name("parameters")
            if name is not None and params is not None and cedit.text(src, name) == fn.name:
                return params.start_byte, params.end_byte - 1
    raise cedit.CannotEdit(f"parameter list of {fn.name}() not found")


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
                    raise cedit.CannotEdit(
                        f"{grabbed.group(0).rstrip('( ')}() is called between the earlier "
                        f"error exit (line {prev.start_point[0] + 1}) and the call: no clean "
                        "exit for a lock_netdev() failure")
                return shape, (f"line {prev.start_point[0] + 1}: "
                               + " ".join(cedit.text(src, prev).split()))
            prev = prev.prev_named_sibling
        node = node.parent
    if not _returns_int(src, fn_node):
        raise cedit.CannotEdit("no earlier error exit to copy for a lock_netdev() failure "
                               "and the function does not return an int error")
    if _in_loop(src, stmt):
        raise cedit.CannotEdit("no earlier error exit to copy, and the call is inside a "
                               "loop: what earlier iterations took is not known")
    body = cedit.body(fn_node)
    grabbed = _ACQUIRE.search(src[body.start_byte:stmt.start_byte].decode(*CODEC))
    if grabbed:
        raise cedit.CannotEdit(
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


def threaded_lock(ctx: RuleContext, cand: Candidate, helper: FunctionDef,
                  reach: dict[FnKey, list[str]], roots: dict[FnKey, Root],
                  seen: set[FnKey]) -> list[Site]:
    """T6: `helper` (reached from .newlink/.changelink and from outside) creates the device
    itself. The helpers on the way to the creation gain a trailing `struct nd_lock
    *nd_lock` parameter, the creator attaches it before registering, netlink callers pass
    the lock the core holds and outside callers take one with lock_netdev()."""
    creators = _creators(ctx, helper, reach, set())
    uniq = {(key(f), c.start) for f, c, _ in creators}
    base = [f"{helper.name}() reaches {cand.call.callee}() at "
            f"{cand.call.file}:{cand.call.line} (renamed __register_netdevice by T1)",
            "netlink path: " + " -> ".join(cand.chain)]
    if len(uniq) != 1:
        if any(key(f) in seen for f, _, _ in creators):
            return []
        return _family_review(ctx, helper, reach, base,
                              f"{len(uniq)} places create a device below {helper.name}(): "
                              "which one the lock is for is not clear")
    creator, reg_call, dev = creators[0]
    if key(creator) in seen:
        return []
    seen.add(key(creator))
    origin = _origin(ctx, creator, dev)
    if origin is not None:
        return _family_review(
            ctx, helper, reach, base,
            f"{creator.name}() registers {dev} ({reg_call.file}:{reg_call.line}), which it "
            f"does not allocate ({origin}): the device comes from a caller through another "
            "object, so neither T3/T4 (device not a parameter) nor T6 (device not created "
            "by the helper) fits")
    family = _ancestors(ctx, creator, reach)
    family_keys = {key(f) for f in family}
    tops = [f for f in family
            if any((c.via_member and key(f) not in roots) or
                   (not c.via_member and (fn := ctx.index.function(c.file, c.caller))
                    is not None and key(fn) not in reach)
                   for c in ctx.graph.callers(f))]
    members: dict[FnKey, FunctionDef] = {key(creator): creator}
    todo = list(tops)
    while todo:
        cur = todo.pop()
        if key(cur) in members and cur is not creator:
            continue
        members[key(cur)] = cur
        for call in ctx.index.calls_in(cur):
            for callee in ctx.graph.resolve(call):
                if key(callee) in family_keys and key(callee) not in members:
                    todo.append(callee)
    names = sorted(f.name for f in members.values())
    base.insert(0, f"T6 family: {', '.join(names)}; {creator.name}() creates {dev} and "
                   f"registers it at {reg_call.file}:{reg_call.line} "
                   f"{reg_call.callee}({', '.join(reg_call.args)})")
    try:
        return _thread(ctx, creator, reg_call, dev, list(members.values()), reach, roots,
                       base)
    except (cedit.CannotEdit, _Review) as exc:
        return _family_review(ctx, helper, reach, base, str(exc),
                              members=list(members.values()))


def _family_review(ctx: RuleContext, helper: FunctionDef, reach: dict[FnKey, list[str]],
                   evidence: list[str], why: str,
                   members: list[FunctionDef] | None = None) -> list[Site]:
    """One review site per call of the family from outside rtnetlink."""
    sites = []
    for fn in members or [helper]:
        for call in ctx.graph.callers(fn):
            caller = ctx.index.function(call.file, call.caller)
            if caller is None or key(caller) in reach:
                continue
            sites.append(_site(
                ctx, caller, call.start, call.end, template="T6", outcome="review",
                reason=f"{fn.name}() is shared by netlink and other callers and "
                       "registers a device none of its callers passes in; not rewritten: "
                       f"{why}",
                evidence=[*evidence, f"outside caller: {call.file}:{call.line} "
                                     f"{caller.name}() calls {fn.name}({', '.join(call.args)})"]))
    return sites


def _thread(ctx: RuleContext, creator: FunctionDef, reg_call: CallSite, dev: str,
            members: list[FunctionDef], reach: dict[FnKey, list[str]],
            roots: dict[FnKey, Root], base: list[str]) -> list[Site]:
    rule = ctx.rule.id
    member_keys = {key(f) for f in members}
    sites: list[Site] = []
    accounted: dict[str, set[int]] = {}  # file -> offsets of names already handled

    # 1. definitions (+ kernel-doc), the creator's attach/detach
    for fn in members:
        if key(fn) in roots:
            raise _Review(f"{fn.name}() is itself the .{roots[key(fn)].member} callback")
        src = ctx.index.source(fn.file)
        open_paren, close_paren = _param_list(src, fn)
        if re.search(r"\bnd_lock\b", src[open_paren:close_paren].decode(*CODEC)):
            raise _Review(f"{fn.name}() already has an nd_lock parameter")
        edits = [_append_arg(fn.file, src, open_paren, close_paren, ND_LOCK_PARAM, rule)]
        kdoc = _kdoc_edit(fn.file, src, fn.start, fn.name, rule)
        if kdoc is not None:
            edits.append(kdoc)
        accounted.setdefault(fn.file, set()).update(
            m.start() + fn.start for m in re.finditer(
                rb"\b" + re.escape(fn.name.encode()) + rb"\b", src[fn.start:fn.body_start]))
        evidence = [*base, f"definition: {fn.file}:{fn.line} {fn.name}() gains "
                           f"`{ND_LOCK_PARAM}`" + (" (kernel-doc @nd_lock added)" if kdoc
                                                   else "")]
        if fn is creator:
            edits += _creator_edits(ctx, fn, src, reg_call, dev, evidence)
        sites.append(_site(ctx, fn, fn.start, fn.body_start, template="T6", outcome="rewrite",
                           reason=f"{fn.name}() takes the lock its new device is attached to",
                           evidence=evidence, edits=edits))

    # 2. every call of a member
    declared: set[FnKey] = set()
    for fn in members:
        for call in ctx.graph.callers(fn):
            caller = ctx.index.function(call.file, call.caller)
            where = f"{call.file}:{call.line} {call.caller}() calls {fn.name}()"
            if caller is None:
                raise _Review(f"caller at {where} not parsed")
            if call.via_member:
                raise _Review(f"called through a function pointer at {where}")
            accounted.setdefault(call.file, set()).add(call.start)
            src = ctx.index.source(call.file)
            open_paren = src.index(b"(", call.start + len(call.callee))
            close_paren = call.end - 1
            if src[close_paren:call.end] != b")":
                raise _Review(f"call at {where} does not end with ')'")
            if key(caller) in member_keys:
                arg, how = "nd_lock", "passes its own nd_lock parameter on"
                edits = [_append_arg(call.file, src, open_paren, close_paren, arg, rule)]
            elif key(caller) in reach:
                held, how = _netlink_dev(ctx, caller, reach, roots, 0)
                if held is None:
                    raise _Review(f"netlink-path caller {where}: {how}")
                arg = LOCK_FROM_DEV.format(dev=held)
                edits = [_append_arg(call.file, src, open_paren, close_paren, arg, rule)]
            else:
                edits, how = _outside_edits(ctx, caller, call, fn, src, open_paren,
                                            close_paren, declared)
            sites.append(_site(ctx, caller, call.start, call.end, template="T6",
                               outcome="rewrite", reason=f"{fn.name}() call: {how}",
                               evidence=[*base, f"call: {where}; {how}"], edits=edits))

    # 3. prototypes and any other mention of the names in the tree
    protos: dict[str, list[Edit]] = {}
    for path, offsets in _text_references(ctx, members).items():
        src = ctx.index.source(path)
        for at in offsets:
            if at in accounted.get(path, set()):
                continue
            line = src[cedit.line_start(src, at):cedit.line_end(src, at)].decode(*CODEC)
            if line.lstrip().startswith(("*", "/*", "//")) or re.match(
                    r"\s*EXPORT_SYMBOL\w*\s*\(\s*\w+\s*\)\s*;", line):
                continue
            name = re.match(rb"\w+", src[at:at + 200])
            assert name is not None
            proto = _prototype_edit(ctx, path, src, at, name.group(0).decode())
            if proto is None:
                raise _Review(f"{name.group(0).decode()} is used at {path}:"
                              f"{line_of(src, at)} in a way the tool does not follow: "
                              f"{line.strip()}")
            protos.setdefault(name.group(0).decode(), []).append(proto)
    for site in sites[:len(members)]:
        for edit in protos.get(site.function, []):
            site.edits.append(edit)
            site.evidence.append(f"prototype: {edit.file}:"
                                 f"{line_of(ctx.index.source(edit.file), edit.start)}")
    return sites


def _netlink_dev(ctx: RuleContext, fn: FunctionDef, reach: dict[FnKey, list[str]],
                 roots: dict[FnKey, Root], depth: int) -> tuple[str | None, str]:
    """The parameter of `fn` holding the device whose lock the rtnetlink core holds: the
    net_device parameter of a .newlink/.changelink callback, or of a helper every caller
    of which passes it that device. (None, why) when unclear."""
    devs = _net_device_params(fn)
    root = roots.get(key(fn))
    if root is not None:
        if root.member not in NETLINK_MEMBERS or len(devs) != 1:
            return None, (f"{fn.name}() is the .{root.member} callback with {len(devs)} "
                          "net_device parameters: whose lock the core holds is not clear")
        return devs[0], (f".{root.member} callback {fn.name}(): the core holds the lock of "
                         f"{devs[0]}" + (" (the device being changed; a device created "
                                         "here joins its lock)"
                                         if root.member == "changelink"
                                         else " (the new device)"))
    callers = ctx.graph.callers(fn)
    if depth >= 3 or not callers or not devs:
        return None, (f"{fn.name}() is not the .newlink/.changelink callback: which "
                      "device's lock the core holds there is not known")
    params = [p.name for p in fn.params]
    for dev in devs:
        i = params.index(dev)
        chain = []
        for call in callers:
            caller = ctx.index.function(call.file, call.caller)
            if caller is None or call.via_member or key(caller) not in reach or \
                    i >= len(call.args):
                break
            held, how = _netlink_dev(ctx, caller, reach, roots, depth + 1)
            if held is None or call.args[i].strip() != held:
                break
            chain.append(how)
        else:
            return dev, (f"{fn.name}() gets it as {dev} from every caller: "
                         + "; ".join(sorted(set(chain))))
    return None, (f"{fn.name}() is not the .newlink/.changelink callback and its callers "
                  "do not all pass it the device whose lock the core holds")


def _creator_edits(ctx: RuleContext, fn: FunctionDef, src: bytes, reg_call: CallSite,
                   dev: str, evidence: list[str]) -> list[Edit]:
    fn_node = cedit.function_node(src, reg_call.start)
    if fn_node is None:
        raise cedit.CannotEdit(f"{fn.name}() not re-parsed")
    stmt = cedit.enclosing_statement(fn_node, reg_call.start)
    var = _result_var(src, stmt, reg_call)
    cond = stmt.child_by_field_name("condition") if stmt.type == "if_statement" else None
    if cond is not None and cond.start_byte <= reg_call.start < cond.end_byte:
        branch: cedit.Node | None = stmt  # `if (f(dev) < 0) goto fail;`
    elif var is None:
        raise _Review(f"{fn.name}(): the result of {reg_call.callee}() at line "
                      f"{reg_call.line} is not stored in a variable: no failure path to "
                      "detach the lock on")
    else:
        branch = _error_branch(src, stmt, var)
    free = _free_netdev_on_path(src, fn_node, branch, dev) if branch is not None else None
    if free is None:
        raise _Review(f"{fn.name}(): no free_netdev({dev}) on the failure path of "
                      f"{reg_call.callee}() at line {reg_call.line}")
    evidence.append(f"attach: before line {stmt.start_point[0] + 1}; detach: before line "
                    f"{free.start_point[0] + 1}: {cedit.text(src, free)}")
    try:
        detach = cedit.release_before(fn.file, src, fn_node, stmt, free,
                                      [f"detach_nd_lock({dev});"], ctx.rule.id,
                                      label=f"err_detach_{dev}", notes=evidence)
    except cedit.CannotEdit as exc:
        raise _Review(f"{fn.name}(): detach_nd_lock({dev}) before line "
                      f"{free.start_point[0] + 1}: {exc}; paths: "
                      + "; ".join(exc.evidence)) from exc
    return [cedit.insert_before_statement(fn.file, src, stmt,
                                          [f"attach_nd_lock({dev}, nd_lock);"], ctx.rule.id),
            *detach]


def _outside_edits(ctx: RuleContext, caller: FunctionDef, call: CallSite, fn: FunctionDef,
                   src: bytes, open_paren: int, close_paren: int, declared: set[FnKey]
                   ) -> tuple[list[Edit], str]:
    where = f"{call.file}:{call.line} {caller.name}()"
    devs = _net_device_params(caller)
    if len(devs) != 1:
        raise _Review(f"outside caller {where} has {len(devs)} net_device parameters: no "
                      "single existing device to take the lock of")
    fn_node = cedit.function_node(src, call.start)
    if fn_node is None:
        raise _Review(f"{where} not re-parsed")
    try:
        stmt = cedit.innermost_statement(fn_node, call.start)
    except cedit.CannotEdit as exc:
        raise _Review(f"outside caller {where}: {exc}") from exc
    if stmt.type != "expression_statement":
        raise _Review(f"outside caller {where}: the call is inside a {stmt.type}, not a "
                      "statement of its own (no place for unlock_netdev() right after it)")
    if cedit.exits(src, fn_node, stmt.start_byte, stmt.end_byte):
        raise _Review(f"outside caller {where}: the statement can leave the function")
    try:
        fail, model = _lock_failure(src, fn_node, stmt)
    except cedit.CannotEdit as exc:
        raise _Review(f"outside caller {where}: {exc}") from exc
    edits: list[Edit] = []
    if key(caller) not in declared:
        declared.add(key(caller))
        decl = cedit.add_local_declaration(call.file, src, fn_node, "struct nd_lock *nd_lock;",
                                           ctx.rule.id)
        if decl is not None:
            edits.append(decl)
    lock = ([f"if (!lock_netdev({devs[0]}, &nd_lock))", *fail] if len(fail) == 1 else
            [f"if (!lock_netdev({devs[0]}, &nd_lock)) {{", *fail[1:]])
    try:
        edits += cedit.wrap(call.file, src, stmt, lock, ["unlock_netdev(nd_lock);"],
                            ctx.rule.id)
    except cedit.CannotEdit as exc:
        raise _Review(f"outside caller {where}: {exc}") from exc
    edits.append(_append_arg(call.file, src, open_paren, close_paren, "nd_lock", ctx.rule.id))
    return edits, (f"outside rtnetlink: lock_netdev({devs[0]}) around the call, -ENODEV "
                   f"when {devs[0]} is being unregistered (exit modelled on {model})")
