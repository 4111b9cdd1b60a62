"""Stage 2, T6 (stage2-t6-thread-lock): a lock threaded through the helper that creates
the device. The decisions are here: which functions form the family, which one creates
the device, where each call's lock comes from, what is left for review. The texts of
the parameter, of each call's argument and of the kernel-doc line are the rule's
`[fix] add_param` / `kdoc_param` (ctx.add_param, ctx.add_arg, ctx.add_param_prototype);
how an outside caller leaves when lock_netdev() fails is stage2_exits'.
"""

from __future__ import annotations

import re

from migrator.callgraph import FnKey, Root, key
from migrator.edit import cedit
from migrator.edit.edits import line_of
from migrator.index.discover import grep_hits, is_git_tree
from migrator.model import CallSite, Edit, FunctionDef, Site
from migrator.model.srctext import CODEC
from migrator.packs.nd_lock.stage2_common import (
    _ASSIGN_FROM_CALL,
    _ancestors,
    _at,
    _error_branch,
    _first_arg,
    _free_netdev_on_path,
    _net_device_params,
    _registered_param,
    _result_var,
)
from migrator.packs.nd_lock.stage2_exits import _lock_failure
from migrator.rules.context import Candidate, RuleContext

# The kinds of call add_param's `arg` table has a text for (rule.toml):
PASSED_ON = "passed_on"  # a function of the family passes its own parameter on
HELD = "held"  # a .newlink/.changelink path: the lock the core holds on {dev}
TAKEN = "taken"  # outside rtnetlink: the lock lock_netdev() took around the call

REGISTER_CALLS = ("register_netdevice", "__register_netdevice")
NETLINK_MEMBERS = ("newlink", "changelink")


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
    except cedit.NeedsReview as exc:  # the whole family: never half-rewritten
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
            sites.append(ctx.review(
                _at(ctx, caller, call.start, call.end),
                f"{fn.name}() is shared by netlink and other callers and "
                "registers a device none of its callers passes in; not rewritten: "
                f"{why}", template="T6",
                evidence=[*evidence, f"outside caller: {call.file}:{call.line} "
                                     f"{caller.name}() calls {fn.name}({', '.join(call.args)})"]))
    return sites


