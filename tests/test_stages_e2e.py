"""`migrate stage 1-6` on corpus/sample end to end: the series applies with git am on a
fresh clone, every touched file parses no worse than before, and a second run on the
converted tree has nothing left to do."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from migrator import cli
from migrator.packs import load_pack
from migrator.parse.tree import count_errors

SAMPLE = Path(__file__).resolve().parent.parent / "corpus" / "sample"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout


def make_repo(path: Path) -> Path:
    shutil.copytree(SAMPLE, path)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test Dev")
    git(path, "config", "user.email", "dev@example.org")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "base")
    return path


def stage_folders(out: Path) -> list[Path]:
    return [out / f"stage-{n}" for n in range(1, 7) if (out / f"stage-{n}").is_dir()]


def patches(folder: Path) -> list[Path]:
    parts = sorted(p for p in folder.iterdir() if p.is_dir() and p.name.startswith("part-"))
    found = [p for part in parts for p in sorted(part.glob("*.patch"))] or \
        sorted(folder.glob("*.patch"))
    return [p for p in found if not p.name.startswith("0000-")]


@dataclass(frozen=True)
class Run:
    """One `migrate stage 1-6` of corpus/sample, shared by the tests of this module (they
    only read it): the repo, the series, the --json manifest and what was printed."""

    extra: tuple[str, ...]
    repo: Path
    out: Path
    manifest: Path
    rc: int
    stdout: str
    stderr: str


def run_stages(tmp: Path, extra: tuple[str, ...]) -> Run:
    repo = make_repo(tmp / "repo")
    out, manifest = tmp / "out", tmp / "m.json"
    printed, errors = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
        rc = cli.main(["stage", "1-6", "--tree", str(repo), "--out", str(out), "--no-cache",
                       "-j", "2", "--json", str(manifest), *extra])
    return Run(extra, repo, out, manifest, rc, printed.getvalue(), errors.getvalue())


# All of this module's tests run on one pytest-xdist worker (`--dist loadgroup`): the two
# runs below are made once, not once per worker.
pytestmark = pytest.mark.xdist_group("stages-e2e")


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_stages(tmp_path_factory.mktemp("default"), ())


@pytest.fixture(scope="module")
def core_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """With the core patches and T5 rewritten: every stage writes a series."""
    return run_stages(tmp_path_factory.mktemp("core"), ("--with-core", "--t5=rewrite"))


@pytest.mark.parametrize("which", ["default_run", "core_run"], ids=["default", "core-t5"])
def test_stages_1_to_6(tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str,
                       request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(which)
    repo, out, manifest, extra = run.repo, run.out, run.manifest, list(run.extra)
    assert run.rc == 0, run.stderr
    folders = stage_folders(out)
    assert {f.name for f in folders} >= {"stage-1", "stage-2", "stage-4", "stage-5"}
    if "--with-core" in extra:  # the dev.c replay makes stage 6 a series too: all six
        assert [f.name for f in folders] == [f"stage-{n}" for n in range(1, 7)]

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    git(clone, "config", "user.name", "Test Dev")
    git(clone, "config", "user.email", "dev@example.org")
    base = git(clone, "rev-parse", "HEAD").strip()
    for folder in folders:
        series = patches(folder)
        assert series, folder
        for patch in series:
            git(clone, "am", "-q", "--keep-cr", str(patch))
    touched = [f for f in git(clone, "diff", "--name-only", base, "HEAD").split() if f]
    assert touched
    for path in touched:
        before = (repo / path).read_bytes()
        after = (clone / path).read_bytes()
        assert count_errors(after) <= count_errors(before), path

    # The converted tree (the clone, after git am): nothing left to rewrite in any stage.
    capsys.readouterr()
    assert cli.main(["status", "--tree", str(clone), "--no-cache", *extra]) == 0
    rows = {parts[4].split(":", 1)[0]: (int(parts[1]), int(parts[2]))
            for parts in (line.split(None, 4) for line in capsys.readouterr().out.splitlines())
            if len(parts) == 5 and parts[0].isdigit()}
    # The census is the rules': a rule whose done_when names the converted call counts
    # each call the run rewrote as done, and what it left for review as still to do.
    records = json.loads(manifest.read_text())
    renames = [r for r in load_pack().rules() if r.done_calls]
    assert len(renames) >= 3
    t0 = sum(r["outcome"] == "rewrite" for r in records
             if r["rule"] == "stage1-t0-register-netdev")
    for rule in renames:
        # a T6 family, once threaded, is not seen again by its rule: not counted as done
        mine = [r for r in records if r["rule"] == rule.id and r["template"] != "T6"]
        # stage 3 counts the T0 form stage 1 writes as done too (a private lock by design)
        t0_forms = t0 if rule.id == "stage3-t3-t4-parent-or-private" else 0
        assert rows[rule.id] == (sum(r["outcome"] == "rewrite" for r in mine) + t0_forms,
                                 sum(r["outcome"] == "review" for r in mine)), rule.id
    assert rows["stage2-t1-register-netdevice"][0] > 0
    # the replay under lock_netdev() (--with-core) is done by the finder's own check
    replay = [r for r in records if r["rule"] == "stage6-core-register-replay"]
    assert rows["stage6-core-register-replay"] == (len(replay), 0)
    capsys.readouterr()
    rc = cli.main(["stage", "1-6", "--tree", str(clone), "--out", str(tmp_path / "again"),
                   "--no-cache", "-j", "2", *extra])
    printed = capsys.readouterr().out
    assert rc == 0
    for n in range(1, 7):
        assert f"stage {n}: nothing to do" in printed, printed


def test_readme_demo_writes_six_series(tmp_path: Path) -> None:
    """The README's first command: corpus/demo.sh 1-6 --with-core (needs `migrate` on
    PATH, as after `pip install -e .`)."""
    import os

    if shutil.which("migrate") is None:
        pytest.skip("`migrate` is not installed on PATH (pip install -e .)")
    demo = SAMPLE.parent / "demo.sh"
    out = tmp_path / "out"
    subprocess.run(["bash", str(demo), "1-6", "--with-core"], check=True, cwd=tmp_path,
                   capture_output=True, env={**os.environ, "MIGRATE_DEMO_OUT": str(out)})
    assert sorted(p.name for p in out.iterdir()) == [f"stage-{n}" for n in range(1, 7)]
    assert all(len(patches(out / f"stage-{n}")) >= 1 for n in range(1, 7))


def test_series_reads_as_netdev_expects(tmp_path: Path, core_run: Run) -> None:
    """maintainer-netdev.rst and coding-style.rst on the sample's series (all six stages,
    the core patches and T5 included): subjects with the tree's prefix, logs without
    evidence or tool vocabulary (also after git am), function names in hunk headers,
    added lines within 80 columns, a cover letter that stands alone."""

    repo, out = core_run.repo, core_run.out
    assert core_run.rc == 0, core_run.stderr
    tool_words = re.compile(r"\bT\d\b|SPEC|§|template")
    evidence = re.compile(r"\S+\.[ch]:\d+|call chain|callback:| -> ")
    for folder in stage_folders(out):
        covers = sorted(folder.rglob("0000-cover-letter.patch"))
        for patch in [*covers, *patches(folder)]:
            text = patch.read_text()
            header, _, rest = text.partition("\n\n")
            log = rest.split("\n---\n", 1)[0]
            subject = re.search(r"^Subject: (.*(?:\n .*)*)", header, re.M).group(1)
            assert not tool_words.search(subject + log), (patch, subject, log)
            if patch.name.startswith("0000-"):
                continue
            assert not evidence.search(log), (patch, log)
            assert all(len(line) <= 75 for line in log.splitlines()), patch
            # the evidence is below the --- line, where git am drops it
            assert "Converted sites and the evidence for them:" in rest.split("\n---\n", 1)[1]
            for line in text.splitlines():
                if line.startswith("@@"):  # diff=cpp: the function, never a label
                    assert not re.search(r"@@ \w+:\s*$", line), (patch, line)
                if line.startswith("+") and not line.startswith("+++"):
                    assert len(line[1:].expandtabs(8)) <= 80, (patch, line)

    # netdev files: [PATCH net-next]; the wireless stage is not netdev's
    stage2 = (out / "stage-2" / "0000-cover-letter.patch").read_text()
    assert re.search(r"^Subject: \[PATCH net-next 0/\d+\] net: ", stage2, re.M)
    stage3 = (out / "stage-3" / "0000-cover-letter.patch").read_text()
    assert re.search(r"^Subject: \[PATCH 0/\d+\] ", stage3, re.M)
    # a patch touching only .newlink says so
    vpair = next(p for p in patches(out / "stage-2") if "vpair" in p.name).read_text()
    assert "changelink" not in vpair.split("\n---\n", 1)[0]
    assert "vpair_newlink()" in vpair.split("\n---\n", 1)[0]
    # the cover letter stands alone
    assert "depends on the nd_lock core series" in stage2
    assert re.search(r"\d+ call sites? converted in \d+ patch(es)?, \d+ left for review", stage2)
    assert "Left for review, by driver" in stage2 and "ppx (drivers/net/ppx.c)\n" in stage2
    assert re.search(r"^base-commit: [0-9a-f]{40}$", stage2, re.M)
    assert re.search(r"^ \d+ files? changed", stage2, re.M)  # diffstat

    # git am in a fresh clone: the logs carry no evidence above the trailers
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    git(clone, "config", "user.name", "Test Dev")
    git(clone, "config", "user.email", "dev@example.org")
    base = git(clone, "rev-parse", "HEAD").strip()
    for folder in stage_folders(out):
        for patch in patches(folder):
            git(clone, "am", "-q", str(patch))
    logs = git(clone, "log", "--format=%B%x00", f"{base}..HEAD").split("\0")
    assert len([m for m in logs if m.strip()]) == sum(len(patches(f))
                                                      for f in stage_folders(out))
    for message in logs:
        body = message.split("Signed-off-by:", 1)[0]
        assert not evidence.search(body), message
        assert not tool_words.search(body), message


def test_rfc_prefix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "repo")
    out = tmp_path / "out"
    assert cli.main(["stage", "2", "--tree", str(repo), "--out", str(out), "--no-cache",
                     "--rfc"]) == 0, capsys.readouterr().err
    cover = (out / "0000-cover-letter.patch").read_text()
    assert "Subject: [RFC net-next 0/" in cover
    assert all("Subject: [RFC net-next " in p.read_text() for p in patches(out))


def test_series_without_the_core_is_named_incomplete(default_run: Run, core_run: Run
                                                      ) -> None:
    """The stages use nd_lock names the sample tree does not declare: the series are
    written (they go on top of the nd_lock core series) with a warning naming the first
    undeclared use; with the core patches of stage 1 in the same run, no warning."""
    assert default_run.rc == 0 and core_run.rc == 0
    assert re.search(r"warning: \d+ use\(s\) of names neither the tree nor the series "
                     r"declares \(first: [\w/.-]+\.[ch]:\d+: ", default_run.stderr), \
        default_run.stderr
    assert "neither the tree nor the series declares" not in core_run.stderr


def test_call_chains_in_the_evidence_name_each_step_once(default_run: Run,
                                                         core_run: Run) -> None:
    """Every `call chain:` line of every site (the bridge's ioctl entry point once read
    "add_del_if -> br_add_if -> br_add_if"): no function follows itself."""
    chains = [line.removeprefix("call chain: ").split(" -> ")
              for run in (default_run, core_run)
              for record in json.loads(run.manifest.read_text())
              for line in record["evidence"] if line.startswith("call chain: ")]
    assert any(chain[0] == "add_del_if" for chain in chains)  # the T8 entry point
    repeated = [chain for chain in chains if any(a == b for a, b in itertools.pairwise(chain))]
    assert repeated == []
