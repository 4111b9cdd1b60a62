"""A second pack, added as tests/packs/toy/ alone: the engine, series writer and
verifier take it without knowing its names (the pack renames a locking helper and
brackets a call)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from migrator import cli
from migrator.packs import load_pack
from migrator.testing import assert_migration
from migrator.verify.source import check_rewrite, load_pairs

PACKS = Path(__file__).resolve().parent / "packs"
DRIVER = (Path(__file__).resolve().parent / "fixtures" / "toy" / "foo.c").read_text()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, text=True,
                          capture_output=True).stdout


@pytest.fixture
def toy_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "tree"
    (repo / "drivers/net").mkdir(parents=True)
    (repo / "drivers/net/foo.c").write_text(DRIVER)
    (repo / "include/linux").mkdir(parents=True)
    (repo / "include/linux/bar.h").write_text(
        "void bar_lock(struct foo_dev *dev);\nvoid bar_unlock(struct foo_dev *dev);\n")
    git(repo.parent, "init", "-q", str(repo))
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=T", "-c", "user.email=t@t", "commit", "-qm", "base")
    return repo


def test_packs_lists_both(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "packs", "--packs-dir", str(PACKS))
    assert rc == 0
    assert "nd_lock:" in out and "toy: foo_lock() -> bar_lock()" in out
    assert "stage 2: Call frob() under bar_lock()" in out
    rc, out, _ = run(capsys, "packs", "--packs-dir", str(PACKS), "--rules")
    assert "rule toy2-frob-in-irq: stage 2, bracket, confidence high, finder.py" in out
    assert "rule toy2-bracket-frob: stage 2, bracket, confidence medium, data fix, after " \
        "toy2-frob-in-irq" in out


def test_flags_come_from_the_pack(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["scan", "--pack", "toy", "--packs-dir", str(PACKS), "--help"])
    out = capsys.readouterr().out
    assert "--toy-verbose-log" in out and "--with-core" not in out
    with pytest.raises(SystemExit):
        cli.main(["scan", "--help"])
    assert "--with-core" in capsys.readouterr().out


def test_unknown_pack_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "scan", "--pack", "nosuch")
    assert rc == 2 and "no pack named 'nosuch'" in err and "nd_lock" in err


def test_a_pack_with_broken_texts_is_named(toy_repo: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A pack's texts.j2 missing, or using a name its context does not give: exit 2
    naming the file, never a traceback; nothing written to --out."""
    packs = tmp_path / "packs"
    shutil.copytree(PACKS / "toy", packs / "toy")
    texts = packs / "toy" / "templates" / "texts.j2"
    good = texts.read_text()
    texts.unlink()
    out = tmp_path / "out"
    rc, _, err = run(capsys, "stage", "1", "--pack", "toy", "--packs-dir", str(packs),
                     "--tree", str(toy_repo), "--out", str(out), "--no-cache")
    assert rc == 2 and f"{texts}: missing" in err
    assert not out.exists()
    texts.write_text("")  # there, but defining nothing: which names it lacks
    rc, _, err = run(capsys, "stage", "1", "--pack", "toy", "--packs-dir", str(packs),
                     "--tree", str(toy_repo), "--out", str(out), "--no-cache")
    assert rc == 2 and "Traceback" not in err
    assert f"{texts}: does not define summary, why, what, depends, review_actions, " \
        "template_words" in err
    assert not out.exists()
    texts.write_text(good.replace("{%- if stage == 1 %}", "{{ d.fns }}{%- if stage == 1 %}"))
    rc, _, err = run(capsys, "stage", "1", "--pack", "toy", "--packs-dir", str(packs),
                     "--tree", str(toy_repo), "--out", str(out), "--no-cache")
    assert rc == 2 and "Traceback" not in err
    line = next(i for i, text in enumerate(good.splitlines(), 1) if "{%- if stage == 1" in text)
    assert f"{texts}:{line}: " in err and "fns" in err
    assert not out.exists()


def test_stages_of_the_pack(toy_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "scan", "--pack", "toy", "--packs-dir", str(PACKS),
                     "--tree", str(toy_repo), "--stage", "3", "--no-cache")
    assert rc == 2 and "stages are 1..2" in err


