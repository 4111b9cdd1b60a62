"""Shared pytest fixtures.  Each block below is owned by one part of the project."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis runs derandomized: the same examples every run (a failure is reproducible,
# never flaky); seeds that once failed are kept as explicit @example()s in the tests.
settings.register_profile("migrator", derandomize=True, database=None, deadline=None,
                          print_blob=True)
settings.load_profile("migrator")

_HYPOTHESIS_HOME = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis writes its files (a cache of the constants it finds in the project's
    modules) to a directory of this run, not to .hypothesis/ of the current directory:
    a run reads nothing an earlier run left behind."""
    home = Path(tempfile.mkdtemp(prefix="migrator-tests-hypothesis-"))
    config.stash[_HYPOTHESIS_HOME] = home
    set_hypothesis_home_dir(home)


def pytest_unconfigure(config: pytest.Config) -> None:
    home = config.stash.get(_HYPOTHESIS_HOME, None)
    if home is not None:
        set_hypothesis_home_dir(None)
        shutil.rmtree(home, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `slow` (the long fuzz run) run only when asked for: `pytest -m slow`."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with `pytest -m slow`")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _private_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Tests never read or write the developer's own ~/.cache/migrator: the default
    cache of every command run in-process points at a directory of this session."""
    home = tmp_path_factory.mktemp("xdg-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(home))
        yield home


# ---------------------------------------------------------------------------
# BEGIN kernel-tree fixtures (owner: migrator/kernel_tree.py)
#
# kernel_612: a git repo of Debian's linux-source-6.12 (one commit, clean).
# Fetched/unpacked on first use into $MIGRATOR_KERNEL_CACHE or .cache/kernels;
# set MIGRATOR_KERNEL_CACHE=/work/kcache to reuse a prepared one.  Tests using it
# are marked @pytest.mark.kernel (deselect with -m "not kernel").  Skipped, with
# the reason, when the package cannot be installed (no root / no network).
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kernel_612() -> Path:
    from kernel_tree import KernelTreeUnavailable, kernel_tree

    try:
        return kernel_tree("6.12")
    except KernelTreeUnavailable as exc:
        pytest.skip(f"Linux 6.12 tree unavailable: {exc.reason}")


# END kernel-tree fixtures
# ---------------------------------------------------------------------------
