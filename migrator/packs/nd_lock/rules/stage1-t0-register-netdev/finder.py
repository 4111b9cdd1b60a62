"""stage1-t0-register-netdev (T0): which register_netdev() callers take RTNL themselves
with rtnl_lock_killable() and call register_netdevice(), and the edit, written here for
each statement shape (`v = register_netdev(d);`, `return register_netdev(d);`, an if
condition; a result variable is reused or added).

Selected callers (option `t0`): those reached from a pernet_operations .init ("pernet",
the chain bound as the site's evidence), "all" or "none", plus calls under a
`t0_families` directory; the others are no site (status counts them as remaining). A
selected call is review when RTNL is already held there (rtnl_lock() earlier in the
function, or every caller of the function calls it with RTNL held: call
register_netdevice() instead) or when the statement shape is not covered (a stored
result that is not a plain variable, an unbraced branch, a call nested in an
expression...). Calls hidden in a macro are review where a direct call would be
converted.
"""

from __future__ import annotations

from collections.abc import Iterable

from migrator.edit.cedit import NeedsReview
from migrator.model import Edit, Site
from migrator.packs.nd_lock.common import FnTree, Node, real_calls
from migrator.rules.context import Candidate, RuleContext
from migrator.rules.load import under

RTNL_TAKE = ("rtnl_lock", "rtnl_lock_killable", "rtnl_trylock", "rtnl_net_lock")
RTNL_DROP = ("rtnl_unlock", "__rtnl_unlock", "rtnl_net_unlock")


def rtnl_held_at(ft: FnTree, offset: int) -> bool:
    """RTNL taken earlier in the function and not dropped before `offset`."""
    events = sorted([(ft.start(n), 1) for name in RTNL_TAKE for n in ft.calls(name)]
                    + [(ft.start(n), -1) for name in RTNL_DROP for n in ft.calls(name)])
    held = False
    for pos, kind in events:
        if pos >= offset:
            break
        held = kind == 1
    return held


def callers_hold_rtnl(ctx: RuleContext, cand: Candidate, depth: int = 3) -> list[str]:
    """Evidence when every caller of the function calls it with RTNL held."""
    callers = ctx.graph.callers(cand.function)
    if not callers or depth == 0:
        return []
    out = []
    for call in callers:
        fn = ctx.index.function(call.file, call.caller)
        if fn is None:
            return []
        ft = FnTree(ctx.index.source(call.file), fn, ctx.rule.id)
        if not any(rtnl_held_at(ft, ft.start(n)) for n in ft.calls(cand.function.name)):
            return []
        out.append(f"{call.file}:{call.line} {call.caller}() calls it with RTNL held")
    return out


def find(ctx: RuleContext) -> Iterable[Site]:
    mode = str(ctx.options.get("t0", "pernet"))
    families = list(ctx.options.get("t0_families", []))
    pernet, _ = ctx.view.reach(("pernet_operations.init",))

    def selected(cand: Candidate) -> bool:
        fk = (cand.function.file, cand.function.name)
        return (mode == "all" or (mode == "pernet" and fk in pernet)
                or under(cand.call.file, families) is not None)

    # register_netdev() hidden in a macro: review where a direct call would be converted
    yield from ctx.macro_sites(selected)
    for cand, ft, node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        fk = (cand.function.file, cand.function.name)
        if not selected(cand):
            continue  # not a site: counted as remaining by status
        if fk in pernet:
            cand.chain = pernet[fk]
        try:
            if rtnl_held_at(ft, ft.start(node)):
                yield ctx.review(cand,
                                 reason="register_netdev() called with RTNL already held "
                                 "(rtnl_lock() earlier in the function): call "
                                 "register_netdevice() there instead")
                continue
            held = callers_hold_rtnl(ctx, cand)
            if held:
                yield ctx.review(cand, evidence=[*cand.evidence(), *held], reason=(
                    "every caller holds RTNL: call register_netdevice() instead"))
                continue
            edits = rewrite_t0(ft, node)
        except NeedsReview as exc:
            yield ctx.review(cand, reason=f"T0 not applied: {exc}")
            continue
        yield ctx.rewrite(cand, edits=edits,
                          reason="T0: private nd_lock via rtnl_lock_killable() + "
                          "register_netdevice()")


