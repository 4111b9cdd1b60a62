"""Keep added C lines within 80 columns, the way kernel code wraps them.

coding-style.rst: the limit on the length of lines is 80 columns; statements longer
than that are broken into sensible chunks, descendants placed substantially to the
right, commonly aligned under the opening parenthesis of the call (tabs, then
spaces).  checkpatch --strict checks that alignment (PARENTHESIS_ALIGNMENT).

`fit_lines()` looks at the lines an edit added or changed (not at the rest of the
file) and breaks those that pass the limit after a comma, continuing under the
opening parenthesis the comma belongs to: a line the patch touches is one
checkpatch reads, so it is wrapped even where the original was already too long.
A line that cannot be broken (no comma inside parentheses, a comment or a string in
the way) is left as it is.
"""

from __future__ import annotations

import difflib

from migrator.model import srctext

WIDTH = 80
TAB = 8


def columns(text: str) -> int:
    """Display width of a line with kernel tabs."""
    return len(text.expandtabs(TAB))


def indentation(column: int) -> str:
    """Tabs then spaces up to display column `column` (0-based)."""
    return "\t" * (column // TAB) + " " * (column % TAB)


def _break_points(line: str, base_align: int | None) -> list[tuple[int, int, int]]:
    """(index after the comma, depth, column to align the rest at) of each comma that
    may end a line: inside parentheses (or, for a continuation line, at its own level,
    aligned at `base_align`), outside strings and character constants."""
    points: list[tuple[int, int, int]] = []
    stack: list[int] = []  # display column of each open parenthesis
    column = 0
    quote = ""
    index = 0
    while index < len(line):
        char = line[index]
        if quote:
            if char == "\\":
                index += 1
                column += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([":
            stack.append(column)
        elif char in ")]":
            if stack:
                stack.pop()
        elif char == "," and index + 1 < len(line) and line[index + 1] == " ":
            if stack:
                points.append((index + 1, len(stack), stack[-1] + 1))
            elif base_align is not None:
                points.append((index + 1, 0, base_align))
        column = (column // TAB + 1) * TAB if char == "\t" else column + 1
        index += 1
    return points


def wrap_line(line: str, width: int = WIDTH) -> list[str]:
    """`line` as kernel-style lines of at most `width` columns where it can be broken;
    the result joined with single spaces at the breaks is the same statement."""
    if columns(line) <= width or "/*" in line or "//" in line or line.lstrip().startswith("#"):
        return [line]
    out: list[str] = []
    current, align = line, None
    while columns(current) > width:
        points = [p for p in _break_points(current, align)
                  if columns(current[: p[0]]) <= width
                  and columns(indentation(p[2]) + current[p[0]:].lstrip()) < columns(current)]
        if not points:
            break
        # the outermost level that can break, as late on the line as it fits
        index, _, column = min(points, key=lambda p: (p[1], -p[0]))
        out.append(current[:index].rstrip())
        current = indentation(column) + current[index:].lstrip()
        align = column
    out.append(current)
    return out


def fit_lines(original: bytes, rewritten: bytes, width: int = WIDTH) -> bytes:
    """`rewritten` with the lines an edit added or changed wrapped to `width` columns.
    Bytes outside those lines are kept (undecodable bytes too: see srctext)."""
    old = srctext.decode(original).split("\n")
    new = srctext.decode(rewritten).split("\n")
    if all(columns(line) <= width for line in new):
        return rewritten
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or tag == "delete":
            out.extend(new[j1:j2])
            continue
        for line in new[j1:j2]:
            out.extend(wrap_line(line, width))
    return srctext.encode("\n".join(out))
