"""split_top_level(): lexical split at column-0 closing braces."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from migrator.parse.chunks import split_top_level

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "parsing"


def covers(src: bytes, spans: list[tuple[int, int]]) -> None:
    assert spans[0][0] == 0
    assert spans[-1][1] == len(src)
    for (_, e), (s, _) in itertools.pairwise(spans):
        assert e == s
    assert all(s < e for s, e in spans) or len(src) == 0


def pieces(src: bytes) -> list[bytes]:
    spans = split_top_level(src)
    covers(src, spans)
    return [src[a:b] for a, b in spans]


def test_split_after_each_top_level_block() -> None:
    src = (
        b"#include <x.h>\nint a(void)\n{\n\treturn 0;\n}\n"
        b"static struct s v = {\n\t.x = 1,\n};\nint y;\n"
    )
    assert pieces(src) == [
        b"#include <x.h>\nint a(void)\n{\n\treturn 0;\n}\n",
        b"static struct s v = {\n\t.x = 1,\n};\n",
        b"int y;\n",
    ]


def test_no_closing_brace_is_one_chunk() -> None:
    src = b"int x;\nint y;"
    assert split_top_level(src) == [(0, len(src))]
    assert split_top_level(b"") == [(0, 0)]


def test_no_trailing_newline() -> None:
    src = b"int a(void)\n{\n}"
    assert pieces(src) == [src]


def test_brace_in_comment_define_and_if0() -> None:
    src = (
        b"/*\n}\n*/\n#define M(x) do { \\\n} while (0)\n"
        b"#if 0\nint broken(void)\n{\n}\n#endif\n"
        b'int a(void)\n{\n\tchar *s = "}";\n}\nint b;\n'
    )
    chunks = pieces(src)
    assert len(chunks) == 2
    assert chunks[0].endswith(b'\tchar *s = "}";\n}\n')


def test_column0_brace_inside_initializer_does_not_split() -> None:
    src = b"static struct s t[] = {\n{\n\t.a = 1,\n},\n{\n\t.a = 2,\n},\n};\nint x;\n"
    assert pieces(src) == [src[: src.index(b"int x;")], b"int x;\n"]


def test_alternative_headers_only_first_branch_counts() -> None:
    src = (
        b"#ifdef A\nint f(int a) {\n#else\nint f(long a) {\n#endif\n\treturn 0;\n}\n"
        b"int g(void)\n{\n}\n"
    )
    chunks = pieces(src)
    assert len(chunks) == 2
    assert chunks[1] == b"int g(void)\n{\n}\n"


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.c")), ids=lambda p: p.name)
def test_corpus_covered(path: Path) -> None:
    src = path.read_bytes()
    covers(src, split_top_level(src))


def test_speed() -> None:
    unit = b'static int f%d(struct foo *f)\n{\n\t/* x } */\n\treturn g(f, "{");\n}\n'
    src = b"".join(unit.replace(b"%d", str(i).encode()) for i in range(6000))
    assert len(src) > 300_000
    t = time.perf_counter()
    spans = split_top_level(src)
    assert len(spans) == 6000
    assert time.perf_counter() - t < 0.5  # generous: shared CI machines
