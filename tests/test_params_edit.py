"""The edit layer's signature edits (migrator.edit.params): a parameter appended to a
definition and its prototypes, an argument to a call, a kernel-doc `@name:` line; byte
ranges of the original text, lists wrapped at 80 columns as kernel code wraps them."""

from __future__ import annotations

import pytest

from migrator.edit import params
from migrator.edit.cedit import NeedsReview
from migrator.edit.edits import apply_edits
from migrator.model import CallSite


def _apply(src: bytes, edit: object) -> str:
    assert edit is not None
    return apply_edits(src, [edit]).decode()  # type: ignore[list-item]


@pytest.mark.parametrize(("line", "after"), [
    (b"int foo(int a);\n", "int foo(int a, struct lk *lk);\n"),
    (b"int foo(void) __must_check;\n", "int foo(struct lk *lk) __must_check;\n"),
    (b"static struct x *foo(const char *fmt, ...) __printf(1, 2);\n",
     "static struct x *foo(const char *fmt, ..., struct lk *lk) __printf(1, 2);\n"),
    (b"void long_name_of_a_helper_function(struct net_device *dev, int flags);\n",
     "void long_name_of_a_helper_function(struct net_device *dev, int flags,\n"
     "\t\t\t\t    struct lk *lk);\n"),
])
def test_prototype_gains_the_parameter(line: bytes, after: str) -> None:
    at = line.index(b"foo") if b"foo(" in line else line.index(b"long_name")
    name = "foo" if b"foo(" in line else "long_name_of_a_helper_function"
    assert _apply(line, params.prototype_param("a.h", line, at, name, "struct lk *lk",
                                               "r")) == after


@pytest.mark.parametrize("line", [b"\treturn foo(a);\n", b"\terr = foo(a);\n",
                                  b"int x = foo(a);\n", b"#define FOO foo(a)\n"])
def test_not_a_prototype_is_none(line: bytes) -> None:
    at = line.index(b"foo(")
    assert params.prototype_param("a.c", line, at, "foo", "int n", "r") is None


def test_call_argument_and_its_refusal() -> None:
    src = b"\terr = foo(a, b);\n"
    call = CallSite("f", "a.c", "foo", False, "", 7, 16, 1, ("a", "b"))
    assert _apply(src, params.add_arg("a.c", src, call, "lk", "r")) == "\terr = foo(a, b, lk);\n"
    cut = CallSite("f", "a.c", "foo", False, "", 7, 15, 1, ("a", "b"))
    with pytest.raises(NeedsReview, match=r"does not end with '\)'"):
        params.add_arg("a.c", src, cut, "lk", "r")


KDOC = b"""/**
 * foo() - do it
 * @a: the first
 *      and more about it
 *
 * Context: any.
 */
"""


def test_kdoc_line_after_the_last_parameter_and_never_twice() -> None:
    src = KDOC + b"int foo(int a)\n{\n}\n"
    edit = params.kdoc_param("a.c", src, len(KDOC), "foo", "@lk: the lock", "r")
    assert _apply(src, edit).startswith(
        "/**\n * foo() - do it\n * @a: the first\n *      and more about it\n"
        " * @lk: the lock\n *\n * Context: any.\n")
    assert params.kdoc_param("a.c", src, len(KDOC), "foo", "@a: again", "r") is None
    # a comment of another function, or a plain comment: nothing
    assert params.kdoc_param("a.c", src, len(KDOC), "bar", "@lk: x", "r") is None
    plain = b"/* foo - not kernel-doc */\nint foo(int a)\n{\n}\n"
    assert params.kdoc_param("a.c", plain, plain.index(b"int"), "foo", "@lk: x", "r") is None


def test_names() -> None:
    assert params.declared_name("struct nd *const lk") == "lk"
    assert params.kdoc_name("@lk: the lock") == "lk"
    with pytest.raises(NeedsReview):
        params.declared_name("struct lk *")