def _block(var: str, args: str, ind: str) -> str:
    return (f"{var} = rtnl_lock_killable();\n{ind}if (!{var}) {{\n"
            f"{ind}\t{var} = register_netdevice({args});\n{ind}\trtnl_unlock();\n{ind}}}")


def rewrite_t0(ft: FnTree, call: Node) -> list[Edit]:
    args_node = call.child_by_field_name("arguments")
    assert args_node is not None
    args = ft.text(args_node)[1:-1]
    stmt = ft.statement_of(call)
    parent = call.parent
    assert parent is not None
    if "\n" in args:
        # Keep a split argument list valid at the new, deeper indentation.
        args = " ".join(part.strip() for part in args.split("\n"))
    # `v = register_netdev(x);`
    if (stmt.type == "expression_statement" and parent.type == "assignment_expression"
            and parent.parent == stmt):
        var = ft.text(parent.child_by_field_name("left"))  # type: ignore[arg-type]
        op = parent.child_by_field_name("operator")
        if not var.isidentifier() or (op is not None and ft.text(op) != "="):
            raise NeedsReview(f"result stored in {var!r}, not a plain variable")
        if ft.is_unbraced_body(stmt):
            raise NeedsReview("call is an unbraced branch")
        return [ft.edit(ft.start(stmt), ft.end(stmt), _block(var, args, ft.indent(stmt)))]
    if stmt.type == "return_statement" and parent == stmt:
        var, edits = _result_var(ft, reuse=True)
        ind = ft.indent(stmt)
        if ft.is_unbraced_body(stmt):
            raise NeedsReview("return is an unbraced branch")
        edits.append(ft.edit(ft.start(stmt), ft.end(stmt),
                             _block(var, args, ind) + f"\n{ind}return {var};"))
        return edits
    if stmt.type == "if_statement":
        cond = stmt.child_by_field_name("condition")
        if cond is None or not (ft.start(cond) <= ft.start(call) < ft.end(cond)):
            raise NeedsReview("call in the body of an if, not its condition")
        if ft.is_unbraced_body(stmt):
            raise NeedsReview("if statement is an unbraced branch")
        ind = ft.indent(stmt)
        edits: list[Edit] = []
        if parent.type == "assignment_expression":
            var = ft.text(parent.child_by_field_name("left"))  # type: ignore[arg-type]
            if not var.isidentifier():
                raise NeedsReview(f"result stored in {var!r}, not a plain variable")
            target = parent.parent if parent.parent and \
                parent.parent.type == "parenthesized_expression" else parent
            assert target is not None
            if target.parent == cond:
                target = parent  # `if ((err = f()))`: keep one pair of parentheses
            edits.append(ft.edit(ft.start(target), ft.end(target), var))
        elif not (parent == cond or (parent.type in ("unary_expression", "binary_expression")
                                     and parent.parent == cond)):
            raise NeedsReview("call nested in another expression")
        else:
            var, edits = _result_var(ft, reuse=False)
            edits.append(ft.edit(ft.start(call), ft.end(call), var))
        edits.append(ft.edit(ft.start(stmt), ft.start(stmt), _block(var, args, ind) + f"\n{ind}"))
        return edits
    raise NeedsReview(f"call form {stmt.type.replace('_', ' ')} not covered by T0")


def _result_var(ft: FnTree, *, reuse: bool) -> tuple[str, list[Edit]]:
    """A variable for the result: an existing int `err`/`ret` when its value is dead
    right after (return), else a new `int err;` (review when `err` is taken)."""
    for name in ("err", "ret", "rc", "error"):
        if reuse and ft.local_type(name) == "int":
            return name, []
    if ft.declares("err"):
        raise NeedsReview("result needs a variable and `err` is already in use; "
                     "reusing it could change later behaviour")
    return "err", ft.add_local("int err;")
