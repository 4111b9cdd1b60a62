"""The control-flow graph (migrator.verify.cfg): which statements follow which."""

from __future__ import annotations

from migrator.verify.cfg import Cfg, build_cfg
from migrator.verify.source import functions


def cfg_of(body: str) -> tuple[Cfg, list[str]]:
    text = f"int f(int a, int b)\n{{\n{body}}}\n"
    fn = functions(text.encode())[0]
    assert not fn.has_error
    return build_cfg(fn.chunk, fn.node, fn.line_base, fn.name), text.splitlines()


def paths(cfg: Cfg, limit: int = 2) -> set[tuple[int, ...]]:
    """Line sequences of the paths entry -> exit, each node at most `limit` times."""
    out: set[tuple[int, ...]] = set()

    def walk(node: int, seen: dict[int, int], lines: tuple[int, ...]) -> None:
        if node == cfg.exit:
            out.add(lines)
            return
        if seen.get(node, 0) >= limit:
            return
        seen = {**seen, node: seen.get(node, 0) + 1}
        current = cfg.node(node)
        if current.kind in ("stmt", "return", "branch", "choice") and current.line and (
                not lines or lines[-1] != current.line):
            lines = (*lines, current.line)
        for target, _ in current.succ:
            walk(target, seen, lines)

    walk(cfg.entry, {}, ())
    return out


def line(lines: list[str], needle: str, nth: int = 0) -> int:
    return [i for i, text in enumerate(lines, 1) if needle in text][nth]


def follows(found: set[tuple[int, ...]], first: int, then: int) -> bool:
    return any(first in p and then in p[p.index(first) + 1:p.index(first) + 2] for p in found)


def test_if_else_and_goto() -> None:
    cfg, lines = cfg_of("\tif (a)\n\t\tgoto out;\n\telse\n\t\tx();\n\ty();\nout:\n"
                        "\treturn 0;\n")
    found = paths(cfg)
    goto, x, y, ret = (line(lines, s) for s in ("goto out", "x();", "y();", "return 0"))
    assert follows(found, goto, ret) and not any(y in p and goto in p for p in found)
    assert follows(found, x, y) and follows(found, y, ret)


def test_switch_fall_through_default_and_break() -> None:
    cfg, lines = cfg_of("\tswitch (a) {\n\tcase 1:\n\t\tone();\n\tcase 2:\n\t\ttwo();\n"
                        "\t\tbreak;\n\tcase 3:\n\t\tthree();\n\t}\n\tafter();\n")
    found = paths(cfg)
    one, two, brk, three, after = (line(lines, s) for s in
                                   ("one()", "two()", "break", "three()", "after()"))
    assert follows(found, one, two)  # fall-through
    assert follows(found, brk, after)
    assert follows(found, three, after)
    assert not any(three in p and two in p for p in found)
    # no default: the switch can be skipped
    switch = line(lines, "switch")
    assert follows(found, switch, after)


def test_switch_with_default_cannot_be_skipped() -> None:
    cfg, lines = cfg_of("\tswitch (a) {\n\tcase 1:\n\t\tone();\n\t\tbreak;\n\tdefault:\n"
                        "\t\tother();\n\t}\n\tafter();\n")
    found = paths(cfg)
    switch, after = line(lines, "switch"), line(lines, "after()")
    assert not follows(found, switch, after)
    assert all(line(lines, "one()") in p or line(lines, "other()") in p for p in found)


def test_loops_break_continue() -> None:
    cfg, lines = cfg_of("\tfor (i = 0; i < a; i++) {\n\t\tif (b)\n\t\t\tcontinue;\n"
                        "\t\tif (a)\n\t\t\tbreak;\n\t\tbody();\n\t}\n\tafter();\n"
                        "\tdo {\n\t\tagain();\n\t} while (b);\n")
    found = paths(cfg)
    cont, brk, body, after = (line(lines, s) for s in ("continue", "break", "body()", "after()"))
    head = line(lines, "for (")
    assert follows(found, cont, head)  # continue -> update/condition (same line)
    assert follows(found, brk, after)
    assert not follows(found, brk, body)
    assert follows(found, body, head)
    again = line(lines, "again()")
    assert all(again in p for p in found)  # a do body runs at least once


def test_statement_expression_can_leave_by_goto() -> None:
    cfg, lines = cfg_of("\tx = ({ int y = g(); if (y) goto out; y; });\n\tuse(x);\nout:\n"
                        "\treturn 0;\n")
    found = paths(cfg)
    stmt, use, ret = line(lines, "x = ({"), line(lines, "use(x)"), line(lines, "return 0")
    assert any(use in p for p in found)
    assert any(use not in p and ret in p for p in found)  # the goto inside ({ })
    assert all(stmt in p for p in found)


def test_ifdef_arms_and_iterator_macro_loop() -> None:
    cfg, lines = cfg_of("#ifdef CONFIG_X\n\tx();\n#else\n\ty();\n#endif\n"
                        "\tlist_for_each_entry(p, &h, list) {\n\t\tif (p)\n\t\t\tbreak;\n"
                        "\t\tz();\n\t}\n\tscoped_guard(mutex, &m) {\n\t\tw();\n\t}\n\tend();\n")
    found = paths(cfg)
    x, y, z, w, end = (line(lines, s) for s in ("x();", "y();", "z();", "w();", "end();"))
    assert any(x in p for p in found) and any(y in p for p in found)
    assert not any(x in p and y in p for p in found)
    assert any(z in p for p in found) and any(z not in p for p in found)  # zero or more
    assert follows(found, line(lines, "break"), line(lines, "scoped_guard"))
    assert all(w in p and end in p for p in found)  # the guarded body runs once
