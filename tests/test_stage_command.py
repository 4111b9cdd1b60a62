"""End-to-end `migrate stage` on tiny kernel-like repos with a fake planner."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from migrator import cli
from migrator.engine import planner
from migrator.model import Edit, Site, StagePlan

GIT_ENV_CONFIG = ("-c", "user.name=Test Dev", "-c", "user.email=dev@example.org")

MAINTAINERS = """\
List of maintainers

Descriptions of section entries:
\tM: *Mail* patches to

BAR DRIVER
M:\tBar Maint <bar@example.org>
L:\tnetdev@vger.kernel.org
S:\tMaintained
F:\tdrivers/net/bar.c

FOO DRIVER
M:\tFoo Maint <foo@example.org>
R:\tFoo Rev <rev@example.org>
L:\tnetdev@vger.kernel.org (moderated)
S:\tMaintained
F:\tdrivers/net/foo/

NETWORKING [GENERAL]
M:\tNet Maint <net@example.org>
L:\tnetdev@vger.kernel.org
F:\tnet/
F:\tinclude/linux/netdevice.h
X:\tnet/wireless/

THE REST
M:\tLinus <torvalds@example.org>
L:\tlinux-kernel@vger.kernel.org
F:\t*
F:\t*/
"""

FILES = {
    "MAINTAINERS": MAINTAINERS,
    "drivers/net/foo/foo_main.c": (
        "// SPDX-License-Identifier: GPL-2.0\n"
        "static int foo_newlink(struct net_device *dev)\n{\n"
        "\tint err;\n\n\terr = register_netdevice(dev);\n\tif (err)\n\t\treturn err;\n"
        "\treturn 0;\n}\n"
    ),
    "drivers/net/foo/foo_peer.c": (
        "// SPDX-License-Identifier: GPL-2.0\n"
        "static int foo_peer_add(struct net_device *peer)\n{\n"
        "\treturn register_netdevice(peer);\n}\n"
    ),
    "drivers/net/bar.c": (
        "// SPDX-License-Identifier: GPL-2.0\n"
        "static int bar_newlink(struct net_device *dev)\n{\n"
        "\treturn register_netdevice(dev);\n}\n\n"
        "static int bar_ioctl(struct net_device *dev)\n{\n"
        "\treturn dev_change_net_namespace(dev, NULL, NULL);\n}\n"
    ),
    "drivers/net/baz.c": "// SPDX-License-Identifier: GPL-2.0\nstatic int baz;\n",
    "net/core/dev.c": (
        "// SPDX-License-Identifier: GPL-2.0\n"
        "int dev_thing(struct net_device *dev)\n{\n"
        "\treturn register_netdevice(dev);\n}\n"
    ),
}

HISTORY = [
    ("drivers/net/foo/foo_main.c", "foo: fix thing"),
    ("drivers/net/foo/foo_peer.c", "foo: fix other thing"),
    ("drivers/net/bar.c", "net: bar: tidy up"),
    ("drivers/net/bar.c", "bar: fix leak"),
    ("drivers/net/bar.c", "bar: fix leak again"),
]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *GIT_ENV_CONFIG, *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def make_repo(root: Path, files: dict[str, str] = FILES) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test Dev")
    git(root, "config", "user.email", "dev@example.org")
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Initial import")
    for path, subject in HISTORY:
        if path not in files:
            continue
        with open(root / path, "a") as fh:
            fh.write(f"/* {subject} */\n")
        git(root, "commit", "-q", "-am", subject)
    return root


FAKE_TARGETS = {"register_netdevice(": ("__register_netdevice(", "T1")}


def fake_plan_stage(tree: Path, stage: int, options: object = None) -> StagePlan:
    """T1 rename of every `register_netdevice(` in .c files; dev_change_net_namespace
    calls are review sites. Derived from the files, so a converted tree plans nothing."""
    result = StagePlan(stage=stage, tree=str(tree))
    for path in sorted(tree.rglob("*.c")):
        rel = path.relative_to(tree).as_posix()
        data = path.read_bytes()
        for match in re.finditer(rb"(?<![\w])register_netdevice\(", data):
            line = data.count(b"\n", 0, match.start()) + 1
            function = re.findall(rb"^\w.*?(\w+)\(", data[: match.start()], re.M)[-1].decode()
            result.sites.append(Site(
                stage=stage, template="T1", outcome="rewrite", file=rel, function=function,
                line=line, start=match.start(), end=match.end(), rule="t1-rename",
                reason="register_netdevice() reachable from .newlink",
                evidence=[f"{function}() <- rtnl_link_ops.newlink",
                          "-EEXIST is returned unchanged"],
                edits=[Edit(rel, match.start(), match.end(), "__register_netdevice(",
                            "t1-rename")],
            ))
        for match in re.finditer(rb"dev_change_net_namespace\(", data):
            line = data.count(b"\n", 0, match.start()) + 1
            result.sites.append(Site(
                stage=stage, template="T9", outcome="review", file=rel, function="bar_ioctl",
                line=line, start=match.start(), end=match.end(), rule="t9-bracket",
                reason="namespace move from ioctl needs a human",
                evidence=["bar_ioctl() <- ndo_eth_ioctl"],
            ))
    return result


@pytest.fixture(autouse=True)
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planner, "plan_stage", fake_plan_stage)


def state(repo: Path) -> tuple[str, str, str, str]:
    return (
        git(repo, "rev-parse", "HEAD"),
        git(repo, "status", "--porcelain"),
        git(repo, "branch", "--list"),
        git(repo, "worktree", "list", "--porcelain").count("worktree "),
    )


def test_stage_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "linux")
    (repo / "drivers/net/bar.c").write_text("dirty\n")  # uncommitted: ignored, said so
    before = state(repo)
    out = tmp_path / "out"
    manifest = tmp_path / "sites.json"
    code = cli.main(["stage", "2", "--tree", str(repo), "--out", str(out),
                     "--json", str(manifest)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "uncommitted changes" in captured.err
    assert state(repo) == before

    names = sorted(p.name for p in out.iterdir())
    assert names[0] == "0000-cover-letter.patch"
    assert len(names) == 4  # core, bar, foo
    patches = [out / name for name in names[1:]]
    texts = [p.read_text() for p in patches]
    subjects = [re.search(r"^Subject: (.*)$", t, re.M).group(1) for t in texts]
    assert subjects[0].startswith("[PATCH 1/3] net: Use __register_netdevice()")
    assert subjects[1] == "[PATCH 2/3] bar: Use __register_netdevice() in .newlink"
    assert subjects[2] == "[PATCH 3/3] foo: Use __register_netdevice() in .newlink"
    for text in texts:
        assert "Signed-off-by: Test Dev <dev@example.org>\n---\n" in text
        message = text.split("\n\n", 1)[1].split("\n---\n", 1)[0]
        assert all(len(line) <= 75 for line in message.splitlines())
        assert not any(line.startswith(("-", "+")) for line in message.splitlines())
    # foo's two files are one driver: one commit.
    assert "drivers/net/foo/foo_main.c" in texts[2] and "drivers/net/foo/foo_peer.c" in texts[2]
    assert "To: Foo Maint <foo@example.org>\n" in texts[2]
    assert "Cc: Foo Rev <rev@example.org>,\n    netdev@vger.kernel.org" in texts[2]
    assert "torvalds" not in texts[2]

    cover = (out / names[0]).read_text()
    # drivers/net/ is under no netdev entry of this MAINTAINERS: no "net-next"
    assert "Subject: [PATCH 0/3] net: Run .newlink and .changelink under nd_lock\n" in cover
    assert "depends on the nd_lock core series" in cover
    assert "4 call sites converted in 3 patches, 1 left for review.\n" in cover
    # the review list: by driver, what to decide, why; no template ids
    assert ("bar (drivers/net/bar.c)\n  bar_ioctl() at drivers/net/bar.c:9: put this "
            "namespace move under the\n    device's lock by hand: namespace move from ioctl "
            "needs a human\n") in cover
    assert not re.search(r"\bT\d\b", cover)
    base = git(repo, "rev-parse", "HEAD").strip()
    assert f"base-commit: {base}" in cover
    assert "*** BLURB HERE ***" not in cover

    records = json.loads(manifest.read_text())
    assert len(records) == 5
    by_file = {(r["file"], r["outcome"]): r for r in records}
    assert by_file[("drivers/net/foo/foo_peer.c", "rewrite")]["patch"] == names[3]
    assert by_file[("drivers/net/bar.c", "review")]["patch"] is None

    # The series applies with git am in a fresh clone.
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    git(clone, "am", *[str(p) for p in patches])
    assert "__register_netdevice(dev)" in (clone / "drivers/net/bar.c").read_text()

    # Existing non-empty --out is refused without --force, replaced with it.
    assert cli.main(["stage", "2", "--tree", str(repo), "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    (out / "stale.txt").write_text("x")
    assert cli.main(["stage", "2", "--tree", str(repo), "--out", str(out), "--force"]) == 0
    assert not (out / "stale.txt").exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out.")]
    assert state(repo) == before


def test_strict_and_rerun_nothing_to_do(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "linux")
    out = tmp_path / "out"
    assert cli.main(["stage", "2", "--tree", str(repo), "--out", str(out), "--strict"]) == 1
    capsys.readouterr()
    assert cli.main(["stage", "2", "--tree", str(repo), "--out", str(out), "--force",
                     "--apply"]) == 0
    assert "__register_netdevice" in (repo / "net/core/dev.c").read_text()
    assert git(repo, "status", "--porcelain") == ""
    assert len(git(repo, "log", "--format=%s").splitlines()) == 6 + 3
    capsys.readouterr()
    out2 = tmp_path / "out2"
    assert cli.main(["stage", "2", "--tree", str(repo), "--out", str(out2)]) == 0
    assert "stage 2: nothing to do" in capsys.readouterr().out
    assert not out2.exists()


def test_max_patches_splits_into_parts(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "linux")
    out = tmp_path / "out"
    assert cli.main(["stage", "2", "--tree", str(repo), "--out", str(out),
                     "--max-patches", "2"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["part-1", "part-2"]
    part1 = sorted(p.name for p in (out / "part-1").iterdir())
    part2 = sorted(p.name for p in (out / "part-2").iterdir())
    assert len(part1) == 3 and len(part2) == 2
    cover2 = (out / "part-2" / part2[0]).read_text()
    assert "Subject: [PATCH 0/1] net: Run .newlink and .changelink under nd_lock (part 2/2)" \
        in cover2
    # the parts name each other by subject
    cover1 = " ".join((out / "part-1" / part1[0]).read_text().split())
    assert ('part 2 is "[PATCH 0/1] net: Run .newlink and .changelink under nd_lock (part '
            '2/2)"') in cover1
    assert ('part 1 is "[PATCH 0/2] net: Run .newlink and .changelink under nd_lock (part '
            '1/2)" and applies first') in " ".join(cover2.split())
    assert "prerequisite-patch-id:" in cover2
    base = git(repo, "rev-parse", "HEAD").strip()
    assert f"base-commit: {base}" in cover2
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    git(clone, "am", *[str(out / "part-1" / n) for n in part1[1:]],
        *[str(out / "part-2" / n) for n in part2[1:]])


def test_dry_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "linux")
    out = tmp_path / "sub" / "out"
    assert cli.main(["stage", "2", "--tree", str(repo), "--out", str(out), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "would write 3 patch(es)" in printed
    assert "0002-bar-Use-__register_netdevice-in-.newlink.patch" in printed
    assert not (tmp_path / "sub").exists()


def test_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert cli.main(["stage", "2", "--tree", str(plain)]) == 2
    assert "not a git work tree" in capsys.readouterr().err
    repo = make_repo(tmp_path / "linux")
    assert cli.main(["stage", "2", "--tree", str(repo), "--out",
                     str(repo / "drivers/net/out")]) == 2
    assert "tracked paths" in capsys.readouterr().err
    (repo / "net/core/dev.c").write_text("dirty\n")
    assert cli.main(["stage", "2", "--tree", str(repo), "--out", str(tmp_path / "o"),
                     "--apply"]) == 2
    assert "--apply needs a clean tree" in capsys.readouterr().err
    assert cli.main(["stage", "9", "--tree", str(repo)]) == 2


def test_missing_identity_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "linux")
    git(repo, "config", "--unset", "user.email")
    monkeypatch.setenv("HOME", str(tmp_path))  # no global identity either
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    assert cli.main(["stage", "2", "--tree", str(repo), "--out", str(tmp_path / "o")]) == 2
    assert "user.email" in capsys.readouterr().err


def test_stale_worktree_is_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "linux")
    holder = tmp_path / "migrate-wt-stale"
    holder.mkdir()
    (holder / "owner.pid").write_text("999999999\n")
    git(repo, "worktree", "add", "--detach", "-q", str(holder / "tree"), "HEAD")
    assert cli.main(["stage", "2", "--tree", str(repo), "--out", str(tmp_path / "o")]) == 0
    assert "migrate-wt-stale" not in git(repo, "worktree", "list")
    assert not holder.exists()


def test_review_shows_hunks_with_evidence(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    tree = tmp_path / "plain"  # no git needed
    for path, text in FILES.items():
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_text(text)
    manifest = tmp_path / "m.json"
    assert cli.main(["review", "--tree", str(tree), "--stage", "2", "--color", "never",
                     "--json", str(manifest)]) == 0
    out = capsys.readouterr().out
    assert "=== [2/3] bar: Use __register_netdevice() in .newlink" in out
    note = "# T1 [t1-rename] drivers/net/bar.c:4 bar_newlink(): register_netdevice()"
    assert note in out
    assert out.index(note) < out.index("@@ -1,7 +1,7 @@")
    assert "+\treturn __register_netdevice(dev);" in out
    assert "drivers/net/bar.c:9 bar_ioctl(): T9: namespace move" in out
    assert "\033[" not in out
    assert len(json.loads(manifest.read_text())) == 5
    assert (tree / "drivers/net/bar.c").read_text() == FILES["drivers/net/bar.c"]
