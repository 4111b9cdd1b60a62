"""What the kernel build check (build.py) asks of kbuild and its surroundings: the
environment make runs in, the programs configuring a tree needs, the cache key of a
configuration, and reading make's output (the objects each directory selects, printed
by OBJECTS_MAKEFILE; the first compiler error).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from migrator.model.errors import MigratorError

FORMAT = 1  # bump when the cache layout or the configuration steps change
CONFIG_TARGET = "allmodconfig"

OBJECTS_TAG = "MIGRATOR-KBUILD-OBJECTS"
# Printed by every kbuild directory make that builds one of our `.o` goals.
OBJECTS_MAKEFILE = f"""\
# migrator: print the objects this directory builds under the configuration.
# Read by every make through MAKEFILES; acts only in scripts/Makefile.build
# sub-makes (obj=...) whose goals are single objects.
ifdef obj
migrator-goals := $(filter %.o,$(MAKECMDGOALS))
ifneq ($(migrator-goals),)
.PHONY: migrator-kbuild-objects
$(migrator-goals): | migrator-kbuild-objects
migrator-kbuild-objects:
\t@echo '{OBJECTS_TAG} $(obj): $(sort $(real-obj-y) $(real-obj-m) $(lib-y) $(extra-y) \
$(always-y))'
endif
endif
"""
COMPILER_ERROR = re.compile(
    r"^(?P<file>[^:\s][^:]*):(?P<line>\d+):(?:\d+:)? (?:fatal )?error: (?P<message>.*)$"
)
# Variables of the caller's environment that would redirect or reshape our make runs.
DROPPED_ENV = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES", "MAKEOVERRIDES",
               "KBUILD_OUTPUT", "O", "KCONFIG_CONFIG", "KBUILD_EXTMOD", "M", "W", "C", "V")


def _run(cmd: Sequence[str], cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True,
                          errors="replace", check=False)


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(["git", "-C", str(repo), *args])


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def make_env() -> dict[str, str]:
    """The caller's environment minus what would redirect make; messages in English."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    return env


def compiler_name(env: dict[str, str]) -> str:
    """The compiler kbuild will call: clang with LLVM=..., else $(CROSS_COMPILE)gcc."""
    return "clang" if env.get("LLVM") else f"{env.get('CROSS_COMPILE', '')}gcc"


KERNEL_FILES = ("Makefile", "Kconfig", "scripts/Makefile.build")
# Programs the kernel's build runs when the tree has these inputs.
TOOL_INPUTS = {"flex": "scripts/kconfig/lexer.l", "bison": "scripts/kconfig/parser.y",
               "bc": "kernel/time/timeconst.bc"}


def required_tools(present: set[str], env: dict[str, str]) -> list[str]:
    """Programs configuring a tree needs: make, the compiler (and host gcc), and
    flex, bison, bc when the tree's files `present` include their inputs."""
    tools = ["make", compiler_name(env)]
    if not env.get("LLVM") and tools[-1] != "gcc":
        tools.append("gcc")  # HOSTCC
    tools += [tool for tool, path in TOOL_INPUTS.items() if path in present]
    return tools


def check_kernel_tree(repo_dir: Path, base: str, env: dict[str, str] | None = None) -> None:
    """MigratorError (exit 2), one line naming what is missing, when the tree of
    commit `base` in `repo_dir` cannot be configured: not a kernel tree, or a
    program its build needs is absent."""
    env = make_env() if env is None else env
    wanted = (*KERNEL_FILES, *TOOL_INPUTS.values())
    listed = _git(repo_dir, "ls-tree", "-r", "--name-only", base, "--", *wanted)
    if listed.returncode != 0:
        raise MigratorError(f"{repo_dir}: cannot read commit {base[:12]}: "
                            f"{_first_line(listed.stderr)}")
    present = set(listed.stdout.split())
    for name in KERNEL_FILES:
        if name not in present:
            raise MigratorError(f"{repo_dir}: not a kernel tree at {base[:12]} (no {name}); "
                                "the build check needs the kernel's own build system")
    missing = [tool for tool in required_tools(present, env)
               if shutil.which(tool, path=env.get("PATH")) is None]
    if missing:
        raise MigratorError(f"{repo_dir}: cannot configure the kernel build: "
                            f"{', '.join(missing)} not found in PATH "
                            "(Debian: apt-get install build-essential flex bison bc)")


def _tool_version(tool: str, env: dict[str, str]) -> str:
    try:
        result = _run([tool, "--version"], env=env)
    except OSError:
        return ""
    return _first_line(result.stdout)


def cache_key(base: str, env: dict[str, str]) -> dict[str, str]:
    """The inputs the configuration depends on besides the tree (which `base` fixes):
    architecture, toolchain and the configuration target."""
    return {
        "format": str(FORMAT),
        "base": base,
        "target": CONFIG_TARGET,
        "arch": env.get("ARCH", "") or platform.machine(),
        "cross_compile": env.get("CROSS_COMPILE", ""),
        "llvm": env.get("LLVM", ""),
        "kconfig_allconfig": env.get("KCONFIG_ALLCONFIG", ""),
        "compiler": _tool_version(compiler_name(env), env),
        "make": _tool_version("make", env),
    }


def key_name(key: dict[str, str]) -> str:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    return f"{key['base'][:12]}-{digest[:12]}"


def parse_first_error(output: str, source_root: Path, obj_root: Path
                      ) -> tuple[str, int, str]:
    """(file, line, text) of the first compiler error in `output`; paths relative
    to the tree. Falls back to the first line mentioning an error (line 0)."""
    prefixes = [f"{source_root}/", f"{obj_root}/"]

    def rel(text: str) -> str:
        for prefix in prefixes:
            text = text.replace(prefix, "")
        return text

    for raw in output.splitlines():
        match = COMPILER_ERROR.match(raw.strip())
        if match:
            return rel(match.group("file")), int(match.group("line")), rel(raw.strip())
    for raw in output.splitlines():
        line = raw.strip()
        if re.search(r"\berror\b", line, re.IGNORECASE) and not line.startswith("make"):
            return "", 0, rel(line)
    for raw in output.splitlines():
        if "***" in raw:
            return "", 0, rel(raw.strip())
    return "", 0, "make failed without an error message"


def configured_objects(output: str) -> set[str]:
    """Objects kbuild's directories reported (OBJECTS_TAG lines) as selected."""
    selected: set[str] = set()
    for line in output.splitlines():
        if not line.startswith(OBJECTS_TAG + " "):
            continue
        _, _, objects = line.partition(": ")
        for name in objects.split():
            selected.add(name[2:] if name.startswith("./") else name)
    return selected
