"""Packs: one migration each, declared by `<packs dir>/<name>/pack.toml`.

A pack holds everything that names the lock or API being migrated: its stages
(numbers, titles, descriptions), the index boundaries, the option declarations the
command line is generated from, the acquire/release pairs the verifier checks, the
API names the completeness check knows, the commit prose (`templates/texts.j2`) and
its rules (`rules/<id>/rule.toml`, with `explain.md` and `cases/`). Python in a pack
(finders, the commit-log context, a census) is imported as `migrator.packs.<name>.*`.

The shipped packs live beside this file; `MIGRATOR_PACKS_PATH` (directories separated
by `os.pathsep`) or `--packs-dir` adds others. A pack's Python may use the layers
below this one (model, parse, index, callgraph, edit, rules), never the engine, the
verifier or the output.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from migrator.model.errors import MigratorError, read_toml
from migrator.rules.load import Rule, load_rules

PACKS_DIR = Path(__file__).resolve().parent
DEFAULT_PACK = "nd_lock"
PACK_FILE = "pack.toml"
OPTION_TYPES = ("bool", "choice", "str", "list")


@dataclass(frozen=True, slots=True)
class OptionDecl:
    """One pack option: `[options.<name>]` in pack.toml. The command line gets `flag`
    (`--with-core`); precedence: default < pack < rule `[options]` < flag given."""

    name: str
    type: str  # one of OPTION_TYPES
    default: Any
    help: str
    flag: str | None = None  # None: no command-line flag
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StageDecl:
    number: int
    title: str  # the cover letter's subject ("Register devices with an nd_lock")
    description: str  # the cover letter's first paragraph


@dataclass(frozen=True, slots=True)
class Prose:
    """How the series writer words a pack's patches (`[prose]` in pack.toml)."""

    subject_prefix: str  # "net": the cover letters' subject prefix
    design: str  # what replaces a spec reference in a reason ("the nd_lock design")
    default_summary: str  # a commit subject when no text matches
    body_order: tuple[str, ...]  # order of the texts in a log, by template
    primary: tuple[str, ...]  # the template that names a patch, by weight
    own_texts: frozenset[str]  # rule ids (or id:template) with texts of their own
    signature_templates: frozenset[str]  # sites changing a signature: one commit
    context: str | None  # "module:function": the texts' context for a group's sites


@dataclass(frozen=True, slots=True)
class Pack:
    name: str
    path: Path
    title: str
    description: str
    stages: tuple[StageDecl, ...]
    templates: tuple[str, ...]  # template ids its rules use
    options: tuple[OptionDecl, ...]
    boundaries: frozenset[str]  # calls whose callers the caller search never crosses
    scope_names: frozenset[str]  # files mentioning one bound the search for callers
    stats_targets: frozenset[str]  # calls `scan --stats` counts
    index_names: frozenset[str]  # further calls the index records (census)
    prose: Prose
    census: dict[str, str] = field(default_factory=dict)  # kind -> "module:function"

    @property
    def rules_dir(self) -> Path:
        return self.path / "rules"

    @property
    def templates_dir(self) -> Path:
        return self.path / "templates"

    @property
    def pairs_file(self) -> Path:
        """The acquire/release pairs the verifier checks (data/locks.toml)."""
        return self.path / "data" / "locks.toml"

    @property
    def api_file(self) -> Path:
        """The API names the completeness check knows (data/api.toml)."""
        return self.path / "data" / "api.toml"

    @property
    def stage_numbers(self) -> tuple[int, ...]:
        return tuple(s.number for s in self.stages)

    def stage(self, number: int) -> StageDecl:
        for decl in self.stages:
            if decl.number == number:
                return decl
        raise MigratorError(f"{self.path / PACK_FILE}: pack {self.name} has no stage {number}")

    def option_defaults(self) -> dict[str, Any]:
        return {o.name: o.default for o in self.options}

    def module(self, name: str) -> ModuleType:
        """The pack's Python module `name` (`migrator.packs.<pack>.<name>`)."""
        try:
            return importlib.import_module(f"{__name__}.{self.name}.{name}")
        except ImportError as exc:
            raise MigratorError(f"{self.path}: module {name!r} of pack {self.name}: {exc}") \
                from exc

    def hook(self, ref: str) -> Callable[..., Any]:
        """`"module:function"` of this pack -> the function."""
        module_name, _, func_name = ref.partition(":")
        function = getattr(self.module(module_name), func_name, None)
        if not callable(function):
            raise MigratorError(f"{self.path / PACK_FILE}: {ref!r} is not a function of "
                                f"pack {self.name}")
        return function  # type: ignore[no-any-return]

    def rules(self, rules_dir: Path | None = None) -> list[Rule]:
        """The pack's rules (or those of `rules_dir`), checked against its stages and
        templates."""
        return load_rules(rules_dir or self.rules_dir, pack=self.name,
                          stages=self.stage_numbers, templates=self.templates)


def pack_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    """Where packs are looked for: the shipped ones, MIGRATOR_PACKS_PATH, `extra`."""
    dirs = [PACKS_DIR]
    env = os.environ.get("MIGRATOR_PACKS_PATH", "")
    dirs += [Path(p) for p in env.split(os.pathsep) if p]
    dirs += [Path(p) for p in extra]
    return dirs


