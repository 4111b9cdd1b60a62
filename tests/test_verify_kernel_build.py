"""The build check on the real Linux 6.12 tree: allmodconfig + prepare once (cold),
reused by a second run (warm), a header-only patch, the loopback T0 rewrite and a
patch that adds a warning (CONFIG_WERROR=y makes it an error).

Cost: one checkout of the tree into the build cache, one allmodconfig + prepare and
three compiles of drivers/net/loopback.o."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from migrator import cli

GIT = ("git", "-c", "user.name=Test Dev", "-c", "user.email=dev@example.org",
       "-c", "commit.gpgSign=false")
LOOPBACK = "drivers/net/loopback.c"
NETDEVICE = "include/linux/netdevice.h"
T0_BEFORE = "\terr = register_netdev(dev);\n\tif (err)\n\t\tgoto out_free_netdev;\n"
T0_AFTER = ("\terr = rtnl_lock_killable();\n\tif (!err) {\n"
            "\t\terr = register_netdevice(dev);\n\t\trtnl_unlock();\n\t}\n"
            "\tif (err)\n\t\tgoto out_free_netdev;\n")


def missing_build_deps() -> list[str]:
    missing = [tool for tool in ("make", "gcc", "flex", "bison", "bc", "perl")
               if shutil.which(tool) is None]
    for header, package in (("gelf.h", "libelf-dev"), ("openssl/evp.h", "libssl-dev")):
        if not any(Path(root, header).exists()
                   for root in ("/usr/include", "/usr/local/include")):
            missing.append(package)
    return missing


def git(repo: Path, *args: str, env: dict[str, str] | None = None,
        text_in: str | None = None) -> str:
    return subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True,
                          text=True, input=text_in,
                          env={**os.environ, **(env or {})}).stdout.strip()


def blob(repo: Path, rev: str) -> str:
    return subprocess.run(["git", "cat-file", "blob", rev], cwd=repo, check=True,
                          capture_output=True, text=True).stdout


def commit_change(repo: Path, parent: str, changes: dict[str, str], subject: str) -> str:
    """A commit on `parent` changing `changes` (path -> new text), made with plumbing so
    that the repository needs no checkout of the kernel."""
    index = repo / ".git" / "migrate-test-index"
    env = {"GIT_INDEX_FILE": str(index)}
    git(repo, "read-tree", parent, env=env)
    for path, text in changes.items():
        blob = git(repo, "hash-object", "-w", "--stdin", text_in=text)
        git(repo, "update-index", "--cacheinfo", f"100644,{blob},{path}", env=env)
    tree = git(repo, "write-tree", env=env)
    index.unlink()
    return git(repo, "commit-tree", tree, "-p", parent, "-m", subject)


@pytest.mark.kernel
def test_build_check_on_612(kernel_612: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    missing = missing_build_deps()
    if missing:
        pytest.skip(f"kernel build dependencies missing: {', '.join(missing)} "
                    "(apt-get install build-essential flex bison bc libelf-dev libssl-dev)")
    repo = tmp_path / "linux"
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(kernel_612),
                    str(repo)], check=True)
    base = git(repo, "rev-parse", "HEAD")
    loopback = blob(repo, f"{base}:{LOOPBACK}")
    netdevice = blob(repo, f"{base}:{NETDEVICE}")
    assert T0_BEFORE in loopback
    marker = "struct net_device *dev_get_by_index(struct net *net, int ifindex);\n"
    assert marker in netdevice
    header = commit_change(repo, base, {NETDEVICE: netdevice.replace(
        # a declaration outside the nd_lock API: the completeness check has nothing to say
        marker, marker + "bool netdev_demo_ready(const struct net_device *dev);\n")},
        "net: Declare netdev_demo_ready()")
    t0 = commit_change(repo, header, {LOOPBACK: loopback.replace(T0_BEFORE, T0_AFTER)},
                       "loopback: Register under RTNL with register_netdevice()")
    good = tmp_path / "good"
    git(repo, "format-patch", "-q", "--cover-letter", "-n", f"--base={base}", "-o",
        str(good), f"{base}..{t0}")
    cache = tmp_path / "kbuild"
    args = ["verify", "--tree", str(repo), "--build-cache", str(cache), "--build-jobs", "2"]

    code = cli.main([*args, str(good)])
    captured = capsys.readouterr()
    print(captured.out, captured.err)
    assert code == 0, captured.out + captured.err
    assert f"[1/2] 0001-net-Declare-netdev_demo_ready.patch: compiling {LOOPBACK}" \
        in captured.err
    assert "build check: 2 patch(es), 2 object(s) compiled, 0 not checked" in captured.out
    obj = next(cache.glob("*/obj"))
    assert (obj / "drivers/net/loopback.o").stat().st_size > 0
    assert "CONFIG_WERROR=y\n" in (obj / ".config").read_text()

    warn = loopback.replace(T0_BEFORE, T0_AFTER).replace(
        "\tstruct net_device *dev;\n\tint err;\n",
        "\tstruct net_device *dev;\n\tint unused;\n\tint err;\n", 1)
    line = warn.splitlines().index("\tint unused;") + 1
    bad_commit = commit_change(repo, base, {LOOPBACK: warn}, "loopback: Add a warning")
    bad = tmp_path / "bad"
    git(repo, "format-patch", "-q", "--cover-letter", "-n", f"--base={base}", "-o",
        str(bad), f"{base}..{bad_commit}")
    code = cli.main([*args, str(bad)])
    captured = capsys.readouterr()
    print(captured.out, captured.err)
    assert code == 3, captured.out + captured.err
    assert "reusing the configured build" in captured.err
    assert re.search(rf"^    {LOOPBACK}:{line}:\d+: error: unused variable 'unused' "
                     r"\[-Werror=unused-variable\]", captured.out, re.M), captured.out
