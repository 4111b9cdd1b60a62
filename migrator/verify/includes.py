"""Which `.c` files to compile after a patch: its own, plus the series' files that
include a header it touches (`#include` lines followed through headers).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]', re.MULTILINE)


class IncludeScanner:
    """Which headers a `.c` file includes, directly or through other headers, by
    reading `#include` lines (every branch of `#if`: it over-approximates).
    ``"x.h"`` resolves beside the including file first; ``<x.h>`` in include/,
    include/uapi/ and the architecture's include directories (generated ones in
    the build directory)."""

    def __init__(self, tree: Path, objtree: Path | None = None,
                 srcarch: str | None = None) -> None:
        self.tree = tree
        roots = [tree / "include", tree / "include" / "uapi"]
        if srcarch:
            roots += [tree / "arch" / srcarch / "include",
                      tree / "arch" / srcarch / "include" / "uapi"]
        if objtree is not None:
            roots += [objtree / "include"]
            if srcarch:
                roots += [objtree / "arch" / srcarch / "include" / "generated",
                          objtree / "arch" / srcarch / "include" / "generated" / "uapi"]
        self.roots = roots
        self._edges: dict[Path, list[Path]] = {}

    def _includes(self, path: Path) -> list[Path]:
        if path in self._edges:
            return self._edges[path]
        try:
            text = path.read_bytes()
        except OSError:
            text = b""
        found: list[Path] = []
        for match in INCLUDE.finditer(text):
            name = match.group(2).decode(errors="replace").strip()
            candidates = [path.parent / name] if match.group(1) == b'"' else []
            candidates += [root / name for root in self.roots]
            for candidate in candidates:
                if candidate.is_file():
                    found.append(Path(os.path.normpath(candidate)))
                    break
        self._edges[path] = found
        return found

    def includes(self, source: str, header: str) -> bool:
        """True when `source` (relative path) reaches `header` (relative path)."""
        target = Path(os.path.normpath(self.tree / header))
        start = Path(os.path.normpath(self.tree / source))
        seen = {start}
        todo = [start]
        while todo:
            for included in self._includes(todo.pop()):
                if included == target:
                    return True
                if included not in seen:
                    seen.add(included)
                    todo.append(included)
        return False


def objects_for_patch(touched: Sequence[str], series_sources: Sequence[str],
                      tree: Path, scanner: IncludeScanner,
                      known_deps: Callable[[str], set[str]] | None = None) -> list[str]:
    """The `.c` files to compile after a patch touching `touched` (relative paths,
    files the patch adds or modifies): its own `.c` files, plus, for each header
    it touches, the series' `.c` files (present in the tree) that include it."""
    chosen = [path for path in touched if path.endswith(".c")]
    headers = [path for path in touched if path.endswith(".h")]
    if headers:
        for source in series_sources:
            if source in chosen or not (tree / source).is_file():
                continue
            deps = known_deps(source) if known_deps else set()
            if any(header in deps or scanner.includes(source, header) for header in headers):
                chosen.append(source)
    return chosen