def _thread(ctx: RuleContext, creator: FunctionDef, reg_call: CallSite, dev: str,
            members: list[FunctionDef], reach: dict[FnKey, list[str]],
            roots: dict[FnKey, Root], base: list[str]) -> list[Site]:
    member_keys = {key(f) for f in members}
    definitions: list[tuple[FunctionDef, list[Edit], list[str]]] = []
    sites: list[Site] = []  # the calls; the definitions' sites are made last
    accounted: dict[str, set[int]] = {}  # file -> offsets of names already handled
    param = ""  # the name of the parameter the members gain

    # 1. definitions (+ kernel-doc), the creator's attach/detach
    for fn in members:
        if key(fn) in roots:
            raise cedit.NeedsReview(f"{fn.name}() is itself the .{roots[key(fn)].member} callback")
        src = ctx.index.source(fn.file)
        added = ctx.add_param(fn)  # the rule's add_param (and kdoc_param)
        edits = added.edits
        accounted.setdefault(fn.file, set()).update(
            m.start() + fn.start for m in re.finditer(
                rb"\b" + re.escape(fn.name.encode()) + rb"\b", src[fn.start:fn.body_start]))
        evidence = [*base, f"definition: {fn.file}:{fn.line} {fn.name}() gains "
                           f"`{added.decl}`" + (f" (kernel-doc @{added.name} added)"
                                                if added.kdoc else "")]
        if fn is creator:
            edits += _creator_edits(ctx, fn, src, reg_call, dev, evidence)
        definitions.append((fn, edits, evidence))
        param = added.name

    # 2. every call of a member
    declared: set[FnKey] = set()
    for fn in members:
        for call in ctx.graph.callers(fn):
            caller = ctx.index.function(call.file, call.caller)
            where = f"{call.file}:{call.line} {call.caller}() calls {fn.name}()"
            if caller is None:
                raise cedit.NeedsReview(f"caller at {where} not parsed")
            if call.via_member:
                raise cedit.NeedsReview(f"called through a function pointer at {where}")
            accounted.setdefault(call.file, set()).add(call.start)
            src = ctx.index.source(call.file)
            if src[call.end - 1:call.end] != b")":
                raise cedit.NeedsReview(f"call at {where} does not end with ')'")
            if key(caller) in member_keys:
                how = f"passes its own {param} parameter on"
                edits = [ctx.add_arg(call, PASSED_ON)]
            elif key(caller) in reach:
                held, how = _netlink_dev(ctx, caller, reach, roots, 0)
                if held is None:
                    raise cedit.NeedsReview(f"netlink-path caller {where}: {how}")
                edits = [ctx.add_arg(call, HELD, dev=held)]
            else:
                edits, how = _outside_edits(ctx, caller, call, src, declared)
            sites.append(ctx.rewrite(_at(ctx, caller, call.start, call.end), edits,
                                     f"{fn.name}() call: {how}", template="T6",
                                     evidence=[*base, f"call: {where}; {how}"]))

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
            proto = ctx.add_param_prototype(path, at, name.group(0).decode())
            if proto is None:
                raise cedit.NeedsReview(f"{name.group(0).decode()} is used at {path}:"
                              f"{line_of(src, at)} in a way the tool does not follow: "
                              f"{line.strip()}")
            protos.setdefault(name.group(0).decode(), []).append(proto)
    return [*(ctx.rewrite(
        _at(ctx, fn, fn.start, fn.body_start), [*edits, *protos.get(fn.name, [])],
        f"{fn.name}() takes the lock its new device is attached to", template="T6",
        evidence=[*evidence, *(f"prototype: {edit.file}:"
                               f"{line_of(ctx.index.source(edit.file), edit.start)}"
                               for edit in protos.get(fn.name, []))])
        for fn, edits, evidence in definitions), *sites]


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
        raise cedit.NeedsReview(f"{fn.name}() not re-parsed")
    stmt = cedit.enclosing_statement(fn_node, reg_call.start)
    var = _result_var(src, stmt, reg_call)
    cond = stmt.child_by_field_name("condition") if stmt.type == "if_statement" else None
    if cond is not None and cond.start_byte <= reg_call.start < cond.end_byte:
        branch: cedit.Node | None = stmt  # `if (f(dev) < 0) goto fail;`
    elif var is None:
        raise cedit.NeedsReview(f"{fn.name}(): the result of {reg_call.callee}() at line "
                      f"{reg_call.line} is not stored in a variable: no failure path to "
                      "detach the lock on")
    else:
        branch = _error_branch(src, stmt, var)
    free = _free_netdev_on_path(src, fn_node, branch, dev) if branch is not None else None
    if free is None:
        raise cedit.NeedsReview(f"{fn.name}(): no free_netdev({dev}) on the failure path of "
                      f"{reg_call.callee}() at line {reg_call.line}")
    evidence.append(f"attach: before line {stmt.start_point[0] + 1}; detach: before line "
                    f"{free.start_point[0] + 1}: {cedit.text(src, free)}")
    try:
        detach = cedit.release_before(fn.file, src, fn_node, stmt, free,
                                      [f"detach_nd_lock({dev});"], ctx.rule.id,
                                      label=f"err_detach_{dev}", notes=evidence)
    except cedit.NeedsReview as exc:
        raise cedit.NeedsReview(f"{fn.name}(): detach_nd_lock({dev}) before line "
                      f"{free.start_point[0] + 1}: {exc}; paths: "
                      + "; ".join(exc.evidence)) from exc
    return [cedit.insert_before_statement(fn.file, src, stmt,
                                          [f"attach_nd_lock({dev}, nd_lock);"], ctx.rule.id),
            *detach]


def _outside_edits(ctx: RuleContext, caller: FunctionDef, call: CallSite, src: bytes,
                   declared: set[FnKey]) -> tuple[list[Edit], str]:
    where = f"{call.file}:{call.line} {caller.name}()"
    devs = _net_device_params(caller)
    if len(devs) != 1:
        raise cedit.NeedsReview(f"outside caller {where} has {len(devs)} net_device parameters: no "
                      "single existing device to take the lock of")
    fn_node = cedit.function_node(src, call.start)
    if fn_node is None:
        raise cedit.NeedsReview(f"{where} not re-parsed")
    try:
        stmt = cedit.innermost_statement(fn_node, call.start)
    except cedit.NeedsReview as exc:
        raise cedit.NeedsReview(f"outside caller {where}: {exc}") from exc
    if stmt.type != "expression_statement":
        raise cedit.NeedsReview(f"outside caller {where}: the call is inside a {stmt.type}, not a "
                      "statement of its own (no place for unlock_netdev() right after it)")
    if cedit.exits(src, fn_node, stmt.start_byte, stmt.end_byte):
        raise cedit.NeedsReview(f"outside caller {where}: the statement can leave the function")
    try:
        fail, model = _lock_failure(src, fn_node, stmt)
    except cedit.NeedsReview as exc:
        raise cedit.NeedsReview(f"outside caller {where}: {exc}") from exc
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
    except cedit.NeedsReview as exc:
        raise cedit.NeedsReview(f"outside caller {where}: {exc}") from exc
    edits.append(ctx.add_arg(call, TAKEN))
    return edits, (f"outside rtnetlink: lock_netdev({devs[0]}) around the call, -ENODEV "
                   f"when {devs[0]} is being unregistered (exit modelled on {model})")


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
