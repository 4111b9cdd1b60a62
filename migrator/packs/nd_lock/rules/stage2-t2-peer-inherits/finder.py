"""stage2-t2-peer-inherits: a .newlink-reachable function registering a second device it
allocated itself (the peer: `peer = rtnl_create_link()/alloc_netdev*()...` in the same
function, another struct net_device * parameter being the new device) attaches the new
device's lock to the peer before the registration and detaches it before the
free_netdev(peer) of the registration's failure path. It binds the peer and the new
device from the function itself; review when the failure path has no free_netdev(peer)
or the edits cannot be placed (cedit.NeedsReview). A registration of the function's own
`dev` or of a device from elsewhere is no site (T1 only).

T1 (the renames) stays data (rules/stage2-t1-*). T2 inserts whole lines at the start of a
statement's line, which never shares a byte with T1's rename of the callee, so both rules
edit the same statement without conflict.
"""

from __future__ import annotations

import re

from migrator.edit import cedit
from migrator.model import Site
from migrator.model.srctext import CODEC
from migrator.packs.nd_lock.stage2_common import (
    _ASSIGN_FROM_CALL,
    LOCK_FROM_DEV,
    _at,
    _error_branch,
    _first_arg,
    _free_netdev_on_path,
    _net_device_params,
    _result_var,
)
from migrator.rules.context import RuleContext


def find(ctx: RuleContext) -> list[Site]:
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
                raise cedit.NeedsReview("function not re-parsed")
            stmt = cedit.enclosing_statement(fn_node, call.start)
            before = src[max(fn.body_start, stmt.start_byte - 200):stmt.start_byte]
            if b"attach_nd_lock(" + peer.encode() in before:
                sites.append(ctx.already_done(_at(ctx, fn, call.start, call.end),
                                              evidence=evidence, template="T2"))
                continue
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
                raise cedit.NeedsReview(f"no free_netdev({peer}) found on the registration "
                                       "failure path")
            edits.extend(cedit.release_before(
                fn.file, src, fn_node, stmt, free, [f"detach_nd_lock({peer});"], ctx.rule.id,
                label=f"err_detach_{peer}", notes=evidence))
            evidence.append(f"failure path: line {free.start_point[0] + 1}: "
                            f"{cedit.text(src, free)}")
        except cedit.NeedsReview as exc:
            sites.append(ctx.review(_at(ctx, fn, call.start, call.end),
                                    f"peer device {peer} registered in newlink: {exc}",
                                    evidence=[*evidence, *exc.evidence], template="T2"))
            continue
        sites.append(ctx.rewrite(_at(ctx, fn, call.start, call.end), edits,
                                 f"peer device {peer} inherits the nd_lock of {dev}",
                                 evidence=evidence, template="T2"))
    return sites
