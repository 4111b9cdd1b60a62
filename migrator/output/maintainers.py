"""MAINTAINERS parser and a get_maintainer.pl-like To/Cc lookup.

Matching follows scripts/get_maintainer.pl: `F:`/`X:` patterns are prefix
regexes where `*` is `.*` and `?` is `.`; a pattern ending in `/` (or naming an
existing directory) matches everything below it, any other pattern must match
with the same number of `/` as the file (so `drivers/net/*` does not reach
`drivers/net/vxlan/x.c`). `N:` is a regex searched in the path. A section whose
`X:` matches is skipped. M: -> To; R: and L: -> Cc. Like get_maintainer.pl
without --git-chief-penguins, the maintainers of "THE REST" are not added.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

ENTRY = re.compile(r"^([A-Z]):\s*(.*?)\s*$")
CHIEF_SECTION = "THE REST"


@dataclass(slots=True)
class Section:
    title: str
    maintainers: list[str] = field(default_factory=list)  # M:
    reviewers: list[str] = field(default_factory=list)  # R:
    lists: list[str] = field(default_factory=list)  # L:
    files: list[re.Pattern[str]] = field(default_factory=list)  # F:
    excludes: list[re.Pattern[str]] = field(default_factory=list)  # X:
    file_is_dir: list[bool] = field(default_factory=list)
    exclude_is_dir: list[bool] = field(default_factory=list)
    regexes: list[re.Pattern[str]] = field(default_factory=list)  # N:

    def match_depth(self, path: str) -> int:
        """0 if the section does not cover `path`, else 1 + depth of the best pattern."""
        for pattern, is_dir in zip(self.excludes, self.exclude_is_dir, strict=True):
            if _pattern_matches(pattern, is_dir, path):
                return 0
        best = 0
        for pattern, is_dir in zip(self.files, self.file_is_dir, strict=True):
            if _pattern_matches(pattern, is_dir, path):
                best = max(best, 1 + pattern.pattern.count("/"))
        if not best and any(regex.search(path) for regex in self.regexes):
            best = 1
        return best


@dataclass(frozen=True, slots=True)
class Recipients:
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.to or self.cc)


def _pattern_matches(pattern: re.Pattern[str], is_dir: bool, path: str) -> bool:
    if not pattern.match(path):
        return False
    return is_dir or path.count("/") == pattern.pattern.count("/")


def _compile_file_pattern(value: str, tree: Path | None) -> tuple[re.Pattern[str], bool]:
    is_dir = value.endswith("/")
    if not is_dir and tree is not None and "*" not in value and (tree / value).is_dir():
        value += "/"
        is_dir = True
    regex = re.escape(value).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(regex), is_dir


def _clean_address(value: str) -> str:
    # "netdev@vger.kernel.org (moderated for non-subscribers)" -> the address
    return re.sub(r"\s+\([^)]*\)\s*$", "", value).strip()


def parse(text: str, tree: Path | None = None) -> list[Section]:
    """Sections of a MAINTAINERS file; the free-text preamble is skipped."""
    sections: list[Section] = []
    current: Section | None = None
    previous_blank = True
    for raw in text.splitlines():
        line = raw.rstrip()
        entry = ENTRY.match(line)
        if entry and current is not None:
            kind, value = entry.groups()
            if kind == "M":
                current.maintainers.append(_clean_address(value))
            elif kind == "R":
                current.reviewers.append(_clean_address(value))
            elif kind == "L":
                current.lists.append(_clean_address(value))
            elif kind in ("F", "X"):
                pattern, is_dir = _compile_file_pattern(value, tree)
                if kind == "F":
                    current.files.append(pattern)
                    current.file_is_dir.append(is_dir)
                else:
                    current.excludes.append(pattern)
                    current.exclude_is_dir.append(is_dir)
            elif kind == "N":
                with suppress(re.error):
                    current.regexes.append(re.compile(value, re.VERBOSE))
            previous_blank = False
        elif not line.strip():
            previous_blank = True
        elif previous_blank and not line.startswith((" ", "\t")):
            # A section title follows a blank line and precedes its entries.
            current = Section(title=line.strip())
            sections.append(current)
            previous_blank = False
        else:
            previous_blank = False
    return [section for section in sections if section.files or section.regexes]


@dataclass(slots=True)
class Maintainers:
    sections: list[Section]

    @classmethod
    def from_tree(cls, tree: Path) -> Maintainers | None:
        path = tree / "MAINTAINERS"
        if not path.is_file():
            return None
        return cls(parse(path.read_text(encoding="utf-8", errors="replace"), tree))

    def covered_by(self, path: str, titles: Iterable[str]) -> bool:
        """True when a section titled one of `titles` covers `path` (its X: honoured)."""
        wanted = set(titles)
        return any(section.match_depth(path) for section in self.sections
                   if section.title in wanted)

    def recipients(self, paths: Iterable[str]) -> Recipients:
        """To (maintainers) and Cc (reviewers, lists) for a patch touching `paths`."""
        to: list[str] = []
        cc: list[str] = []
        for path in paths:
            matched = [
                (depth, index, section)
                for index, section in enumerate(self.sections)
                if (depth := section.match_depth(path))
            ]
            # Most specific section first, like get_maintainer.pl.
            for _, _, section in sorted(matched, key=lambda item: (-item[0], item[1])):
                if section.title != CHIEF_SECTION:
                    to.extend(section.maintainers)
                cc.extend(section.reviewers)
                cc.extend(section.lists)
        to_unique = _unique(to)
        seen = {address.lower() for address in to_unique}
        cc_unique = [address for address in _unique(cc) if address.lower() not in seen]
        return Recipients(tuple(to_unique), tuple(cc_unique))


def _unique(addresses: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for address in addresses:
        key = address.lower()
        if address and key not in seen:
            seen.add(key)
            out.append(address)
    return out


def merge(recipients: Iterable[Recipients]) -> Recipients:
    """Union for a cover letter: everyone a patch goes to."""
    to: list[str] = []
    cc: list[str] = []
    for item in recipients:
        to.extend(item.to)
        cc.extend(item.cc)
    to_unique = _unique(to)
    seen = {address.lower() for address in to_unique}
    return Recipients(tuple(to_unique), tuple(a for a in _unique(cc) if a.lower() not in seen))


def format_headers(recipients: Recipients) -> str:
    """`To:` / `Cc:` mail header lines, folded one address per line."""
    lines: list[str] = []
    for name, addresses in (("To", recipients.to), ("Cc", recipients.cc)):
        if addresses:
            lines.append(f"{name}: " + ",\n    ".join(addresses) + "\n")
    return "".join(lines)
