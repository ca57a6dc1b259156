"""Which directories claw made on the host (temporary folders, pool cgroups) still belong to a live run.

The process that makes such a directory holds an exclusive `flock` on it for as long as it uses it; the
kernel drops that lock when the process ends, however it ends (SIGKILL included), and whichever pid
namespace it runs in. The pid in a directory's name is only a hint: a run inside its own pid namespace
(a container, `unshare -p`) names pids that the host's /proc does not show, and the reverse. So a sweep
removes a directory only when it can take that lock itself and the named pid is not alive here (older
claw versions held no lock). A directory is made under a shared lock on its parent folder and a sweep
holds an exclusive one, so no sweep sees a directory between its `mkdir` and its lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["claim_if_stale", "creating_in", "hold", "release", "sweeping"]

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


@contextlib.contextmanager
def _parent_lock(parent: Path, operation: int) -> Iterator[None]:
    descriptor = os.open(parent, _DIRECTORY)
    try:
        fcntl.flock(descriptor, operation)
        yield
    finally:
        os.close(descriptor)  # drops the lock


def creating_in(parent: Path) -> contextlib.AbstractContextManager[None]:
    """Hold while making (and `hold`ing) a directory in `parent`: no sweep runs there meanwhile."""
    return _parent_lock(parent, fcntl.LOCK_SH)


def sweeping(parent: Path) -> contextlib.AbstractContextManager[None]:
    """Hold while sweeping `parent`: no directory there is between its creation and its lock."""
    return _parent_lock(parent, fcntl.LOCK_EX)


def hold(path: Path) -> int:
    """Mark `path` as this process's for as long as the returned descriptor stays open (see `release`).

    Raises:
        OSError: the directory cannot be opened, or another process holds it.
    """
    descriptor = os.open(path, _DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        raise
    return descriptor


def release(descriptor: int) -> None:
    """Give up a directory held with `hold` (after removing it)."""
    os.close(descriptor)


@contextlib.contextmanager
def claim_if_stale(path: Path, owner_pid: int) -> Iterator[bool]:
    """Whether `path` is left over from a run that is gone; while the block runs it stays locked, so its
    removal races no one."""
    try:
        descriptor = os.open(path, _DIRECTORY)
    except FileNotFoundError:
        yield False
        return
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False  # a live run holds it, in this pid namespace or another
            return
        yield not _alive(owner_pid)
    finally:
        os.close(descriptor)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
