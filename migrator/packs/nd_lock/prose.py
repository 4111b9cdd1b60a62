"""The context the pack's templates/texts.j2 gets as `d` for a patch's sites: the
callbacks, attributes and helpers its sites name (read from their reasons and
evidence) and the functions they are in."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from migrator.model import Site

_CALLBACK = re.compile(r"\.(newlink|changelink)(?: = |\(\) | callback )(\w+)")
_KIND = re.compile(r"\b(newlink|changelink): ")
_ATTR = re.compile(r"\b(?:tb|data)\[(IFLA_\w+)\]|\b(IFLA_\w+)\b")
_HELPER_CALL = re.compile(r"^(\w+)\(\) call: \.(?:newlink|changelink) callback")


def _functions(names: Iterable[str]) -> str:
    """"a()", "a() and b()", "a(), b() and c()"."""
    calls = [f"{name}()" for name in sorted(set(names)) if name]
    if len(calls) <= 1:
        return "".join(calls)
    return ", ".join(calls[:-1]) + " and " + calls[-1]


def _call_list(names: Sequence[str]) -> str:
    """Like _functions() but in the order given."""
    calls = [f"{name}()" for name in names]
    return ", ".join(calls[:-1]) + " and " + calls[-1] if len(calls) > 1 else "".join(calls)


def message_context(group: Sequence[Site], chosen: Sequence[Site]) -> dict[str, object]:
    """What texts.j2 says about `chosen`, sites of the patch whose sites are `group`."""
    words = [site.reason for site in group]
    words += [line for site in group for line in site.evidence]
    callbacks = sorted({(m.group(1), m.group(2)) for text in words
                        for m in _CALLBACK.finditer(text)}, key=lambda c: (c[0] != "newlink", c))
    kinds = sorted({kind for kind, _ in callbacks} |
                   {m.group(1) for site in group if site.template == "link_deps"
                    for m in _KIND.finditer(site.reason)}, key=lambda kind: kind != "newlink")
    callback_names = list(dict.fromkeys(name for _, name in callbacks))
    deps_kinds = sorted({m.group(1) for site in group if site.template == "link_deps"
                         for m in _KIND.finditer(site.reason)}, key=lambda k: k != "newlink")
    known = {kind: [name for k, name in callbacks if k == kind] for kind in deps_kinds}
    if deps_kinds and all(known.values()):
        deps_who = _call_list(list(dict.fromkeys(n for names in known.values() for n in names)))
    else:
        deps_who = "The " + " and ".join(f".{kind}" for kind in deps_kinds) + (
            " callbacks" if len(deps_kinds) > 1 else " callback")
    attrs = sorted({m.group(1) or m.group(2) for site in group
                    if site.template == "link_deps" for m in _ATTR.finditer(site.reason)})
    helpers = sorted({m.group(1) for site in group if site.template == "T6"
                      if (m := _HELPER_CALL.match(site.reason))})
    replacements = " ".join(edit.replacement for site in chosen for edit in site.edits)
    names = {site.function for site in chosen if site.function}
    return {
        "fns": _functions(names) or "The driver",
        "plural": len(names) > 1,
        "callbacks": _call_list(callback_names),
        "several": len(callback_names) > 1 or len(kinds) > 1,
        "kinds": " and ".join(f".{kind}" for kind in kinds) or ".newlink",
        "attrs": " and ".join(attrs),
        "deps_who": deps_who if deps_kinds else "",
        "deps_plural": " and " in deps_who if deps_kinds else False,
        "helper": _functions(helpers) if len(helpers) == 1 else "",
        "register": "__register_netdevice" in replacements,
        "unregister": "__unregister_netdevice" in replacements,
    }


