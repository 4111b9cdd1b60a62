"""Group a stage's rewrite sites into commits and order them.

Grouping rule (one commit per driver or subsystem), derived from the tree's
kbuild Makefiles: a .c file belongs to the module its nearest Makefile builds
it into. Files linked into one composite module (`vxlan-objs := vxlan_core.o
vxlan_mdb.o ...`, `bonding-y += bond_main.o ...`) form one commit; a file that
is an object of its own (`obj-$(CONFIG_VETH) += veth.o`, `obj-y += dev.o`) is
a commit of its own. So catch-all directories (drivers/net, net/ipv4,
net/core) split per file and driver directories stay whole, without a list of
directory names. Without a Makefile that names the file, a leaf directory is
one group and a directory with source subdirectories is a catch-all (per
file). A header goes with the module when every .c of its directory maps to
one group, else it is a group of its own.

Order: groups touching include/ or net/core/ first, then the rest, each by
key. Signature changes: the sites of a helper whose signature changes (definition, header
prototype, netlink and ioctl callers) are merged into one commit when they
name each other (function name, call in an edit, or evidence), so every
commit builds; header edits outside T6 live under include/ and come first.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from migrator.model import Outcome, Site
from migrator.packs import Pack, load_pack

CORE_PREFIXES = ("include/", "net/core/")

MAKEFILE_ASSIGN = re.compile(
    r"^\s*([A-Za-z0-9_.-]+?)-(objs|y|m|\$\([A-Za-z0-9_]+\))\s*[:+?]?=(.*)$"
)
NOT_MODULES = frozenset({"lib", "extra", "always", "targets", "hostprogs", "userprogs", "subdir"})
CALLED_NAME = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
SOURCE_SUFFIXES = (".c", ".h")


@cache
def _makefile_objects(makefile: Path) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """(composite module -> member objects, single-object modules) of a kbuild file."""
    try:
        text = makefile.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}, frozenset()
    text = re.sub(r"\\\n", " ", text)
    composites: dict[str, set[str]] = defaultdict(set)
    singles: set[str] = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        match = MAKEFILE_ASSIGN.match(line)
        if not match:
            continue
        name, _, value = match.groups()
        objects = [token for token in value.split() if token.endswith(".o")]
        if name == "obj":
            singles.update(objects)
        elif name not in NOT_MODULES and not name.startswith(("CFLAGS_", "ccflags", "asflags")):
            composites[name].update(objects)
    composite_objects = {f"{name}.o" for name in composites}
    return (
        {name: frozenset(members) for name, members in composites.items()},
        frozenset(singles - composite_objects),
    )


def _has_source_subdirs(directory: Path) -> bool:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return False
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            for _, _, files in os.walk(entry.path):
                if any(name.endswith(SOURCE_SUFFIXES) for name in files):
                    return True
    return False


def _many_modules(directory: Path) -> bool:
    """A directory whose Makefile builds several modules holds independent files."""
    composites, singles = _makefile_objects(directory / "Makefile")
    return len(composites) + len(singles) > 1


def _kbuild_key(tree: Path, path: str) -> str | None:
    parts = path.split("/")
    for depth in range(len(parts) - 1, -1, -1):
        directory = "/".join(parts[:depth])
        for name in ("Makefile", "Kbuild"):
            makefile = tree / directory / name
            if not makefile.is_file():
                continue
            composites, singles = _makefile_objects(makefile)
            obj = "/".join(parts[depth:])[:-2] + ".o"
            for module, members in sorted(composites.items()):
                if obj in members:
                    return f"{directory}/{module}.ko" if directory else f"{module}.ko"
            if obj in singles:
                return path
    return None


def group_key(tree: Path, path: str) -> str:
    """Name of the commit a changed file belongs to (see the module docstring)."""
    directory = path.rsplit("/", 1)[0] if "/" in path else ""
    if path.endswith(".c"):
        key = _kbuild_key(tree, path)
        if key is not None:
            return key
        if directory and not _has_source_subdirs(tree / directory) and not _many_modules(
            tree / directory
        ):
            return directory + "/"
        return path
    if path.endswith(".h") and directory and not directory.startswith("include"):
        sources = sorted(p.name for p in (tree / directory).glob("*.c"))
        keys = {group_key(tree, f"{directory}/{name}") for name in sources}
        if len(keys) == 1:
            return keys.pop()
    return path


def is_core(path: str) -> bool:
    return path.startswith(CORE_PREFIXES)


@dataclass(slots=True)
class PatchGroup:
    """The edits of one commit."""

    key: str
    sites: list[Site]
    files: list[str]
    subject: str = ""
    message: str = ""
    commit: str = ""
    patch_name: str = ""  # path relative to the stage's output folder

    @property
    def core(self) -> bool:
        return any(is_core(path) for path in self.files)

    @property
    def templates(self) -> list[str]:
        counts: dict[str, int] = defaultdict(int)
        for site in self.sites:
            counts[site.template] += 1
        return sorted(counts, key=lambda t: (-counts[t], t))


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _mentions(site: Site) -> set[str]:
    names = {m.group(1) for edit in site.edits for m in CALLED_NAME.finditer(edit.replacement)}
    names |= {m.group(1) for line in site.evidence for m in CALLED_NAME.finditer(line)}
    names |= set(re.findall(r"[A-Za-z_]\w*", " ".join(site.evidence)))
    return names


def group_sites(tree: Path, sites: Iterable[Site], pack: Pack | None = None
                ) -> list[PatchGroup]:
    """Rewrite sites with edits -> ordered commits (see the module docstring)."""
    signature = _pack(pack).prose.signature_templates
    rewrites = [site for site in sites if site.outcome is Outcome.REWRITE and site.edits]
    keys = _UnionFind()
    site_keys: list[list[str]] = []
    for site in rewrites:
        file_keys = sorted({group_key(tree, edit.file) for edit in site.edits})
        for key in file_keys[1:]:
            keys.union(file_keys[0], key)  # one site is never split over commits
        site_keys.append(file_keys)
    signature_sites = [
        (site, file_keys[0])
        for site, file_keys in zip(rewrites, site_keys, strict=True)
        if site.template in signature
    ]
    for index, (site, key) in enumerate(signature_sites):
        mentioned = _mentions(site)
        for other, other_key in signature_sites[index + 1 :]:
            if (
                other.function == site.function
                or other.function in mentioned
                or site.function in _mentions(other)
            ):
                keys.union(key, other_key)
    by_root: dict[str, list[Site]] = defaultdict(list)
    for site, file_keys in zip(rewrites, site_keys, strict=True):
        by_root[keys.find(file_keys[0])].append(site)
    groups = [
        PatchGroup(
            key=root,
            sites=sorted(members, key=lambda s: (s.file, s.start)),
            files=sorted({edit.file for site in members for edit in site.edits}),
        )
        for root, members in by_root.items()
    ]
    groups.sort(key=lambda group: (not group.core, group.key))
    return groups


def _pack(pack: Pack | None) -> Pack:
    return pack if pack is not None else load_pack()
