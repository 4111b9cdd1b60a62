"""The kernel's own build, patch by patch (SPEC §7): does every patch compile?

Only kbuild is used, never a compiler command line of ours. A build cache holds,
per key (base commit, architecture, toolchain, configuration target)::

    <cache>/<key>/src/       scratch git repository (objects borrowed from the
                             user's repository through git alternates), checked
                             out at the base and reset to it on every run
    <cache>/<key>/obj/       `make O=` output directory: allmodconfig + prepare
    <cache>/<key>/key.json   written last: the configuration is complete
    <cache>/<key>.lock       flock held for the whole run

The paths stay the same from run to run, so the absolute source paths that
kbuild records in its `.cmd` files stay valid and a warm run rebuilds only what
the patches changed (files reset to the base get a new mtime and are rebuilt).

Which objects the configuration builds: a single-object build
(`make O=... dir/file.o`) compiles any `.c` file kbuild reaches, whether or not
the configuration selects it, and reports nothing about it. So every such make
runs with ``MAKEFILES`` naming a small makefile of ours that, in each directory
kbuild descends into for the goal, prints the objects the directory's Kbuild
file selects under the configuration (`real-obj-y real-obj-m lib-y extra-y
always-y`, already expanded by scripts/Makefile.lib). An object no directory
lists is reported as "not checked", whatever the compiler said.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from migrator.model.errors import MigratorError
from migrator.verify.kbuild import (
    CONFIG_TARGET,
    OBJECTS_MAKEFILE,
    _first_line,
    _git,
    _run,
    cache_key,
    check_kernel_tree,
    configured_objects,
    key_name,
    make_env,
    parse_first_error,
)

KEEP_KEYS = 3  # configured bases kept in the cache (least recently used ones go)
MARKER = "key.json"

Say = Callable[[str], None]


def default_cache_root() -> Path:
    """`$XDG_CACHE_HOME/migrator/kbuild`, else `~/.cache/migrator/kbuild`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "migrator" / "kbuild"


