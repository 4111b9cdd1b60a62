"""The kernel build check (migrator/verify/build.py) and `migrate verify` on a tiny fake
kernel: a git repository whose Makefile honours O=, allmodconfig, prepare and single
`dir/file.o` goals the way kbuild does (a sub-make per directory that reads the
directory's Makefile, `obj-y`/`obj-m`, and compiles with `gcc -fsyntax-only -Werror`),
so the per-patch flow runs in seconds."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from migrator import cli
from migrator.engine import planner
from migrator.model import Edit, Site, StagePlan
from migrator.verify import series as verify_series_module
from migrator.verify.includes import IncludeScanner, objects_for_patch
from migrator.verify.kbuild import OBJECTS_TAG, configured_objects, parse_first_error
from migrator.verify.model import Violation

pytestmark = pytest.mark.skipif(
    shutil.which("make") is None or shutil.which("gcc") is None,
    reason="needs make and gcc (apt-get install build-essential)")

GIT = ("git", "-c", "user.name=Test Dev", "-c", "user.email=dev@example.org",
       "-c", "commit.gpgSign=false", "-c", "core.hooksPath=/dev/null")

TOP_MAKEFILE = """\
# fake kbuild: O= output directory, allmodconfig, prepare, single dir/file.o goals
srctree := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
ifeq ($(O),)
$(error fake kbuild: O= is required)
endif
export srctree
MAKEFLAGS += -rR
Makefile: ;

allmodconfig:
\t@mkdir -p $(O) && echo CONFIG_WERROR=y > $(O)/.config && echo "  CONF    .config"
prepare:
\t@test -f $(O)/.config || { echo "fake kbuild: error: run allmodconfig first"; exit 2; }
\t@mkdir -p $(O)/include/generated && touch $(O)/include/generated/autoconf.h
%.o: prepare FORCE
\t@$(MAKE) --no-print-directory -C $(O) -f $(srctree)/scripts/Makefile.build \\
\t\tobj=$(patsubst %/,%,$(dir $@)) $@
FORCE:
.PHONY: allmodconfig prepare FORCE
"""

MAKEFILE_BUILD = """\
# fake scripts/Makefile.build: one directory, objects selected by its Makefile
$(srctree)/scripts/Makefile.build $(srctree)/$(obj)/Makefile: ;
-include $(srctree)/$(obj)/Makefile
real-obj-y := $(addprefix $(obj)/,$(obj-y))
real-obj-m := $(addprefix $(obj)/,$(obj-m))
$(obj)/%.o: $(srctree)/$(obj)/%.c FORCE
\t@mkdir -p $(dir $@)
\t@echo "  CC      $@"
\t@$(COMPILE) -Wall -Werror -fsyntax-only -I$(srctree)/include $<
\t@touch $@
FORCE:
"""

GOOD_C = """\
#include <fake.h>

