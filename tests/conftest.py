"""Shared pytest fixtures.  Each block below is owned by one part of the project."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    from migrator.kernel_tree import KernelTreeUnavailable, kernel_tree

    try:
        return kernel_tree("6.12")
    except KernelTreeUnavailable as exc:
        pytest.skip(f"Linux 6.12 tree unavailable: {exc.reason}")


# END kernel-tree fixtures
# ---------------------------------------------------------------------------
