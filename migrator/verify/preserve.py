"""Bytes outside the edit stay (SPEC §7): comments and preprocessor lines of a
rewritten function survive the rewrite.

Seeing only the text before and after, the contract is: every comment of the
original appears in the result as many times (a rewrite may add comments, not
lose them); every preprocessor line appears as many times, in the same order
relative to the other directives, and a directive at column 0 stays at column 0.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_LEX = re.compile(
    rb"""
      (?P<c>/\*.*?(?:\*/|\Z) | //(?:\\\r?\n|[^\n])*)
    | (?P<s>"(?:\\.|[^"\\\n])*" | '(?:\\.|[^'\\\n])*')
    | (?P<p>^[ \t]*\#(?:/\*.*?(?:\*/|\Z)|\\\r?\n|[^\n])*)
    """,
    re.DOTALL | re.MULTILINE | re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Item:
    kind: str  # "comment" | "directive"
    text: str  # directives: stripped of leading blanks; comments: as written
    line: int  # 1-based, counted from the start of the text given (plus line_base)
    column: int  # 0-based byte column of its first character


@dataclass(frozen=True, slots=True)
class Loss:
    item: Item
    problem: str  # "lost" | "moved off column 0" | "out of order"

    @property
    def what(self) -> str:
        return "preprocessor line" if self.item.kind == "directive" else "comment"

    def describe(self) -> str:
        first = self.item.text.splitlines()[0] if self.item.text else ""
        return f"{self.what} {self.problem}: line {self.item.line}: {first}"


def items(src: bytes, line_base: int = 0) -> list[Item]:
    """Comments and preprocessor lines of `src`, in order."""
    out: list[Item] = []
    for m in _LEX.finditer(src):
        if m.group("s") is not None:
            continue
        start = m.start()
        line = src.count(b"\n", 0, start) + 1 + line_base
        column = start - (src.rfind(b"\n", 0, start) + 1)
        body = m.group(0)
        if m.group("p") is not None:
            stripped = body.lstrip(b" \t")
            column += len(body) - len(stripped)
            text = stripped.decode("utf-8", "replace").rstrip()
            out.append(Item("directive", re.sub(r"[ \t]+", " ", text), line, column))
        else:
            out.append(Item("comment", body.decode("utf-8", "replace"), line, column))
    return out


def _subsequence(needle: list[str], haystack: list[str]) -> int | None:
    """Index in `needle` of the first element that breaks `needle` being a
    subsequence of `haystack`; None when it is one."""
    pos = 0
    for index, want in enumerate(needle):
        while pos < len(haystack) and haystack[pos] != want:
            pos += 1
        if pos == len(haystack):
            return index
        pos += 1
    return None


def _extends(new: str, old: str) -> bool:
    """`new` is `old` with lines added (a kernel-doc comment that gained a parameter)."""
    old_lines = [line.strip() for line in old.splitlines()]
    return len(old_lines) > 1 and _subsequence(
        old_lines, [line.strip() for line in new.splitlines()]) is None


def check(original: bytes, patched: bytes, line_base: int = 0) -> list[Loss]:
    """What the rewrite lost or moved; lines are the original's (plus line_base). A
    multi-line comment the rewrite only added lines to counts as kept."""
    before, after = items(original, line_base), items(patched, line_base)
    have = Counter((i.kind, i.text) for i in after)
    at_zero = Counter(i.text for i in after if i.kind == "directive" and i.column == 0)
    spare = Counter(have)  # patched items no original item claimed exactly
    for item in before:
        if spare[(item.kind, item.text)]:
            spare[(item.kind, item.text)] -= 1
    extended = [i.text for i in after if i.kind == "comment" and spare[(i.kind, i.text)]]
    losses: list[Loss] = []
    seen: Counter[tuple[str, str]] = Counter()
    seen_zero: Counter[str] = Counter()
    for item in before:
        key = (item.kind, item.text)
        seen[key] += 1
        if seen[key] > have[key]:
            grown = next((text for text in extended if _extends(text, item.text)), None)
            if item.kind == "comment" and grown is not None:
                extended.remove(grown)
                continue
            losses.append(Loss(item, "lost"))
            continue
        if item.kind == "directive" and item.column == 0:
            seen_zero[item.text] += 1
            if seen_zero[item.text] > at_zero[item.text]:
                losses.append(Loss(item, "moved off column 0"))
    if not losses:
        directives = [i for i in before if i.kind == "directive"]
        broken = _subsequence([i.text for i in directives],
                              [i.text for i in after if i.kind == "directive"])
        if broken is not None:
            losses.append(Loss(directives[broken], "out of order"))
    return losses
