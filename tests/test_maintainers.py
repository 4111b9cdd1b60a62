"""MAINTAINERS parsing and get_maintainer.pl-style matching."""

from __future__ import annotations

from pathlib import Path

from migrator.output import maintainers

TEXT = """\
Preamble paragraph

VXLAN
M:\tV One <v@example.org>
L:\tnetdev@vger.kernel.org (open list)
F:\tdrivers/net/vxlan/

NET DRIVERS
M:\tD One <d@example.org>
R:\tR One <r@example.org>
L:\tnetdev@vger.kernel.org
F:\tdrivers/net/
F:\tdrivers/net/*.c
X:\tdrivers/net/wireless/

ONE FILE
M:\tF One <f@example.org>
F:\tdrivers/net/ve?h.c
N:\tbonding

THE REST
M:\tLinus <torvalds@example.org>
L:\tlinux-kernel@vger.kernel.org
F:\t*
F:\t*/
"""


def test_recipients(tmp_path: Path) -> None:
    table = maintainers.Maintainers(maintainers.parse(TEXT, tmp_path))
    vxlan = table.recipients(["drivers/net/vxlan/vxlan_core.c"])
    assert vxlan.to == ("V One <v@example.org>", "D One <d@example.org>")
    assert vxlan.cc == ("netdev@vger.kernel.org", "R One <r@example.org>",
                        "linux-kernel@vger.kernel.org")
    veth = table.recipients(["drivers/net/veth.c"])
    assert "F One <f@example.org>" in veth.to
    wireless = table.recipients(["drivers/net/wireless/x.c"])
    assert wireless.to == () and wireless.cc == ("linux-kernel@vger.kernel.org",)
    assert "F One <f@example.org>" in table.recipients(["drivers/net/bonding/b.c"]).to


def test_glob_does_not_cross_directories(tmp_path: Path) -> None:
    section = maintainers.parse("S\nM:\tA <a@x>\nF:\tnet/*.c\n", tmp_path)[0]
    assert section.match_depth("net/a.c")
    assert not section.match_depth("net/ipv4/a.c")


def test_headers_and_merge() -> None:
    merged = maintainers.merge([maintainers.Recipients(("a <a@x>",), ("l@x",)),
                                maintainers.Recipients(("b <b@x>",), ("a <a@x>", "l@x"))])
    assert merged == maintainers.Recipients(("a <a@x>", "b <b@x>"), ("l@x",))
    assert maintainers.format_headers(merged) == "To: a <a@x>,\n    b <b@x>\nCc: l@x\n"
