"""Apply byte-range edits to original file text, refusing overlaps and parse regressions."""

from __future__ import annotations

import difflib
import itertools
from collections import defaultdict
from collections.abc import Iterable

from migrator.edit.cwrap import fit_lines
from migrator.model import Edit
from migrator.model.errors import EditConflict, RewriteRefused
from migrator.model.srctext import CODEC
from migrator.parse.tree import count_errors


def group_by_file(edits: Iterable[Edit]) -> dict[str, list[Edit]]:
    by_file: dict[str, list[Edit]] = defaultdict(list)
    for edit in edits:
        by_file[edit.file].append(edit)
    return dict(by_file)


def normalise_edits(edits: Iterable[Edit]) -> list[Edit]:
    """Sort, drop exact duplicates (two sites adding the same line), reject overlaps."""
    unique: list[Edit] = []
    seen: set[tuple[str, int, int, str]] = set()
    for edit in sorted(edits, key=lambda e: (e.file, e.start, e.end)):
        key = (edit.file, edit.start, edit.end, edit.replacement)
        if key in seen:
            continue
        seen.add(key)
        unique.append(edit)
    for prev, cur in itertools.pairwise(unique):
        if prev.file != cur.file:
            continue
        overlapping = cur.start < prev.end or (
            # Two insertions at one point: their order would be a guess.
            cur.start == prev.start == prev.end == cur.end and prev.rule != cur.rule
        )
        if overlapping:
            raise EditConflict(
                f"{cur.file}: rules {prev.rule} and {cur.rule} both edit bytes "
                f"{prev.start}-{prev.end} / {cur.start}-{cur.end}"
            )
    return unique


def apply_edits(original: bytes, edits: Iterable[Edit]) -> bytes:
    """Return `original` with the edits applied; bytes outside them stay identical."""
    out: list[bytes] = []
    pos = 0
    for edit in normalise_edits(edits):
        if edit.start < pos or edit.end > len(original):
            raise EditConflict(f"{edit.file}: edit {edit.start}-{edit.end} out of range")
        out.append(original[pos : edit.start])
        out.append(edit.replacement.encode(*CODEC))
        pos = edit.end
    out.append(original[pos:])
    return b"".join(out)


def rewrite_checked(path: str, original: bytes, edits: Iterable[Edit]) -> bytes:
    """Apply edits, wrap the lines they make longer than 80 columns, then re-parse: a
    result with more parse errors is refused."""

    # added lines kept within 80 columns (coding-style.rst), wrapped as the kernel does
    rewritten = fit_lines(original, apply_edits(original, edits))
    before, after = count_errors(original), count_errors(rewritten)
    if after > before:
        raise RewriteRefused(
            f"{path}: rewrite refused, it adds parse errors ({before} before, {after} after)"
        )
    return rewritten


def unified_diff(path: str, before: bytes, after: bytes, context: int = 3) -> str:
    """A `diff -u` of one file with a/ b/ prefixes, for review output."""
    a = before.decode(*CODEC).splitlines(keepends=True)
    b = after.decode(*CODEC).splitlines(keepends=True)
    lines = difflib.unified_diff(a, b, f"a/{path}", f"b/{path}", n=context)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def byte_offset(text: str, index: int) -> int:
    """Byte offset of character `index` of `text` decoded with surrogateescape."""
    return len(text[:index].encode(*CODEC))


def line_of(text: bytes, offset: int) -> int:
    """1-based line number of a byte offset."""
    return text.count(b"\n", 0, offset) + 1
