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
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from migrator import cedit
from migrator.callgraph import FnKey, Root, key
from migrator.edits import line_of
from migrator.engine import Candidate, RuleContext
from migrator.model import CallSite, Edit, FunctionDef, Site, StructInit

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
        body = src[fn.body_start:fn.body_end].decode("utf-8", "surrogateescape")
        created = re.search(_ASSIGN_FROM_CALL.format(var=re.escape(peer)), body)
        if created is None:
            continue  # registers its own `dev` or a device from elsewhere: T1 only
        dev = devs[0]
        evidence = [*cand.evidence(),
                    f"second device {peer!r} created by {created.group(1)}() in "
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
            branch = _error_branch(src, stmt, var) if var else None
            free = (_free_netdev_on_path(src, fn_node, branch, peer)
                    if branch is not None else None)
            if free is None:
                raise cedit.CannotEdit(f"no free_netdev({peer}) found on the registration "
                                       "failure path")
            edits.append(cedit.insert_before_statement(
                fn.file, src, free, [f"detach_nd_lock({peer});"], ctx.rule.id))
            evidence.append(f"failure path: line {free.start_point[0] + 1}: "
                            f"{cedit.text(src, free)}")
        except cedit.CannotEdit as exc:
            sites.append(_site(ctx, fn, call.start, call.end, template="T2", outcome="review",
                               reason=f"second device {peer!r} registered in newlink: {exc}",
                               evidence=evidence))
            continue
        sites.append(_site(ctx, fn, call.start, call.end, template="T2", outcome="rewrite",
                           reason=f"second device {peer!r} inherits the nd_lock of {dev!r}",
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
    reach, roots = ctx.engine.reach(NEWLINK_ROOTS)
    sites: list[Site] = []
    done: set[tuple[str, int]] = set()
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
                sites.append(_outside_call(ctx, cand, helper, caller, call, reach))
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
    if registered is None:
        # The helper creates the device itself: its lock must be threaded in (T6).
        return _site(ctx, caller, call.start, call.end, template="T6", outcome="review",
                     reason=f"T6: {helper.name}() creates and registers the device itself and "
                            "is shared by netlink and other callers: it needs a "
                            "struct nd_lock *nd_lock parameter",
                     evidence=[*evidence, f"helper: {helper.name}"])
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
        stmt = cedit.enclosing_statement(fn_node, call.start)
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
            evidence.append(f"parent device: {parent} ({why}); lock_netdev() cannot fail: "
                            "the parent is a registered device looked up under RTNL")
            edits.append(cedit.insert_before_statement(
                caller.file, src, stmt,
                [f"lock_netdev({parent}, &nd_lock);", f"attach_nd_lock({child}, nd_lock);"],
                ctx.rule.id))
            template = "T3"
        else:
            edits.append(_attach_new_lock(ctx, caller, fn_node, src, child, evidence))
            edits.append(cedit.insert_before_statement(
                caller.file, src, stmt, [f"lock_netdev({child}, &nd_lock);"], ctx.rule.id))
            template = "T4"
        edits.append(cedit.insert_after_statement(
            caller.file, src, stmt,
            [f"if ({var})", f"\tdetach_nd_lock({child});", "unlock_netdev(nd_lock);"],
            ctx.rule.id))
    except _AlreadyDone:
        return _site(ctx, caller, call.start, call.end, template="T3" if parent else "T4",
                     outcome="rewrite", reason="already converted", evidence=evidence)
    except cedit.CannotEdit as exc:
        return _site(ctx, caller, call.start, call.end, template="T3" if parent else "T4",
                     outcome="review", reason=f"{'T3' if parent else 'T4'} needs a human: {exc}",
                     evidence=evidence)
    reason = (f"{child} inherits the nd_lock of parent {parent}" if parent
              else f"{child} gets a private nd_lock outside rtnetlink")
    return _site(ctx, caller, call.start, call.end, template=template, outcome="rewrite",
                 reason=reason, evidence=evidence, edits=edits)


class _AlreadyDone(Exception):
    pass


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
    helper_body = helper_src[helper.body_start:helper.body_end].decode("utf-8", "replace")
    for link in ctx.index.calls_in(helper):
        if link.callee not in UPPER_LINK_CALLS or len(link.args) < 2:
            continue
        upper, lower = link.args[0].strip(), link.args[1].strip()
        other = lower if upper == param else upper
        # `real_dev = vlan->real_dev;` in the helper names the field holding the parent
        m = re.search(rf"\b{re.escape(other)}\s*=\s*[\w>.-]*?(?:->|\.)(\w+)\s*;", helper_body)
        field = m.group(1) if m else other.rsplit("->", 1)[-1].rsplit(".", 1)[-1]
        caller_body = caller_src[caller.body_start:call.start].decode("utf-8", "replace")
        locals_ = _net_device_params(caller) + [p.name for p in caller.locals
                                                if NET_DEVICE_PTR.search(p.type)]
        for cm in re.finditer(rf"(?:->|\.){re.escape(field)}\s*=\s*(\w+)\s*;", caller_body):
            if cm.group(1) in locals_ and cm.group(1) != child:
                return cm.group(1), (f"stored as the child's ->{field}, which "
                                     f"{helper.name}() passes to {link.callee}()")
    return "", ""


def _attach_new_lock(ctx: RuleContext, caller: FunctionDef, fn_node: cedit.Node, src: bytes,
                     child: str, evidence: list[str]) -> Edit:
    """`if (!attach_new_nd_lock(dev)) { free_netdev(dev); return -ENOMEM; }` after the
    allocation's NULL check, when that check leaves with `return -ENOMEM;`."""
    body = src[caller.body_start:caller.body_end].decode("utf-8", "surrogateescape")
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
    body = src[fn.body_start:fn.body_end].decode("utf-8", "surrogateescape")
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
            obody = osrc[other.body_start:other.body_end].decode("utf-8", "surrogateescape")
            for m in re.finditer(rf"(?:->|\.){re.escape(field.group(1))}\s*=\s*([^;]+);",
                                 obody):
                for table, attr in _attr_reads(obody, m.group(1)):
                    yield table, attr, call, (f"via field {arg}: {other.name}() sets "
                                              f"->{field.group(1)} = {m.group(1).strip()}")


def _is_mandatory(src: bytes, fn: FunctionDef, table: str, attr: str) -> bool:
    """The callback returns an error when the attribute is absent: an `if (!tb[X]...)`
    (possibly `!data || !data[X]`) whose branch returns or jumps out."""
    body = src[fn.body_start:fn.body_end].decode("utf-8", "surrogateescape")
    pattern = (rf"if\s*\(([^)]*?)!\s*{table}\s*\[\s*{attr}\s*\]\s*\)(\s*\{{[^}}]*?|\s*)"
               r"(return\s+-\w+|return\s+\w+|goto\s+\w+)")
    return re.search(pattern, body) is not None


def link_deps(ctx: RuleContext) -> list[Site]:
    sites: list[Site] = []
    env = Environment(loader=FileSystemLoader(str(Path(__file__).resolve().parents[2] /
                                              "templates")), keep_trailing_newline=True)
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
        core = _core_site(ctx, env)
        if core is not None:
            sites.append(core)
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
            member_lines[member] = "&generic_newlink_deps"
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


RTNETLINK_H = "include/net/rtnetlink.h"


def _core_site(ctx: RuleContext, env: Environment) -> Site | None:
    path = ctx.engine.tree / RTNETLINK_H
    if not path.is_file():
        return None
    src = path.read_bytes()
    if b"struct link_deps" in src:
        return None
    decl = re.search(rb"(?m)^struct rtnl_link_ops \{", src)
    members = [re.search(rb"(?m)^([ \t]*)int\s+\(\*" + m + rb"\)", src)
               for m in (b"newlink", b"changelink")]
    if decl is None or any(m is None for m in members):
        return Site(stage=2, template="core", outcome="review", file=RTNETLINK_H, function="",
                    line=1, start=0, end=0, rule=ctx.rule.id,
                    reason="struct rtnl_link_ops or its newlink/changelink members not found")
    template = env.get_template("rtnetlink_link_deps.h.j2")
    # Insert above the struct's kernel-doc comment, which must stay attached to it.
    insert_at = decl.start()
    doc = re.search(rb"/\*\*(?:(?!\*/).)*\*/[ \t]*\n\Z", src[:insert_at], re.S)
    if doc is not None:
        insert_at = doc.start()
    edits = [Edit(RTNETLINK_H, insert_at, insert_at,
                  template.render(part="declarations"), ctx.rule.id)]
    for name, m in zip(("newlink", "changelink"), members, strict=True):
        assert m is not None
        edits.append(Edit(RTNETLINK_H, m.start(), m.start(),
                          template.render(part="member", name=name,
                                          indent=m.group(1).decode()), ctx.rule.id))
    return Site(stage=2, template="core", outcome="rewrite", file=RTNETLINK_H,
                function="struct rtnl_link_ops", line=line_of(src, decl.start()),
                start=decl.start(), end=decl.end(), rule=ctx.rule.id,
                reason="declare struct link_deps and the rtnl_link_ops *_deps members",
                evidence=["link_deps tables are used by this stage's rewrites"], edits=edits)
