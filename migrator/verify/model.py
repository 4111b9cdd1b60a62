"""Typed inputs and results of the verification checks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Violation:
    """One finding of a check.

    ``check`` is "lock-balance", "preserve", "complete" or "build"; ``file`` is
    relative to the tree root; ``line`` is 1-based in the patched text;
    ``evidence`` holds one-line strings a maintainer can act on (the path as
    line numbers, the lost line, the compiler's first error).
    """

    check: str
    file: str
    function: str | None
    line: int
    message: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LockPair:
    """An acquire/release pair a pack declares (data, not code: its data/locks.toml).

    ``acquire``/``release`` are called names. ``held_on`` says when the acquire
    holds: "always", "true" (only on the branch where the call returned true, as a
    trylock) or "zero" (where it returned 0, as a killable lock). ``arg`` is the index
    of the argument that names the lock instance in the acquire (or None: one
    instance per name); ``release_arg`` the same for the release. ``on_failure_only``
    marks pairs such as attach -> detach, released only on paths that then fail.
    ``only`` (a regular expression) limits the pair to instances it matches in full
    (``mutex_lock`` only for one global lock's mutex); ``acquire_member`` says the
    acquire's argument is a member of the instance (``&lock->mutex`` with "mutex":
    the instance is ``lock``, as the release names it).
    ``drops``: calls (instance at ``release_arg``) after which the instance is no longer
    held without a release (unregistering a device detaches it);
    ``ends``: calls that must not be reached while it is held (freeing an object
    still attached).
    """

    acquire: str
    release: str
    held_on: str = "always"
    arg: int | None = None
    release_arg: int | None = None
    on_failure_only: bool = False
    only: str | None = None
    acquire_member: str | None = None
    drops: tuple[str, ...] = ()
    ends: tuple[str, ...] = ()
