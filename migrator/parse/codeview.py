"""The code view normalize's passes work on: _Text holds the output bytes and a copy of
the text with comments, literal contents and preprocessor lines blanked (so patterns
never match inside them), with the conditional directives found; plus the scanning
helpers over it (significant bytes, words, matching parentheses, brace depth) and the
word classes several passes share.
"""

from __future__ import annotations

import re
from bisect import bisect_right

_BLANK = bytes(0x0A if i == 0x0A else 0x20 for i in range(256))
_UNDERSCORE = bytes(0x0A if i == 0x0A else 0x5F for i in range(256))

_LEX = re.compile(
    rb"""
      (?P<c>/\*.*?(?:\*/|\Z) | //(?:\\\r?\n|[^\n])*)
    | (?P<s>"(?:\\.|[^"\\\n])*" | '(?:\\.|[^'\\\n])*')
    | (?P<p>^[ \t]*\#[ \t]*(?P<d>\w*)(?:/\*.*?(?:\*/|\Z)|\\\r?\n|[^\n])*)
    """,
    re.DOTALL | re.MULTILINE | re.VERBOSE,
)

_BRACKETS = re.compile(rb"[{}()]")
_WS = b" \t\r\n\f\v"
_IDCH = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")

# Words that may precede `name(` without making it a statement-level macro.
_KEYWORDS = frozenset(
    b"""if for while switch return sizeof typeof __typeof__ __typeof _Alignof alignof
    offsetof case goto else do defined __attribute__ __attribute asm __asm__ __asm
    _Generic _Static_assert static_assert volatile __volatile__ __builtin_offsetof
    __builtin_types_compatible_p va_arg""".split()
)
_TAGS = frozenset((b"struct", b"union", b"enum"))
_STORAGE = frozenset(b"static extern inline const volatile register auto __inline__".split())


def _prev_sig(cv: bytearray, i: int) -> int:
    """Index of the last non-blank byte before i, or -1."""
    i -= 1
    while i >= 0 and cv[i] in _WS:
        i -= 1
    return i


def _next_sig(cv: bytearray, i: int) -> int:
    n = len(cv)
    while i < n and cv[i] in _WS:
        i += 1
    return i


def _word_before(cv: bytearray, i: int) -> bytes:
    """The identifier ending at index i (inclusive), or b''."""
    j = i
    while j >= 0 and cv[j] in _IDCH:
        j -= 1
    return bytes(cv[j + 1 : i + 1])


def _word_at(cv: bytearray, i: int) -> bytes:
    j = i
    n = len(cv)
    while j < n and cv[j] in _IDCH:
        j += 1
    return bytes(cv[i:j])


def _match_paren(cv: bytearray, i: int) -> int:
    """Given cv[i] == '(', index just past its matching ')' (or -1)."""
    depth = 0
    for m in _BRACKETS.finditer(cv, i):
        c = cv[m.start()]
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return m.end()
    return -1


def _open_paren(cv: bytearray, i: int) -> int:
    """Given cv[i] == ')', index of its matching '(' (or -1)."""
    depth = 0
    while i >= 0:
        c = cv[i]
        if c == 0x29:
            depth += 1
        elif c == 0x28:
            depth -= 1
            if depth == 0:
                return i
        i -= 1
    return -1


class _Text:
    def __init__(self, src: bytes) -> None:
        self.out = bytearray(src)
        self.cv = bytearray(src)
        # Live `#if` arms blanked because braces do not balance across the arms: their
        # code is not parsed, so the callers list what it calls for review (dropped_arms).
        self.dropped: list[tuple[int, int]] = []
        # (start, end, directive word) for conditional directives.
        self.dirs: list[tuple[int, int, bytes]] = []
        cv = self.cv
        for m in _LEX.finditer(src):
            s, e = m.span()
            if m.group("s") is not None:
                if e - s > 2:
                    cv[s + 1 : e - 1] = src[s + 1 : e - 1].translate(_BLANK)
                continue
            cv[s:e] = src[s:e].translate(_BLANK)
            d = m.group("d")
            if d in (b"if", b"ifdef", b"ifndef", b"elif", b"else", b"endif"):
                self.dirs.append((s, e, d))

    def blank(self, a: int, b: int) -> None:
        seg = self.out[a:b].translate(_BLANK)
        self.out[a:b] = seg
        self.cv[a:b] = seg

    def put(self, a: int, data: bytes) -> None:
        self.out[a : a + len(data)] = data
        self.cv[a : a + len(data)] = data


class _Depth:
    """Brace depth at any offset of the code view (snapshot)."""

    def __init__(self, cv: bytearray) -> None:
        self.pos: list[int] = []
        self.depth: list[int] = [0]
        d = 0
        for m in re.finditer(rb"[{}]", cv):
            d += 1 if cv[m.start()] == 0x7B else -1
            self.pos.append(m.start())
            self.depth.append(d)

    def at(self, i: int) -> int:
        return self.depth[bisect_right(self.pos, i - 1)]