def available_packs(extra: Iterable[Path] = ()) -> dict[str, Path]:
    """Pack name -> its folder (the first folder of that name in pack_dirs() wins)."""
    found: dict[str, Path] = {}
    for directory in pack_dirs(extra):
        if not directory.is_dir():
            continue
        for child in sorted(directory.iterdir()):
            if (child / PACK_FILE).is_file():
                found.setdefault(child.name, child)
    return found


def _strings(data: dict[str, Any], key: str, where: Path) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MigratorError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _text(data: dict[str, Any], key: str, where: Path, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise MigratorError(f"{where}: '{key}' must be a string")
    return value


def _options(table: Any, where: Path) -> tuple[OptionDecl, ...]:
    if not isinstance(table, dict):
        raise MigratorError(f"{where}: [options] must be a table")
    out = []
    for name, decl in table.items():
        if not isinstance(decl, dict):
            raise MigratorError(f"{where}: [options.{name}] must be a table")
        kind = _text(decl, "type", where)
        if kind not in OPTION_TYPES:
            raise MigratorError(f"{where}: [options.{name}] type must be one of "
                                f"{', '.join(OPTION_TYPES)}")
        choices = _strings(decl, "choices", where)
        default = decl.get("default")
        if kind == "choice" and default not in choices:
            raise MigratorError(f"{where}: [options.{name}] default {default!r} is not "
                                "one of its choices")
        if kind == "bool" and not isinstance(default, bool):
            raise MigratorError(f"{where}: [options.{name}] default must be true or false")
        flag = decl.get("flag")
        if flag is not None and (not isinstance(flag, str) or not flag.startswith("--")):
            raise MigratorError(f"{where}: [options.{name}] flag must start with --")
        out.append(OptionDecl(name, kind, default, _text(decl, "help", where, ""), flag,
                              choices))
    return tuple(out)


def load_pack(name: str | None = None, extra_dirs: Iterable[Path] = ()) -> Pack:
    """The pack `name` (default DEFAULT_PACK). Raises MigratorError naming the file
    and the problem when it is missing or malformed."""
    name = name or DEFAULT_PACK
    extra_dirs = list(extra_dirs)
    found = available_packs(extra_dirs)
    if name not in found:
        raise MigratorError(f"no pack named {name!r} (packs: {', '.join(found) or 'none'}; "
                            f"looked in {', '.join(str(d) for d in pack_dirs(extra_dirs))})")
    folder = found[name]
    if folder.parent != PACKS_DIR and str(folder.parent) not in __path__:
        __path__.append(str(folder.parent))  # its Python: migrator.packs.<name>.*
    where = folder / PACK_FILE
    data = read_toml(where, "pack file")
    if data.get("name") != name:
        raise MigratorError(f"{where}: 'name' must be the folder's name, {name!r}")
    stages = []
    for i, stage in enumerate(data.get("stages", [])):
        if not isinstance(stage, dict) or not isinstance(stage.get("number"), int):
            raise MigratorError(f"{where}: stages[{i}] needs a 'number'")
        stages.append(StageDecl(stage["number"], _text(stage, "title", where),
                                " ".join(_text(stage, "description", where, "").split())))
    if not stages:
        raise MigratorError(f"{where}: a pack needs at least one [[stages]] entry")
    numbers = [s.number for s in stages]
    if numbers != sorted(set(numbers)):
        raise MigratorError(f"{where}: stage numbers must be distinct and in order")
    index = data.get("index", {})
    prose = data.get("prose", {})
    if not isinstance(index, dict) or not isinstance(prose, dict):
        raise MigratorError(f"{where}: [index] and [prose] must be tables")
    templates = _strings(data, "templates", where)
    census = data.get("census", {})
    if not isinstance(census, dict) or not all(isinstance(v, str) for v in census.values()):
        raise MigratorError(f"{where}: [census] maps kinds to \"module:function\"")
    return Pack(
        name=name,
        path=folder,
        title=_text(data, "title", where),
        description=" ".join(_text(data, "description", where, "").split()),
        stages=tuple(stages),
        templates=templates,
        options=_options(data.get("options", {}), where),
        boundaries=frozenset(_strings(index, "boundaries", where)),
        scope_names=frozenset(_strings(index, "scope_names", where)),
        stats_targets=frozenset(_strings(index, "stats_targets", where)),
        index_names=frozenset(_strings(index, "names", where)),
        prose=Prose(
            subject_prefix=_text(prose, "subject_prefix", where, "net"),
            design=_text(prose, "design", where, "the design"),
            default_summary=_text(prose, "default_summary", where, "Convert"),
            body_order=_strings(prose, "body_order", where) or templates,
            primary=_strings(prose, "primary", where) or templates,
            own_texts=frozenset(_strings(prose, "own_texts", where)),
            signature_templates=frozenset(_strings(prose, "signature_templates", where)),
            context=prose.get("context"),
        ),
        census=dict(census),
    )
