"""Target calls in an `#if` arm the parse cannot read with the rest of the function
(braces that do not balance across the arms): never silently dropped, each is a review
site with the arm as evidence, and `migrate status` counts it as to do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from migrator.cli import main
from migrator.parse.normalize import normalize_dropping
from migrator.parse.tree import extract_chunk

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "corpus" / "sample"
ARMX = ROOT / "corpus" / "masked" / "drivers" / "net" / "armx"
ARMX_C = (ARMX / "armx.c").read_bytes()


def _line(needle: bytes) -> int:
    return ARMX_C[: ARMX_C.index(needle)].count(b"\n") + 1


def test_the_dropped_arm_is_reported_with_its_calls() -> None:
    normalised, dropped = normalize_dropping(ARMX_C)
    assert len(normalised) == len(ARMX_C)
    assert b"register_netdevice" not in normalised  # the parse never sees it
    assert any(ARMX_C[a:b].count(b"register_netdevice(dev)") == 1 for a, b in dropped)
    facts = extract_chunk(ARMX_C)
    assert "register_netdevice" not in {c.callee for c in facts.calls}
    masked = {c.callee: c for c in facts.masked_calls}
    # a name in a comment is no call; the call keeps its own offset and line
    assert set(masked) == {"register_netdevice"}
    call = masked["register_netdevice"]
    assert ARMX_C[call.start:call.end] == b"register_netdevice("
    assert call.caller == "armx_newlink"
    assert call.line + 1 == _line(b"err = register_netdevice")
    assert call.masked_arm == _line(b"#else")
    # balanced arms are all parsed: nothing is dropped
    assert normalize_dropping(b"int f(void)\n{\n#ifdef A\n\tg();\n#else\n\th();\n#endif\n}\n"
                              )[1] == []


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("masked") / "tree"
    shutil.copytree(SAMPLE, dst)
    shutil.copytree(ARMX, dst / "drivers/net/armx")
    return dst


def test_call_in_a_dropped_arm_is_a_review_site(tree: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "m.json"
    assert main(["scan", "--tree", str(tree), "--no-cache", "--stage", "2",
                 "--json", str(manifest)]) == 0
    sites = [s for s in json.loads(manifest.read_text()) if "armx" in str(s["file"])]
    assert [(s["outcome"], s["function"], s["line"]) for s in sites] == [
        ("review", "armx_newlink", _line(b"err = register_netdevice"))]
    assert "#if arm" in str(sites[0]["reason"])
    assert f"drivers/net/armx/armx.c:{_line(b'#else')}" in " ".join(sites[0]["evidence"])


def test_status_counts_it_as_to_do(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--tree", str(tree), "--no-cache"]) == 0
    with_armx = capsys.readouterr().out
    plain = tree.parent / "plain"
    shutil.copytree(SAMPLE, plain)
    assert main(["status", "--tree", str(plain), "--no-cache"]) == 0
    without = capsys.readouterr().out

    def todo(out: str) -> int:
        line = next(x for x in out.splitlines() if "stage2-t1-register-netdevice:" in x)
        return int(line.split()[2])

    assert todo(with_armx) == todo(without) + 1