def test_series_of_the_toy_pack(toy_repo: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    rc, stdout, err = run(capsys, "stage", "1-2", "--pack", "toy", "--packs-dir", str(PACKS),
                          "--tree", str(toy_repo), "--out", str(out), "--no-cache")
    assert rc == 0, err
    cover1 = (out / "stage-1" / "0000-cover-letter.patch").read_text()
    assert "toy: Rename foo_lock() to bar_lock()" in cover1
    assert "foo_lock() and foo_unlock() are renamed" in cover1
    [patch1] = sorted((out / "stage-1").glob("0001-*.patch"))
    text = patch1.read_text()
    assert "Use bar_lock()" in text and "+\tbar_lock(dev);" in text
    assert "+\tbar_unlock(dev);" in text
    [patch2] = sorted((out / "stage-2").glob("0001-*.patch"))
    text = patch2.read_text()
    assert "Call frob() under bar_lock()" in text
    assert "+\tif (dev->up) {\n+\t\tbar_lock(dev);\n \t\tfrob(dev);\n+\t\tbar_unlock(dev);" \
        in text
    cover2 = (out / "stage-2" / "0000-cover-letter.patch").read_text()
    assert "foo_poll() at drivers/net/foo.c:18" in cover2  # the review site, listed
    # the pack's finder (toy2-frob-in-irq/finder.py) claims the interrupt handler's call
    # before the data rule brackets: review with its reason, no bracket there
    assert "foo_irq() at drivers/net/foo.c:25" in cover2
    assert "interrupt handler" in cover2 and "bar_lock(dev);\n \tfrob(dev);\n \treturn" \
        not in text
    # the result applies and a second run finds nothing to do
    for patch in [patch1, patch2]:
        git(toy_repo, "-c", "user.name=T", "-c", "user.email=t@t", "am", "-q", str(patch))
    rc, stdout, _ = run(capsys, "stage", "1", "--pack", "toy", "--packs-dir", str(PACKS),
                        "--tree", str(toy_repo), "--dry-run", "--no-cache")
    assert rc == 0 and "stage 1: nothing to do" in stdout


def test_verifier_uses_the_toy_pairs(toy_repo: Path) -> None:
    """A bracket the lock checker refuses (the unlock lost) is caught with the toy
    pack's own pairs: the verifier knows bar_lock() from the pack's data only."""
    pairs = load_pairs(load_pack("toy", [PACKS]).pairs_file)
    before = b"void f(struct foo_dev *dev)\n{\n\tfrob(dev);\n}\n"
    broken = b"void f(struct foo_dev *dev)\n{\n\tbar_lock(dev);\n\tfrob(dev);\n}\n"
    found = check_rewrite("drivers/net/foo.c", before, broken, pairs)
    assert any(v.check == "lock-balance" and "without bar_unlock(dev)" in v.message
               for v in found), found
    assert check_rewrite("drivers/net/foo.c", before, broken, ()) == []  # pairs are data


def test_assert_migration_on_the_toy_pack() -> None:
    assert_migration("void f(struct foo_dev *d)\n{\n\tfoo_lock(d);\n}\n",
                     "void f(struct foo_dev *d)\n{\n\tbar_lock(d);\n}\n",
                     rule="toy1-rename-lock", pack="toy", packs_dirs=[PACKS])
    with pytest.raises(AssertionError, match="expected nothing to do"):
        assert_migration("void f(struct foo_dev *d)\n{\n\tfoo_lock(d);\n}\n",
                         rule="toy1-rename-lock", pack="toy", packs_dirs=[PACKS],
                         already_done=True)


def test_packs_one_pack_and_its_broken_finder(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """`migrate packs --pack NAME` lists that pack alone; `--rules` loads each finder.py,
    so a broken one is found there, named, before any run."""
    rc, out, _ = run(capsys, "packs", "--pack", "toy", "--packs-dir", str(PACKS))
    assert rc == 0 and out.startswith("toy: ") and "nd_lock:" not in out
    packs = tmp_path / "packs"
    shutil.copytree(PACKS / "toy", packs / "toy")
    finder = packs / "toy" / "rules" / "toy2-frob-in-irq" / "finder.py"
    finder.write_text("def find(ctx)\n    return []\n")
    rc, _, err = run(capsys, "packs", "--pack", "toy", "--packs-dir", str(packs), "--rules")
    assert rc == 2 and f"{finder}: cannot load the rule's finder: SyntaxError" in err
    assert "Traceback" not in err
