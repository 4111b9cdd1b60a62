"""One text policy for the bytes of a kernel tree, from file to edit to patch.

Kernel sources are mostly UTF-8, but old drivers carry Latin-1 (or other) bytes in
comments and strings. Every step that turns source bytes into `str` (analyses, call
arguments, edit text built from the file) decodes with `surrogateescape`, and every step
that turns such text back into bytes (edits, patch files, commit messages) encodes the
same way: a byte that is not UTF-8 survives the round trip unchanged. Text meant only
for a reader (evidence, reasons, JSON) goes through `display()`, which shows such bytes
as U+FFFD instead of failing.
"""

from __future__ import annotations

from pathlib import Path

ENCODING = "utf-8"
ERRORS = "surrogateescape"
CODEC = (ENCODING, ERRORS)  # `data.decode(*CODEC)`, `text.encode(*CODEC)`


def decode(data: bytes) -> str:
    """Source bytes as text; undecodable bytes become lone surrogates (reversible)."""
    return data.decode(ENCODING, ERRORS)


def encode(text: str) -> bytes:
    """Text built from `decode()`d source back to the exact bytes."""
    return text.encode(ENCODING, ERRORS)


def display(text: str) -> str:
    """Text for a reader (evidence, reasons, JSON): escaped bytes shown as U+FFFD."""
    return encode(text).decode(ENCODING, "replace")


def read_text(path: Path) -> str:
    return decode(path.read_bytes())


def write_text(path: Path, text: str) -> None:
    path.write_bytes(encode(text))
