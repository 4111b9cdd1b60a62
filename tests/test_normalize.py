"""normalize(): same-length rewriting that makes tree-sitter-c parse kernel C."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_c

from migrator.parse.chunks import split_top_level
from migrator.parse.normalize import error_free, normalize

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "parsing"
FILES = sorted(CORPUS.glob("*.c"))
PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))

# Calls that must stay visible, at their original offsets.
CALLS = (
    b"foo_use",
    b"foo_dev",
    b"foo_del",
    b"foo_skb",
    b"foo_extra",
    b"foo_start",
    b"register_netdev",
    b"register_netdevice",
    b"unregister_netdev",
    b"unregister_netdevice",
    b"netdev_master_upper_dev_link",
    b"dev_change_net_namespace",
    b"list_for_each_entry",
    b"for_each_netdev",
    b"foo_rcv",
    b"foo_setup",
    b"readw",
    b"kzalloc",
    b"spin_lock",
)


def errors(node: tree_sitter.Node) -> int:
    n = int(node.type == "ERROR" or node.is_missing)
    return n + sum(errors(c) for c in node.children)


def calls(node: tree_sitter.Node) -> set[tuple[bytes, int]]:
    out: set[tuple[bytes, int]] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "call_expression":
            f = n.child_by_field_name("function")
            if f is not None and f.text is not None:
                out.add((f.text, f.start_byte))
        stack.extend(n.children)
    return out


def check_shape(src: bytes, out: bytes) -> None:
    assert len(out) == len(src)
    assert [m.start() for m in re.finditer(rb"\n", out)] == [
        m.start() for m in re.finditer(rb"\n", src)
    ]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_parses_after_normalisation(path: Path) -> None:
    src = path.read_bytes()
    assert errors(PARSER.parse(src).root_node) > 0, "corpus file should need normalising"
    out = normalize(src)
    check_shape(src, out)
    tree = PARSER.parse(out)
    assert errors(tree.root_node) == 0
    assert error_free(tree)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_chunks_parse_after_normalisation(path: Path) -> None:
    src = path.read_bytes()
    for a, b in split_top_level(src):
        out = normalize(src[a:b])
        check_shape(src[a:b], out)
        assert errors(PARSER.parse(out).root_node) == 0, src[a:b].decode()


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_calls_kept_at_original_offsets(path: Path) -> None:
    src = path.read_bytes()
    found = calls(PARSER.parse(normalize(src)).root_node)
    for name in CALLS:
        for m in re.finditer(rb"\b" + name + rb"\s*\(", src):
            line_start = src.rfind(b"\n", 0, m.start()) + 1
            if src[line_start : line_start + 1] not in (b"\t", b" "):
                continue  # column 0: a declarator or top-level macro, not a call
            assert (name, m.start()) in found, (path.name, name, m.start())


def test_else_branch_calls_kept_when_balanced() -> None:
    src = (CORPUS / "conditionals.c").read_bytes()
    found = calls(PARSER.parse(normalize(src)).root_node)
    off = src.index(b"unregister_netdevice(")
    assert (b"unregister_netdevice", off) in found
    # the unbalanced alternative header is blanked, the first kept
    out = normalize(src)
    assert b"static int foo_open(struct net_device *dev, int flags) {" in out
    assert b"static int foo_open(struct net_device *dev) {" not in out


def test_unchanged_bytes_and_latin1() -> None:
    src = b'/* caf\xe9 */\nint f(void)\n{\n\treturn g("\xe9");\n}\n'
    assert normalize(src) == src


def test_comments_and_strings_untouched() -> None:
    src = b'void f(void)\n{\n\t/* __init list_for_each(a) { */\n\tg("__iomem x");\n}\n'
    assert normalize(src) == src


def test_iterator_statement_form() -> None:
    src = b"void f(void)\n{\n\tfor_each_netdev(net, dev)\n\t\tg(dev);\n}\n"
    out = normalize(src)
    check_shape(src, out)
    tree = PARSER.parse(out)
    assert error_free(tree)
    assert (b"for_each_netdev", src.index(b"for_each_netdev")) in calls(tree.root_node)
    assert (b"g", src.index(b"g(dev)")) in calls(tree.root_node)


def test_orphan_directives_in_chunk() -> None:
    src = b"#else\nstatic int f(void)\n{\n\treturn 0;\n}\n#endif\n#ifdef CONFIG_PM\nint x;\n"
    out = normalize(src)
    check_shape(src, out)
    assert error_free(PARSER.parse(out))
    assert b"#else" not in out and b"#endif" not in out
