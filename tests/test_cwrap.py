"""Added lines stay within 80 columns, wrapped under the opening parenthesis."""

from __future__ import annotations

from migrator.edit.cwrap import columns, fit_lines, wrap_line


def test_wrap_under_the_opening_parenthesis() -> None:
    line = "\t\tattach_nd_lock(vxlan_peer_device, rcu_dereference_protected(dev->nd_lock, true));"
    assert wrap_line(line) == [
        "\t\tattach_nd_lock(vxlan_peer_device,",
        "\t\t\t       rcu_dereference_protected(dev->nd_lock, true));",
    ]


def test_continuation_breaks_again_at_its_own_level() -> None:
    line = ("\terr = netdev_master_upper_dev_link(slave_dev, bond_dev, &upper_info_long, "
            "&another_long_argument, extack_pointer_here);")
    lines = wrap_line(line)
    assert len(lines) > 2 and all(columns(x) <= 80 for x in lines)
    open_paren = columns(lines[0][: lines[0].index("(") + 1])
    assert all(columns(x) - len(x.lstrip()) == open_paren for x in lines[1:])
    assert " ".join(x.strip() for x in lines) == line.strip()


def test_lines_that_cannot_or_must_not_break() -> None:
    assert wrap_line("\t" * 9 + "x = y + z + a_very_long_identifier_without_commas_at_all;") \
        == ["\t" * 9 + "x = y + z + a_very_long_identifier_without_commas_at_all;"]
    comment = "\tf(a, b); /* " + "c" * 80 + " */"
    assert wrap_line(comment) == [comment]
    string = '\tpr_info("%s, %s, %s, a long message that does not fit on one line", a);'
    assert all(", %s" not in x.split('"')[0] for x in wrap_line(string))


def test_fit_lines_touches_only_added_or_changed_lines() -> None:
    long_old = "\tkeep_this(" + ", ".join(f"argument{i}" for i in range(9)) + ");"
    original = f"int f(void)\n{{\n{long_old}\n\terr = g(a);\n}}\n".encode()
    call = "\terr = g(a, rcu_dereference_protected(some_device_name->nd_lock, true_value));"
    renamed = long_old.replace("keep_this", "__keep_this")
    rewritten = f"int f(void)\n{{\n{renamed}\n{call}\n}}\n".encode()
    lines = fit_lines(original, rewritten).decode().split("\n")
    # a line the patch touches is wrapped, even where its original was already too long
    assert "\t__keep_this(argument0, argument1, argument2, argument3, argument4," \
        in lines
    assert "\terr = g(a," in lines
    assert all(columns(x) <= 80 for x in lines)
    untouched = f"int f(void)\n{{\n{long_old}\n{call}\n}}\n".encode()
    assert long_old in fit_lines(original, untouched).decode().split("\n")


def test_a_long_line_moved_into_a_block_is_wrapped() -> None:
    long_old = "\terr = __dev_change_net_namespace(dev, net, pattern, new_ifindex, extack);"
    original = f"int f(void)\n{{\n{long_old}\n}}\n".encode()
    moved = "\t" + long_old
    rewritten = f"int f(void)\n{{\n\tif (lock_netdev(dev, &nd_lock)) {{\n{moved}\n\t}}\n}}\n"
    lines = fit_lines(original, rewritten.encode()).decode().split("\n")
    assert all(columns(x) <= 80 for x in lines), lines
