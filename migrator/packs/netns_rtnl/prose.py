"""The context templates/texts.j2 gets as `d` for a patch of this pack, read from its
sites' reasons: which kinds of ->exit_rtnl() conversion the patch carries and the
functions they name."""

from __future__ import annotations

import re
from collections.abc import Sequence

from migrator.model import Site

_LOOP = re.compile(r"^per-namespace callback (\w+)\(\): (\w+)\(\) no longer loops")
_COLLAPSE = re.compile(r"^per-namespace callback (\w+)\(\): (\w+)\(\) becomes the "
                       r"\.exit_rtnl callback, (\w+)\(\) goes")
_FORWARD = re.compile(r"^per-namespace callback (\w+)\(\): calls (\w+)\(\) for its "
                      r"namespace instead of handing the batch to (\w+)\(\)")
_VARIANT = re.compile(r"^add (\w+)\(\), the per-namespace variant of (\w+)\(\), for the "
                      r"\.exit_rtnl callbacks (.*)$")
_LOCK = re.compile(r"^rtnl_lock\(\) -> rtnl_net_lock\((\w+)\)")


def _calls(names: Sequence[str]) -> str:
    """"a()", "a() and b()", "a(), b() and c()"."""
    calls = [f"{name}()" for name in dict.fromkeys(names)]
    return ", ".join(calls[:-1]) + " and " + calls[-1] if len(calls) > 1 else "".join(calls)


def message_context(group: Sequence[Site], chosen: Sequence[Site]) -> dict[str, object]:
    """What texts.j2 says about `chosen`, sites of the patch whose sites are `group`."""
    loops = [m for s in chosen if (m := _LOOP.match(s.reason))]
    collapses = [m for s in chosen if (m := _COLLAPSE.match(s.reason))]
    forwards = [m for s in chosen if (m := _FORWARD.match(s.reason))]
    variants = [m for s in chosen if (m := _VARIANT.match(s.reason))]
    return {
        "fns": _calls([s.function for s in chosen if s.function]) or "The driver",
        "plural": len({s.function for s in chosen}) > 1,
        "loop_old": _calls([m.group(2) for m in loops]),
        "loop_new": _calls([m.group(1) for m in loops]),
        "collapse_old": _calls([m.group(3) for m in collapses]),
        "collapse_helper": _calls([m.group(2) for m in collapses]),
        "forward_old": _calls([s.function for s in chosen if _FORWARD.match(s.reason)]),
        "forward_new": _calls([m.group(1) for m in forwards]),
        "forward_variant": _calls([m.group(2) for m in forwards]),
        "forward_batch": _calls([m.group(3) for m in forwards]),
        "variant": _calls([m.group(1) for m in variants]),
        "variant_of": _calls([m.group(2) for m in variants]),
        "variant_users": _calls([u.strip().removesuffix("()") for u in
                                 variants[0].group(3).split(",")]) if variants else "",
        "locks": any(_LOCK.match(s.reason) for s in chosen),
    }
