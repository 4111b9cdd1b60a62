"""toy2-frob-in-irq: which frob() callers are interrupt handlers. A function whose
name the file passes to request_irq() is one: its frob() calls are review (bar_lock()
sleeps). The other calls are not this rule's: toy2-bracket-frob, which runs after it,
brackets them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from migrator.model import Site
from migrator.rules.context import RuleContext


def find(ctx: RuleContext) -> Iterable[Site]:
    handlers: dict[str, set[str]] = {}
    for cand in ctx.candidates:
        file = cand.call.file
        if file not in handlers:
            src = ctx.index.source(file)
            handlers[file] = set(re.findall(rb"\brequest_irq\s*\([^,]*,\s*(\w+)", src))
        if cand.function.name.encode() in handlers[file]:
            yield ctx.review(cand, reason=f"{cand.function.name}() is an interrupt handler "
                             "(request_irq()): bar_lock() sleeps")
