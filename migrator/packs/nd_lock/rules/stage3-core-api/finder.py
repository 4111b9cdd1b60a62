"""stage3-core-api, first of stage 3's precedence chain: a register_netdevice() call in
a function that is itself an API another rule migrates the callers of (a function named
like a call another rule selects: register_netdev() in net/core/dev.c, whose callers
stage 1 converts) is the core's own registration path. Review, naming that rule, never
rewritten: its lock handling belongs to the core patch. The rule it binds is known only
once all rules are loaded, hence a finder. Calls hidden in a macro in such a function are
review too.
"""

from __future__ import annotations

from collections.abc import Iterable

from migrator.model import Site
from migrator.packs.nd_lock.common import real_calls
from migrator.rules.context import Candidate, RuleContext


def other_rule_calls(ctx: object) -> dict[str, str]:
    """Selected call name -> id of the rule selecting it, for every rule but this one: a
    function so named *is* an API another rule migrates the callers of."""
    out: dict[str, str] = {}
    for rule in ctx.view.rules:  # type: ignore[attr-defined]
        if rule.id == ctx.rule.id:  # type: ignore[attr-defined]
            continue
        for name in rule.calls:
            out.setdefault(name, rule.id)
    return out


def find(ctx: RuleContext) -> Iterable[Site]:
    """Binds the rule migrating the callers of the function the call is in: a function so
    named *is* that API, its lock handling the core patch's."""
    api = other_rule_calls(ctx)
    for cand, _ft, _node in real_calls(ctx):
        assert isinstance(cand, Candidate)
        name = cand.function.name
        if name in api:
            yield ctx.review(cand, reason=f"core API: {name}() is itself the registration "
                             f"API migrated by rule {api[name]}; its lock handling belongs "
                             "to the core patch")
    yield from ctx.macro_sites(lambda c: c.function.name in api)
