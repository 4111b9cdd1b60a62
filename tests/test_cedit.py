"""migrator.edit.cedit: statement-level C edits keep kernel style and never overlap renames."""

from __future__ import annotations

import pytest

from migrator.edit import cedit
from migrator.edit.edits import apply_edits

SRC = b"""static int foo(struct net_device *dev)
{
	struct net_device *peer;
	int err;

	peer = alloc_netdev(0, "x", 0, setup);
	err = register_netdevice(peer);
	if (err < 0)
		goto err_peer;
	return 0;
err_peer:
	free_netdev(peer);
	return err;
}
"""


def _fn(src: bytes, needle: bytes) -> tuple[object, int]:
    off = src.index(needle)
    fn = cedit.function_node(src, off)
    assert fn is not None
    return fn, off


def test_insert_before_statement_copies_indentation() -> None:
    fn, off = _fn(SRC, b"register_netdevice")
    stmt = cedit.enclosing_statement(fn, off)
    edit = cedit.insert_before_statement("f.c", SRC, stmt, ["attach(peer);"], "r")
    out = apply_edits(SRC, [edit])
    assert b"\tattach(peer);\n\terr = register_netdevice(peer);\n" in out
    assert edit.start < off  # never the same byte as the callee: a rename can coexist


def test_error_goto_after_and_labels() -> None:
    fn, off = _fn(SRC, b"register_netdevice")
    stmt = cedit.enclosing_statement(fn, off)
    assert cedit.error_goto_after(SRC, stmt) == "err_peer"
    assert "err_peer" in cedit.labels(SRC, fn)


def test_declaration_reverse_christmas_tree_and_no_duplicate() -> None:
    fn, _ = _fn(SRC, b"register_netdevice")
    edit = cedit.add_local_declaration("f.c", SRC, fn, "struct nd_lock *nd_lock;", "r")
    assert edit is not None
    out = apply_edits(SRC, [edit])
    assert b"\tstruct net_device *peer;\n\tstruct nd_lock *nd_lock;\n\tint err;\n" in out
    fn2, _ = _fn(out, b"register_netdevice")
    assert cedit.add_local_declaration("f.c", out, fn2, "struct nd_lock *nd_lock;", "r") is None


def test_declaration_after_unordered_declarations() -> None:
    src = b"int f(void)\n{\n\tint a;\n\tstruct net_device *dev;\n\n\treturn 0;\n}\n"
    fn, _ = _fn(src, b"return")
    edit = cedit.add_local_declaration("f.c", src, fn, "struct nd_lock *nd_lock;", "r")
    assert apply_edits(src, [edit]).endswith(
        b"\tstruct net_device *dev;\n\tstruct nd_lock *nd_lock;\n\n\treturn 0;\n}\n")


def test_declaration_in_function_without_locals() -> None:
    src = b"int f(void)\n{\n\treturn g();\n}\n"
    fn, _ = _fn(src, b"return")
    edit = cedit.add_local_declaration("f.c", src, fn, "struct nd_lock *nd_lock;", "r")
    assert apply_edits(src, [edit]) == \
        b"int f(void)\n{\n\tstruct nd_lock *nd_lock;\n\n\treturn g();\n}\n"


def test_unbraced_if_body_is_refused() -> None:
    src = b"int f(void)\n{\n\tif (x)\n\t\tregister_netdevice(d);\n\treturn 0;\n}\n"
    fn, off = _fn(src, b"register_netdevice")
    with pytest.raises(cedit.NeedsReview):
        cedit.enclosing_statement(fn, off)


def test_exits_lists_gotos_and_returns_leaving_region() -> None:
    fn, _ = _fn(SRC, b"register_netdevice")
    start = SRC.index(b"err = register")
    end = SRC.index(b"err_peer:")
    found = cedit.exits(SRC, fn, start, end)
    assert [(e.kind, e.label) for e in found] == [("goto", "err_peer"), ("return", "")]


def _release(src: bytes) -> list:  # type: ignore[type-arg]
    fn, off = _fn(src, b"register_netdevice")
    acquired = cedit.enclosing_statement(fn, off)
    at = cedit.innermost_statement(fn, src.index(b"free_netdev"))
    return cedit.release_before("f.c", src, fn, acquired, at, ["detach_nd_lock(peer);"], "r",
                                label="err_detach_peer")


def test_release_in_an_unbraced_error_branch_gets_braces() -> None:
    src = (b"int f(void)\n{\n\terr = register_netdevice(peer);\n\tif (err)\n"
           b"\t\tfree_netdev(peer);\n\treturn err;\n}\n")
    out = apply_edits(src, _release(src))
    assert b"\tif (err) {\n\t\tdetach_nd_lock(peer);\n\t\tfree_netdev(peer);\n\t}\n" in out


def test_release_reached_by_fall_through_only_needs_no_label() -> None:
    """The path holding the lock falls into the label (through another cleanup); the
    gotos into it come from before the acquire: the release goes right above the label,
    with no new label (one that no goto names is -Wunused-label, an error with
    CONFIG_WERROR)."""
    src = (b"int f(void)\n{\n\tif (!buf)\n\t\tgoto err_buf;\n"
           b"\terr = register_netdevice(peer);\n\tif (err)\n\t\tgoto err_reg;\n"
           b"\treturn 0;\nerr_reg:\n\tkfree(buf);\nerr_buf:\n\tfree_netdev(peer);\n"
           b"\treturn err;\n}\n")
    notes: list[str] = []
    fn, off = _fn(src, b"register_netdevice")
    acquired = cedit.enclosing_statement(fn, off)
    at = cedit.innermost_statement(fn, src.index(b"free_netdev"))
    out = apply_edits(src, cedit.release_before(
        "f.c", src, fn, acquired, at, ["detach_nd_lock(peer);"], "r",
        label="err_detach_peer", notes=notes))
    assert out == src.replace(b"\tkfree(buf);\nerr_buf:",
                              b"\tkfree(buf);\n\tdetach_nd_lock(peer);\nerr_buf:")
    assert b"err_detach_peer" not in out
    assert notes and "goto at line 4" in notes[0]


def test_release_after_a_backward_goto_is_refused() -> None:
    """A retry loop made of a label and a goto back to it: whether the lock is held at
    the label is not known, so no release is placed there."""
    src = (b"int f(void)\n{\nagain:\n\tif (busy())\n\t\tgoto out;\n"
           b"\terr = register_netdevice(peer);\n\tif (err == -EAGAIN)\n\t\tgoto again;\n"
           b"\tif (err)\n\t\tgoto out;\n\treturn 0;\nout:\n\tfree_netdev(peer);\n"
           b"\treturn err;\n}\n")
    with pytest.raises(cedit.NeedsReview) as exc:
        _release(src)
    assert any("goto out;" in e for e in exc.value.evidence)


def test_wrap_keeps_a_comment_between_head_and_branch() -> None:
    src = (b"int f(void)\n{\n\tif (x)\n\t\t/* the only case */\n\t\terr = move(dev);\n"
           b"\treturn err;\n}\n")
    fn, off = _fn(src, b"move(")
    stmt = cedit.innermost_statement(fn, off)
    out = apply_edits(src, cedit.wrap("f.c", src, stmt, ["lock();"], ["unlock();"], "r"))
    assert out == (b"int f(void)\n{\n\tif (x) {\n\t\t/* the only case */\n\t\tlock();\n"
                   b"\t\terr = move(dev);\n\t\tunlock();\n\t}\n\treturn err;\n}\n")
