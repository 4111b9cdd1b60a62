"""Rule tests in one line, in the spirit of LibCST's `assertCodemod(before, after)`.

    assert_migration(BEFORE, AFTER, rule="stage2-t1-register-netdevice")
    assert_migration(CODE, rule="stage2-t2-peer-inherits", review=["peer"])
    assert_migration(CONVERTED, rule="stage2-t1-register-netdevice", already_done=True)

`before` is written as one file of a throw-away tree, the rule's pack plans the rule's
stage on it (no cache, one process), and the sites of that rule are checked:
`after` is the exact text once the rewrites are applied; `review` lists words each
review site's reason must contain (one entry per review site, in file order);
`already_done` means the rule finds nothing left to do (its sites, if any, are
ALREADY_DONE). Raises AssertionError with
the sites found when the expectation is not met; returns the rule's sites.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

from migrator.edit.edits import apply_edits
from migrator.engine.plan import PlanOptions
from migrator.engine.planner import open_engine
from migrator.model import Outcome, Site
from migrator.packs import load_pack
from migrator.rules.load import load_finder

CASE_KINDS = ("rewrite", "review", "none")  # cases/<name>-<kind>.c


def _describe(sites: Sequence[Site]) -> str:
    return "; ".join(f"{s.outcome} {s.file}:{s.line} {s.function}(): {s.reason}"
                     for s in sites) or "no sites"


def assert_migration(before: str, after: str | None = None, *, rule: str,
                     options: Mapping[str, object] | None = None,
                     review: Sequence[str] = (), already_done: bool = False,
                     pack: str | None = None, packs_dirs: Sequence[Path] = (),
                     path: str = "drivers/net/example.c") -> list[Site]:
    """Plan `rule` on `before` and check the outcome (see the module docstring)."""
    loaded = load_pack(pack, packs_dirs)
    rules = {r.id: r for r in loaded.rules()}
    if rule not in rules:
        raise AssertionError(f"pack {loaded.name} has no rule {rule!r} "
                             f"(rules: {', '.join(sorted(rules))})")
    with tempfile.TemporaryDirectory(prefix="migrate-case-") as scratch:
        tree = Path(scratch)
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_text(before, encoding="utf-8")
        plan_options = PlanOptions(pack=loaded.name, packs_dirs=tuple(packs_dirs),
                                   use_cache=False, jobs=1, rule_options=dict(options or {}))
        plan = open_engine(tree, plan_options).plan(rules[rule].stage)
    sites = [s for s in plan.sites if s.rule == rule]
    rewrites = [s for s in sites if s.outcome is Outcome.REWRITE]
    reviews = [s for s in sites if s.outcome.listed]
    if already_done:
        left = [s for s in sites if s.outcome is not Outcome.ALREADY_DONE]
        assert not left, f"{rule}: expected nothing to do, found {_describe(left)}"
        return sites
    if after is not None:
        assert rewrites, f"{rule}: expected a rewrite, found {_describe(sites)}"
        edits = [e for s in plan.sites if s.outcome is Outcome.REWRITE for e in s.edits
                 if e.file == path]
        got = apply_edits(before.encode(), edits).decode()
        assert got == after, f"{rule}: rewrite differs:\n--- got\n{got}\n--- expected\n{after}"
    if review:
        assert len(reviews) == len(review), \
            f"{rule}: expected {len(review)} review site(s), found {_describe(sites)}"
        for site, words in zip(reviews, review, strict=True):
            assert words in site.reason, f"{rule}: review reason {site.reason!r} lacks {words!r}"
    if after is None and not review:
        assert not rewrites, f"{rule}: expected no rewrite, found {_describe(rewrites)}"
    return sites


def finder_module(rule: str, *, pack: str | None = None,
                  packs_dirs: Sequence[Path] = ()) -> ModuleType:
    """The module of `rule`'s finder.py, loaded as the engine loads it
    (migrator.rules.load.load_finder): its helpers, to test one on its own."""
    loaded = load_pack(pack, packs_dirs)
    rules = {r.id: r for r in loaded.rules()}
    if rule not in rules or rules[rule].finder is None:
        raise AssertionError(f"pack {loaded.name} has no rule {rule!r} with a finder.py")
    return sys.modules[load_finder(rules[rule]).__module__]


def case_header(text: str) -> dict[str, str]:
    """The `/* key: value */` lines opening a case: `review` (words each review site's
    reason must contain), `path` (where the case sits in the throw-away tree, for rules
    that select by directory; default drivers/net/example.c)."""
    out: dict[str, str] = {}
    for line in text.lstrip().splitlines():
        key, sep, value = line.removeprefix("/*").removesuffix("*/").partition(":")
        if not (line.startswith("/*") and line.endswith("*/") and sep
                and key.strip() in ("review", "path")):
            break
        out[key.strip()] = value.strip()
    return out


def case_expectation(case: Path) -> tuple[str, str | None]:
    """`cases/<name>-<kind>.c` -> (kind, expected text after the rewrite or None).
    A rewrite case has its `<name>-rewrite.after.c`; a case may open with
    `/* review: words */` (what a review reason must say) and `/* path: dir/file.c */`
    lines (case_header)."""
    stem = case.name.removesuffix(".c")
    kind = stem.rsplit("-", 1)[-1]
    if kind not in CASE_KINDS:
        raise AssertionError(f"{case}: a case is named <name>-{{{','.join(CASE_KINDS)}}}.c")
    if kind != "rewrite":
        return kind, None
    after = case.with_name(f"{stem}.after.c")
    if not after.is_file():
        raise AssertionError(f"{case}: a rewrite case needs {after.name}")
    return kind, after.read_text(encoding="utf-8")


def assert_case(case: Path, *, rule: str, pack: str | None = None,
                packs_dirs: Sequence[Path] = ()) -> list[Site]:
    """One file of a rule's cases/ (see case_expectation)."""
    kind, after = case_expectation(case)
    before = case.read_text(encoding="utf-8")
    header = case_header(before)
    where = {"path": header["path"]} if "path" in header else {}
    if kind == "rewrite":
        return assert_migration(before, after, rule=rule, pack=pack, packs_dirs=packs_dirs,
                                **where)
    if kind == "review":
        words = header.get("review", "")
        sites = assert_migration(before, rule=rule, pack=pack, packs_dirs=packs_dirs, **where)
        reviews = [s for s in sites if s.outcome.listed]
        assert reviews, f"{case}: expected a review site, found {_describe(sites)}"
        assert all(words in s.reason for s in reviews), \
            f"{case}: review reasons lack {words!r}: {_describe(reviews)}"
        return sites
    return assert_migration(before, rule=rule, pack=pack, packs_dirs=packs_dirs,
                            already_done=True, **where)
