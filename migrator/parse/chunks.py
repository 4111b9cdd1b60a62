"""Cheap lexical pre-split of a C file into top-level chunks.

Kernel style closes every top-level block (function body, struct or
initializer) with a `}` in column 0, so a file can be cut after each such
line and every piece parsed on its own.  One regex pass tokenises only what
matters for finding those lines: comments, string/char literals, `#define`
bodies (skipped), conditional directives and braces.
"""

from __future__ import annotations

import re

# Order matters: comments/literals/defines are consumed whole so that braces
# inside them are never counted.
_TOKEN = re.compile(
    rb"""
      /\*.*?(?:\*/|\Z)                                  # block comment
    | //(?:\\\r?\n|[^\n])*                              # line comment (may continue)
    | "(?:\\.|[^"\\\n])*"                               # string literal
    | '(?:\\.|[^'\\\n])*'                               # char literal
    | ^[ \t]*\#[ \t]*define\b(?:\\\r?\n|[^\n])*          # macro definition
    | ^[ \t]*\#[ \t]*(?P<dir>if|ifdef|ifndef|elif|else|endif)\b(?P<rest>[^\n]*)
    | [{}]
    """,
    re.DOTALL | re.MULTILINE | re.VERBOSE,
)
_IF0 = re.compile(rb"\s*0\s*(?:$|/[*/])")


def split_top_level(src: bytes) -> list[tuple[int, int]]:
    """Return consecutive (start, end) byte ranges covering `src` exactly.

    A chunk ends after a line starting with `}` that brings the brace depth
    back to 0.  Inside `#if` groups only the first branch counts towards the
    depth (other branches restart from the depth at `#if`), so alternative
    function headers do not desynchronise the count; `#if 0` text is ignored.
    """
    n = len(src)
    cuts: list[int] = []
    depth = 0
    # Per open conditional: [depth at #if, depth at end of first branch or
    # None, skipping-because-#if-0 flag].
    stack: list[list[object]] = []
    skip = 0  # number of enclosing `#if 0` branches being skipped
    for m in _TOKEN.finditer(src):
        d = m.group("dir")
        if d is not None:
            if d in (b"if", b"ifdef", b"ifndef"):
                zero = d == b"if" and _IF0.match(m.group("rest")) is not None
                stack.append([depth, None, zero])
                if zero:
                    skip += 1
            elif stack:
                top = stack[-1]
                if top[2]:  # leaving the `#if 0` branch
                    top[2] = False
                    skip -= 1
                if d == b"endif":
                    stack.pop()
                    if top[1] is not None:
                        depth = top[1]  # type: ignore[assignment]
                else:
                    if top[1] is None:
                        top[1] = depth
                    depth = top[0]  # type: ignore[assignment]
            continue
        if skip:
            continue
        tok = src[m.start()]
        if tok == 0x7B:  # {
            depth += 1
        elif tok == 0x7D:  # }
            depth -= 1
            if depth < 0:  # stray `}` (unbalanced #if text): resynchronise
                depth = 0
            s = m.start()
            if depth == 0 and (s == 0 or src[s - 1] == 0x0A):
                e = src.find(b"\n", s)
                cut = n if e < 0 else e + 1
                if not cuts or cut > cuts[-1]:
                    cuts.append(cut)
    spans: list[tuple[int, int]] = []
    start = 0
    for c in cuts:
        if c > start:
            spans.append((start, c))
            start = c
    if start < n or not spans:
        spans.append((start, n))
    return spans


def define_spans(src: bytes) -> list[tuple[int, int]]:
    """(start, end) of each `#define` of `src`, continuation lines included; defines inside
    comments or string literals are not reported (the tokeniser consumes those first)."""
    out = []
    for m in _TOKEN.finditer(src):
        if m.group("dir") is None and src[m.start()] != 0x2F and src[m.start()] in b" \t#":
            text = m.group(0).lstrip(b" \t")
            if text.startswith(b"#") and text[1:].lstrip(b" \t").startswith(b"define"):
                out.append((m.start(), m.end()))
    return out