def default_jobs() -> int:
    """Parallel make jobs: the CPUs this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """Where the build cache lives and how many make jobs run (0: one per CPU)."""

    cache_root: Path
    jobs: int = 0


@dataclass(frozen=True, slots=True)
class ObjectFailure:
    """The compiler's (or kbuild's) first error for one `.c` file.

    ``source`` is the `.c` file whose object failed; ``file``/``line`` locate the
    first error (a header when the error is in one; line 0 when kbuild gave no
    location); ``first_error`` is that line as the compiler printed it, with
    paths relative to the tree; ``output`` the last lines of the make output.
    """

    source: str
    file: str
    line: int
    first_error: str
    output: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PatchBuild:
    """Build result of one patch: `.c` files compiled cleanly, files the
    configuration does not build (not checked), the first failure (or None) and
    the wall-clock seconds the compiles took."""

    patch: str
    compiled: tuple[str, ...]
    not_checked: tuple[str, ...]
    failure: ObjectFailure | None
    seconds: float


@dataclass(slots=True)
class BuildStats:
    """Figures of one run: configure time (0 when reused), objects, seconds."""

    configured: bool = False  # True when this run configured (cold), False: reused
    configure_seconds: float = 0.0
    patches: int = 0
    compiled: int = 0
    not_checked: int = 0
    seconds: float = 0.0
    not_checked_files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        how = (f"configured in {self.configure_seconds:.0f} s" if self.configured
               else "configuration reused")
        return (f"build check: {self.patches} patch(es), {self.compiled} object(s) compiled, "
                f"{self.not_checked} not checked, {self.seconds:.1f} s ({how})")


class KernelBuild:
    """The cached, configured kernel build for one base commit of one repository.

    Use as a context manager: entering takes the cache key's lock, makes the
    scratch source repository (or resets it to `base`) and configures the build
    directory when no complete configuration is cached. `source` is the scratch
    work tree where patches are applied; `compile()` builds objects in it.

    Raises MigratorError (exit 2) when the tree cannot be configured (not a
    kernel tree, a missing program, `make allmodconfig`/`prepare` failing).
    """

    def __init__(self, repo_dir: Path, base: str, options: BuildOptions,
                 say: Say | None = None) -> None:
        self.repo_dir = Path(repo_dir)
        self.base = base
        self.options = options
        self.say: Say = say or (lambda _message: None)
        self.env = make_env()
        self.jobs = options.jobs or default_jobs()
        self.stats = BuildStats()
        self.key: dict[str, str] = {}
        self.root = Path()
        self._lock_fd: int | None = None
        self._objects_mk = Path()

    # -- paths -----------------------------------------------------------------
    @property
    def source(self) -> Path:
        """Scratch work tree (git repository) at the base, patches applied by the caller."""
        return self.root / "src"

    @property
    def objtree(self) -> Path:
        return self.root / "obj"

    # -- context ---------------------------------------------------------------
    def __enter__(self) -> KernelBuild:
        cache = Path(self.options.cache_root).absolute()
        if re.search(r"\s", str(cache)):
            raise MigratorError(f"{cache}: the build cache path contains white space, "
                                "which make cannot handle; use --build-cache DIR")
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MigratorError(f"{cache}: cannot create the build cache: "
                                f"{exc.strerror or exc}") from None
        self.key = cache_key(self.base, self.env)
        self.root = cache / key_name(self.key)
        check_kernel_tree(self.repo_dir, self.base, self.env)
        self._lock(cache / f"{self.root.name}.lock")
        try:
            self._objects_mk = self.root / "kbuild-objects.mk"
            self._prepare_source()
            if self._configured():
                self.say(f"migrate: build: reusing the configured build {self.objtree}")
            else:
                self._configure()
            self._objects_mk.write_text(OBJECTS_MAKEFILE, encoding="utf-8")
            with contextlib.suppress(OSError):
                os.utime(self.root / MARKER)  # most recently used, for pruning
            self._prune(cache)
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._unlock()

    def _lock(self, path: Path) -> None:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise MigratorError(f"{path}: cannot create the build cache lock: "
                                f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise MigratorError(f"{path}: cannot lock the build cache: "
                                    f"{exc.strerror or exc}") from None
            self.say(f"migrate: build: waiting for another run using {path.with_suffix('')}")
            fcntl.flock(fd, fcntl.LOCK_EX)
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- source ----------------------------------------------------------------
    def _objects_dir(self) -> Path:
        result = _git(self.repo_dir, "rev-parse", "--path-format=absolute",
                      "--git-common-dir")
        if result.returncode != 0:
            raise MigratorError(f"{self.repo_dir}: not a git repository: "
                                f"{_first_line(result.stderr)}")
        return Path(result.stdout.strip()) / "objects"

    def _prepare_source(self) -> None:
        """`src` exists, borrows the user's objects and is exactly the base commit."""
        src = self.source
        objects = self._objects_dir()
        if not (src / ".git").is_dir():
            shutil.rmtree(src, ignore_errors=True)
            src.mkdir(parents=True)
            self._check(_git(src, "init", "-q"), src, "git init")
            _git(src, "config", "gc.auto", "0")
            (self.root / MARKER).unlink(missing_ok=True)
        alternates = src / ".git" / "objects" / "info" / "alternates"
        known = [line for line in (alternates.read_text().splitlines()
                                   if alternates.exists() else [])
                 if line.strip() and Path(line).is_dir()]
        if str(objects) not in known:
            known.append(str(objects))
        alternates.parent.mkdir(parents=True, exist_ok=True)
        alternates.write_text("".join(f"{line}\n" for line in known))
        if (src / ".git" / "rebase-apply").exists():
            _git(src, "am", "--abort")
        if _git(src, "rev-parse", "-q", "--verify", "HEAD").returncode != 0:
            self.say(f"migrate: build: checking out {self.base[:12]} in {src} "
                     "(once per base)")
            self._check(_git(src, "checkout", "-q", "--detach", "--force", self.base), src,
                        f"git checkout {self.base[:12]}")
        # back to the base: only the files the last run's patches changed are rewritten
        self._check(_git(src, "reset", "-q", "--hard", self.base), src,
                    f"git reset --hard {self.base[:12]}")
        self._check(_git(src, "clean", "-q", "-ffdx"), src, "git clean")

    @staticmethod
    def _check(result: subprocess.CompletedProcess[str], where: Path, what: str) -> None:
        if result.returncode != 0:
            raise MigratorError(f"{where}: {what} failed: "
                                f"{_first_line(result.stderr) or _first_line(result.stdout)}")

    # -- configuration -----------------------------------------------------------
    def _configured(self) -> bool:
        try:
            recorded = json.loads((self.root / MARKER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return recorded == self.key and (self.objtree / ".config").is_file()

    def _make(self, *goals: str, objects_hook: bool = False
              ) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if objects_hook:
            env["MAKEFILES"] = str(self._objects_mk)
        return _run(["make", "-C", str(self.source), f"O={self.objtree}", f"-j{self.jobs}",
                     *goals], env=env)

    def _configure(self) -> None:
        (self.root / MARKER).unlink(missing_ok=True)
        shutil.rmtree(self.objtree, ignore_errors=True)
        self.objtree.mkdir(parents=True)
        started = time.monotonic()
        for goal in (CONFIG_TARGET, "prepare"):
            self.say(f"migrate: build: make O={self.objtree} {goal} (once per base)")
            result = self._make(goal)
            (self.root / f"{goal}.log").write_text(result.stdout + result.stderr,
                                                   encoding="utf-8")
            if result.returncode != 0:
                shutil.rmtree(self.objtree, ignore_errors=True)  # nothing half-configured
                _, _, error = parse_first_error(result.stdout + result.stderr,
                                                self.source, self.objtree)
                raise MigratorError(f"{self.repo_dir}: cannot configure the kernel build: "
                                    f"`make {goal}` failed: {error}")
        config = (self.objtree / ".config").read_text(encoding="utf-8", errors="replace")
        if "\nCONFIG_WERROR=y" not in f"\n{config}" and "config WERROR" in _read(
                self.source / "init" / "Kconfig"):
            self.say("migrate: build: warning: CONFIG_WERROR is not set: "
                     "new warnings will not fail the check")
        self.stats.configured = True
        self.stats.configure_seconds = time.monotonic() - started
        (self.root / MARKER).write_text(json.dumps(self.key, indent=1) + "\n",
                                        encoding="utf-8")

    def _prune(self, cache: Path) -> None:
        """Keep the KEEP_KEYS most recently used configurations; never a locked one."""
        entries = sorted(
            (path for path in cache.iterdir() if path.is_dir() and path != self.root),
            key=lambda path: _mtime(path / MARKER), reverse=True)
        for path in entries[KEEP_KEYS - 1:]:
            lock = cache / f"{path.name}.lock"
            try:
                fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            try:
                self.say(f"migrate: build: removing the least recently used build {path}")
                shutil.rmtree(path, ignore_errors=True)
                lock.unlink(missing_ok=True)
            finally:
                os.close(fd)

    # -- compiling ---------------------------------------------------------------
    def compile(self, sources: Sequence[str]) -> tuple[list[str], list[str],
                                                       ObjectFailure | None]:
        """Compile the objects of `sources` (`.c` paths relative to the tree) with
        kbuild. Returns (compiled cleanly, not built by the configuration, first
        failure or None). One make for all; when it fails, one make per object
        tells which one (objects already built are then only checked)."""
        objects = [source[:-2] + ".o" for source in sources]
        if not objects:
            return [], [], None
        result = self._make("-k", *objects, objects_hook=True)
        output = result.stdout + result.stderr
        selected = configured_objects(output)
        if result.returncode == 0:
            ok = [s for s, o in zip(sources, objects, strict=True) if o in selected]
            return ok, [s for s in sources if s not in ok], None
        compiled: list[str] = []
        not_checked: list[str] = []
        for source, obj in zip(sources, objects, strict=True):
            single = result if len(objects) == 1 else self._make(obj, objects_hook=True)
            text = single.stdout + single.stderr
            if obj not in configured_objects(text):
                not_checked.append(source)
            elif single.returncode == 0:
                compiled.append(source)
            else:
                file, line, error = parse_first_error(text, self.source, self.objtree)
                tail = tuple(text.splitlines()[-20:])
                return compiled, not_checked, ObjectFailure(source, file or source, line,
                                                            error, tail)
        if not compiled and not not_checked:
            file, line, error = parse_first_error(output, self.source, self.objtree)
            return [], [], ObjectFailure(sources[0], file, line, error,
                                         tuple(output.splitlines()[-20:]))
        return compiled, not_checked, None

    def dependencies(self, source: str) -> set[str]:
        """Files kbuild recorded as dependencies of `source`'s object (its `.cmd`
        file, from an earlier compile in this cache), relative to the tree."""
        rel = Path(source[:-2] + ".o")
        cmd = self.objtree / rel.parent / f".{rel.name}.cmd"
        text = _read(cmd)
        prefix = f"{self.source}/"
        deps: set[str] = set()
        for token in re.split(r"[\s\\]+", text):
            if token.startswith(prefix):
                deps.add(token[len(prefix):])
            elif token.startswith(("include/", "arch/")):
                deps.add(token)
        return deps

    def srcarch(self) -> str | None:
        """The configured architecture's directory under arch/ (from the build dir)."""
        for path in sorted((self.objtree / "arch").glob("*/include/generated")):
            return path.parent.parent.name
        return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@contextlib.contextmanager
def kernel_build(repo_dir: Path, base: str, options: BuildOptions,
                 say: Say | None = None) -> Iterator[KernelBuild]:
    """`with kernel_build(...) as build:` -- see KernelBuild."""
    build = KernelBuild(repo_dir, base, options, say)
    with build:
        yield build