int fake_{name}(int x)
{{
\treturn fake_helper(x) + 1;
}}
"""

FILES = {
    "Makefile": TOP_MAKEFILE,
    "Kconfig": "config WERROR\n\tbool \"warnings are errors\"\n",
    "scripts/Makefile.build": "COMPILE = gcc\n" + MAKEFILE_BUILD,
    "include/fake.h": "int fake_helper(int x);\n",
    "include/other.h": "int other_helper(int x);\n",
    "drivers/net/Makefile": "obj-y += alpha.o\nobj-m += beta.o\n",
    "drivers/net/alpha.c": GOOD_C.format(name="alpha"),
    "drivers/net/beta.c": "#include <other.h>\n\nint fake_beta(void)\n{\n"
                          "\treturn other_helper(2);\n}\n",
    # not selected by drivers/net/Makefile (and does not even compile)
    "drivers/net/gamma.c": "#include <no/such/header.h>\nint fake_gamma(void);\n",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def make_tree(root: Path, files: dict[str, str] = FILES) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test Dev")
    git(root, "config", "user.email", "dev@example.org")
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Fake kernel")
    return root


def write_series(repo: Path, changes: list[dict[str, str]], out: Path) -> str:
    """Commit each change on a side branch, format-patch them into `out`; the
    checked-out branch stays at the base. Returns the base commit."""
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", f"series-{out.name}")
    for number, change in enumerate(changes, 1):
        for path, text in change.items():
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_text(text)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"fake: change {number}")
    git(repo, "format-patch", "-q", "--cover-letter", "-n", f"--base={base}", "-o", str(out),
        f"{base}..HEAD")
    git(repo, "checkout", "-q", "main")
    return base


def state(repo: Path) -> tuple[str, str, str]:
    return (git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"),
            git(repo, "worktree", "list"))


def verify(repo: Path, cache: Path, *args: str) -> list[str]:
    return ["verify", "--tree", str(repo), "--build-cache", str(cache), "--build-jobs", "1",
            *args]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "linux")


def test_clean_series_compiles_each_patch_and_lists_not_checked(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "series"
    write_series(repo, [
        {"drivers/net/alpha.c": GOOD_C.format(name="alpha").replace("+ 1", "+ 2")},
        {"drivers/net/gamma.c": FILES["drivers/net/gamma.c"] + "/* still broken */\n"},
        {"drivers/net/beta.c": FILES["drivers/net/beta.c"].replace("(2)", "(3)")},
    ], out)
    before = state(repo)
    cache = tmp_path / "kbuild"
    code = cli.main(verify(repo, cache, str(out)))
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    assert state(repo) == before  # the user's branch, index and work tree untouched
    # gamma.c does not compile, but the configuration does not build it: not checked
    assert ("not checked: drivers/net/gamma.c (0002-fake-change-2.patch: the configuration "
            "does not build it)") in captured.out
    assert "build check: 3 patch(es), 2 object(s) compiled, 1 not checked" in captured.out
    assert "[1/3] 0001-fake-change-1.patch: compiling drivers/net/alpha.c" in captured.err
    assert "[3/3] 0003-fake-change-3.patch: compiling drivers/net/beta.c" in captured.err
    assert "allmodconfig (once per base)" in captured.err
    assert "(configured in" in captured.out
    assert (cache.glob("*/obj/.config")).__next__().read_text() == "CONFIG_WERROR=y\n"
    # warm run: the configuration is reused, the scratch tree reset to the base
    code = cli.main(verify(repo, cache, str(out)))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "reusing the configured build" in captured.err
    assert "allmodconfig (once per base)" not in captured.err
    assert "(configuration reused)" in captured.out


def test_failure_names_patch_file_and_first_error_and_stops(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "series"
    broken = GOOD_C.format(name="alpha").replace("\treturn", "\tint unused;\n\n\treturn")
    write_series(repo, [
        {"drivers/net/beta.c": FILES["drivers/net/beta.c"].replace("(2)", "(4)")},
        {"drivers/net/alpha.c": broken},
        {"drivers/net/beta.c": FILES["drivers/net/beta.c"].replace("(2)", "(5)")},
    ], out)
    code = cli.main(verify(repo, tmp_path / "kbuild", str(out)))
    captured = capsys.readouterr()
    assert code == 3, captured.err
    line = broken.splitlines().index("\tint unused;") + 1
    assert (f"drivers/net/alpha.c:{line}: build: drivers/net/alpha.c does not compile after "
            "0002-fake-change-2.patch") in captured.out
    assert re.search(rf"^    drivers/net/alpha.c:{line}:\d+: error: unused variable 'unused'",
                     captured.out, re.M), captured.out
    assert "migrate: error: 1 finding(s) in the series" in captured.err
    assert "[3/3] 0003-fake-change-3.patch: compiling" not in captured.err  # stopped


def test_header_only_patch_compiles_the_series_files_that_include_it(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "series"
    write_series(repo, [
        {"include/fake.h": "int fake_helper(int x);\nint fake_new(void);\n"},
        {"drivers/net/alpha.c": GOOD_C.format(name="alpha").replace("+ 1", "+ fake_new()")},
        {"drivers/net/beta.c": FILES["drivers/net/beta.c"].replace("(2)", "(6)")},
    ], out)
    code = cli.main(verify(repo, tmp_path / "kbuild", str(out)))
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    # alpha.c includes fake.h, beta.c (also in the series) does not
    assert "[1/3] 0001-fake-change-1.patch: compiling drivers/net/alpha.c\n" in captured.err
    assert "build check: 3 patch(es), 3 object(s) compiled, 0 not checked" in captured.out

    out2 = tmp_path / "series2"
    write_series(repo, [
        {"include/fake.h": "#error fake.h is broken\nint fake_helper(int x);\n"},
        {"drivers/net/alpha.c": GOOD_C.format(name="alpha").replace("+ 1", "+ 7")},
    ], out2)
    code = cli.main(verify(repo, tmp_path / "kbuild", str(out2)))
    captured = capsys.readouterr()
    assert code == 3, captured.err
    assert ("include/fake.h:1: build: drivers/net/alpha.c does not compile after "
            "0001-fake-change-1.patch\n    include/fake.h:1:2: error: #error fake.h is broken"
            ) in captured.out


def test_no_build_runs_source_and_completeness_checks_with_the_right_bytes(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "series"
    alpha2 = GOOD_C.format(name="alpha").replace("+ 1", "+ 2") + "/* BAD */\n"
    write_series(repo, [
        {"drivers/net/alpha.c": GOOD_C.format(name="alpha").replace("+ 1", "+ 9"),
         "drivers/net/delta.c": "int delta;\n", "drivers/net/Makefile": "obj-y += alpha.o\n"},
        {"drivers/net/alpha.c": alpha2},
    ], out)
    seen: list[tuple[str, bytes, bytes]] = []

    def fake_check(path: str, original: bytes, patched: bytes,
                   pairs: object) -> list[Violation]:
        seen.append((path, original, patched))
        if b"BAD" in patched:
            return [Violation("lock-balance", path, "fake_alpha", 7, "lock held on return",
                              ("line 3 -> line 5 -> return",))]
        return []

    added_seen: list[dict[str, list[tuple[int, str]]]] = []

    def fake_complete(tree_after: Path, added: dict[str, list[tuple[int, str]]],
                      api: object) -> list[Violation]:
        assert api is not None  # the pack's API names are given
        added_seen.append(dict(added))
        assert (tree_after / "drivers/net/delta.c").read_text() == "int delta;\n"
        return []

    monkeypatch.setattr(verify_series_module, "check_rewrite", fake_check)
    monkeypatch.setattr(verify_series_module, "check_completeness", fake_complete)
    code = cli.main(["verify", "--tree", str(repo), "--no-build", str(out)])
    captured = capsys.readouterr()
    assert code == 3, captured.err
    assert "build check skipped (--no-build)" in captured.err
    assert "drivers/net/alpha.c:7: fake_alpha(): lock-balance: lock held on return\n" \
           "    line 3 -> line 5 -> return" in captured.out
    # Makefile is not C: not given to the source check; delta.c is new: empty original
    assert [path for path, _, _ in seen] == ["drivers/net/alpha.c", "drivers/net/delta.c",
                                             "drivers/net/alpha.c"]
    assert seen[1][1] == b"" and seen[1][2] == b"int delta;\n"
    assert seen[2][1] == GOOD_C.format(name="alpha").replace("+ 1", "+ 9").encode()
    assert seen[2][2] == alpha2.encode()
    # added lines of the whole series, numbered in the final files
    final_lines = alpha2.splitlines()
    assert added_seen[0]["drivers/net/alpha.c"] == [
        (5, final_lines[4]), (7, final_lines[6])]
    assert added_seen[0]["drivers/net/delta.c"] == [(1, "int delta;")]


def test_patch_that_does_not_apply_and_parts(repo: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "series"
    write_series(repo, [
        {"drivers/net/alpha.c": GOOD_C.format(name="alpha").replace("+ 1", "+ 2")},
        {"drivers/net/beta.c": FILES["drivers/net/beta.c"].replace("(2)", "(8)")},
    ], out)
    # split in two parts the way `migrate stage --max-patches 1` writes them
    for number, name in enumerate(sorted(p.name for p in out.glob("000[12]-*")), 1):
        part = out / f"part-{number}"
        part.mkdir()
        shutil.copy(out / "0000-cover-letter.patch", part / "0000-cover-letter.patch")
        (out / name).rename(part / name)
    (out / "0000-cover-letter.patch").unlink()
    assert cli.main(["verify", "--tree", str(repo), "--no-build", str(out)]) == 0
    captured = capsys.readouterr()
    assert "[1/2] part-1/0001-fake-change-1.patch" in captured.err
    assert "[2/2] part-2/0002-fake-change-2.patch" in captured.err
    # a patch whose context is gone
    (repo / "drivers/net/alpha.c").write_text("int changed;\n")
    git(repo, "commit", "-q", "-am", "conflicting change")
    code = cli.main(["verify", "--tree", str(repo), "--no-build", "--base", "HEAD", str(out)])
    captured = capsys.readouterr()
    assert code == 3
    assert "part-1/0001-fake-change-1.patch: apply: does not apply with git am" in captured.out


def test_not_a_kernel_tree_and_missing_programs_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    plain = make_tree(tmp_path / "plain", {"README": "hello\n", "a.c": "int a;\n"})
    out = tmp_path / "series"
    write_series(plain, [{"a.c": "int a = 1;\n"}], out)
    code = cli.main(verify(plain, tmp_path / "kbuild", str(out)))
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1  # one line
    assert "not a kernel tree" in err and "(no Makefile)" in err
    assert not (tmp_path / "kbuild").exists() or not any((tmp_path / "kbuild").iterdir())

    files = dict(FILES, **{"scripts/kconfig/lexer.l": "%%\n", "scripts/kconfig/parser.y": ""})
    kernel = make_tree(tmp_path / "k2", files)
    out2 = tmp_path / "series2"
    write_series(kernel, [{"drivers/net/alpha.c": GOOD_C.format(name="a")}], out2)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("git", "make", "gcc"):
        (bin_dir / tool).symlink_to(shutil.which(tool))  # type: ignore[arg-type]
    monkeypatch.setenv("PATH", str(bin_dir))
    code = cli.main(verify(kernel, tmp_path / "kbuild2", str(out2)))
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot configure the kernel build: flex, bison not found" in err


def test_configure_failure_exits_2_and_caches_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = dict(FILES, Makefile=TOP_MAKEFILE.replace(
        "\t@mkdir -p $(O)/include/generated",
        "\t@echo 'scripts/fake.c:3:1: error: libelf not found' >&2; exit 1\n"
        "\t@mkdir -p $(O)/include/generated"))
    repo = make_tree(tmp_path / "linux", files)
    out = tmp_path / "series"
    write_series(repo, [{"drivers/net/alpha.c": GOOD_C.format(name="x")}], out)
    cache = tmp_path / "kbuild"
    code = cli.main(verify(repo, cache, str(out)))
    err = capsys.readouterr().err
    assert code == 2
    assert "`make prepare` failed: scripts/fake.c:3:1: error: libelf not found" in err
    assert not list(cache.glob("*/key.json")) and not list(cache.glob("*/obj"))


# ---------------------------------------------------------------------------
# stage --verify-build, with a fake planner (T1 rename of register_netdevice())

NETDEV_H = "struct net_device;\nint register_netdevice(struct net_device *dev);\n"
STAGE_FILES = dict(FILES, **{
    "include/linux/netdevice.h": NETDEV_H,
    "drivers/net/Makefile": "obj-y += alpha.o\nobj-m += foo.o\n",
    "drivers/net/foo.c": (
        "// SPDX-License-Identifier: GPL-2.0\n#include <linux/netdevice.h>\n\n"
        "int foo_newlink(struct net_device *dev)\n{\n"
        "\treturn register_netdevice(dev);\n}\n"),
})


def fake_plan_stage(tree: Path, stage: int, options: object = None) -> StagePlan:
    result = StagePlan(stage=stage, tree=str(tree))
    rel = "drivers/net/foo.c"
    data = (tree / rel).read_bytes()
    for match in re.finditer(rb"(?<![\w])register_netdevice\(", data):
        result.sites.append(Site(
            stage=stage, template="T1", outcome="rewrite", file=rel, function="foo_newlink",
            line=data.count(b"\n", 0, match.start()) + 1, start=match.start(),
            end=match.end(), rule="t1-rename", reason="reachable from .newlink",
            evidence=["foo_newlink() <- rtnl_link_ops.newlink"],
            edits=[Edit(rel, match.start(), match.end(), "__register_netdevice(",
                        "t1-rename")]))
    return result


@pytest.mark.parametrize("declared", [False, True])
def test_stage_verify_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str], declared: bool) -> None:
    monkeypatch.setattr(planner, "plan_stage", fake_plan_stage)
    files = dict(STAGE_FILES)
    if declared:
        files["include/linux/netdevice.h"] = (
            NETDEV_H + "int __register_netdevice(struct net_device *dev);\n")
    repo = make_tree(tmp_path / "linux", files)
    before = state(repo)
    out = tmp_path / "out"
    code = cli.main(["stage", "2", "--tree", str(repo), "--out", str(out), "--verify-build",
                     "--cache-dir", str(tmp_path / "cache"), "--build-jobs", "1"])
    captured = capsys.readouterr()
    assert state(repo) == before
    assert list((tmp_path / "cache" / "kbuild").glob("*/obj/.config"))  # --cache-dir/kbuild
    if declared:
        assert code == 0, captured.err
        assert "build check: 1 patch(es), 1 object(s) compiled, 0 not checked" in captured.err
        assert (out / "0001-foo-Use-__register_netdevice-in-.newlink.patch").exists() or \
            len(list(out.glob("0001-*.patch"))) == 1
    else:
        assert code == 3, captured.err
        assert "the series fails verification, not written" in captured.err
        assert "implicit declaration of function '__register_netdevice'" in captured.err
        # the completeness check names the same fault without the compiler
        assert "__register_netdevice (function of the nd_lock API) is used but not " \
            "declared" in captured.err
        assert not out.exists()  # nothing written
        assert not list(tmp_path.glob(".out.tmp-*"))


# ---------------------------------------------------------------------------
# pieces


def test_configured_objects_and_first_error_parsing(tmp_path: Path) -> None:
    output = (f"{OBJECTS_TAG} .: drivers/built-in.a\n"
              f"{OBJECTS_TAG} drivers/net: drivers/net/a.o ./drivers/net/b.o\n"
              "  CC      drivers/net/a.o\n"
              f"In file included from {tmp_path}/src/drivers/net/a.c:2:\n"
              f"{tmp_path}/src/include/x.h:4:7: error: expected ';' before 'int'\n"
              f"{tmp_path}/src/drivers/net/a.c:9:1: error: later\n")
    assert configured_objects(output) == {"drivers/built-in.a", "drivers/net/a.o",
                                          "drivers/net/b.o"}
    assert parse_first_error(output, tmp_path / "src", tmp_path / "obj") == (
        "include/x.h", 4, "include/x.h:4:7: error: expected ';' before 'int'")
    assert parse_first_error("make: *** [Makefile:1: x] Error 2\n", tmp_path, tmp_path) == (
        "", 0, "make: *** [Makefile:1: x] Error 2")


def test_include_scanner_follows_headers(tmp_path: Path) -> None:
    for path, text in {
        "include/linux/netdevice.h": "#include <linux/skbuff.h>\n",
        "include/linux/skbuff.h": "#ifdef X\n# include \"../net/sock.h\"\n#endif\n",
        "include/net/sock.h": "int sock;\n",
        "drivers/net/a.c": "#include <linux/netdevice.h>\n",
        "drivers/net/b.c": "#include \"b.h\"\n",
        "drivers/net/b.h": "int b;\n",
        "drivers/net/c.c": "int c;\n",
    }.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    scanner = IncludeScanner(tmp_path)
    assert scanner.includes("drivers/net/a.c", "include/net/sock.h")
    assert not scanner.includes("drivers/net/c.c", "include/net/sock.h")
    series = ["drivers/net/a.c", "drivers/net/b.c", "drivers/net/c.c", "drivers/net/gone.c"]
    assert objects_for_patch(["include/net/sock.h"], series, tmp_path, scanner) == [
        "drivers/net/a.c"]
    assert objects_for_patch(["drivers/net/b.h", "drivers/net/c.c"], series, tmp_path,
                             scanner) == ["drivers/net/c.c", "drivers/net/b.c"]
    assert objects_for_patch(["include/net/sock.h"], series, tmp_path, scanner,
                             lambda source: {"include/net/sock.h"} if "c.c" in source
                             else set()) == ["drivers/net/a.c", "drivers/net/c.c"]
    assert json.dumps(objects_for_patch(["Makefile"], series, tmp_path, scanner)) == "[]"


def test_one_configuration_per_base_least_recently_used_pruned(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "kbuild"
    bases = []
    for number in range(4):
        out = tmp_path / f"series{number}"
        bases.append(write_series(repo, [{"drivers/net/alpha.c": GOOD_C.format(
            name=f"v{number}")}], out))
        assert cli.main(verify(repo, cache, str(out))) == 0, capsys.readouterr().err
        # the next series starts from a new base
        (repo / "drivers/net/beta.c").write_text(FILES["drivers/net/beta.c"] + f"/* {number} */\n")
        git(repo, "commit", "-q", "-am", f"base {number + 1}")
    kept = sorted(path.name[:12] for path in cache.iterdir() if path.is_dir())
    assert len(kept) == 3
    assert bases[0][:12] not in kept and bases[3][:12] in kept
    recorded = {json.loads((path / "key.json").read_text())["base"]
                for path in cache.iterdir() if path.is_dir()}
    assert recorded == set(bases[1:])


def test_added_lines_numbered_in_the_new_file(tmp_path: Path) -> None:
    repo = make_tree(tmp_path / "r", {"a.c": "one\ntwo\nthree\n", "b.c": "gone\n"})
    old = git(repo, "rev-parse", "HEAD").strip()
    (repo / "a.c").write_text("zero\none\n++ i;\nthree\n")  # a line that reads like a header
    (repo / "b.c").unlink()
    (repo / "c.h").write_text("new\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")
    new = git(repo, "rev-parse", "HEAD").strip()
    assert verify_series_module.added_lines(repo, old, new) == {
        "a.c": [(1, "zero"), (3, "++ i;")], "c.h": [(1, "new")]}
    assert sorted(verify_series_module.changed_files(repo, old, new)) == [
        ("A", "c.h"), ("D", "b.c"), ("M", "a.c")]
