"""No module of the package grows past 500 lines: a bigger one is split by concern."""

from __future__ import annotations

from pathlib import Path

MAX_LINES = 500
PACKAGE = Path(__file__).resolve().parents[1] / "migrator"


def line_count(path: Path) -> int:
    return len(path.read_bytes().splitlines())


def test_every_module_has_at_most_500_lines() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert modules, f"no modules found under {PACKAGE}"
    too_long = {str(path.relative_to(PACKAGE.parent)): count for path in modules
                if (count := line_count(path)) > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines (split them by concern): {too_long}"


def test_line_count_counts_every_line(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("x = 1\n" * (MAX_LINES + 1))
    assert line_count(module) == MAX_LINES + 1
    module.write_text("x = 1\n" * MAX_LINES)
    assert line_count(module) == MAX_LINES
