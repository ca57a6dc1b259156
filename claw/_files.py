"""Async forms of the blocking file-system helpers that code on the event loop needs: a temporary
directory made and removed in a worker thread, so no `mkdir`/`rmtree` runs on the loop. Also the sweep
that removes the temporary directories a killed run left behind (their names carry the owner's pid)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import structlog

__all__ = ["owned_prefix", "sweep_stale_temp_dirs", "temporary_directory"]

_log = structlog.get_logger("claw.files")
_OWNED = re.compile(r"claw-(?:k)?(\d+)-")


def owned_prefix(kind: str = "") -> str:
    """A temporary-directory name prefix that records this process as the owner (`claw-<kind><pid>-`),
    so that `sweep_stale_temp_dirs` can tell a killed run's leftovers from a live run's directories."""
    return f"claw-{kind}{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_temp_dirs(root: Path | None = None) -> list[Path]:
    """Remove `claw-<pid>-*` / `claw-k<pid>-*` directories whose owner process is gone (blocking); return
    what was removed. A run killed by SIGKILL leaves its sockets and kernel directories there."""
    root = Path(tempfile.gettempdir()) if root is None else root
    removed: list[Path] = []
    for path in root.glob("claw-*"):
        owner = _OWNED.match(path.name)
        if owner is None or not path.is_dir() or _alive(int(owner.group(1))):
            continue
        shutil.rmtree(path, onerror=_report_undeletable)
        removed.append(path)
    if removed:
        _log.info("removed directories of runs that were killed", count=len(removed))
    return removed


def _report_undeletable(_function: object, path: str, excinfo: object) -> None:
    _log.warning("cannot remove a stale claw directory", path=path, error=str(excinfo))


@asynccontextmanager
async def temporary_directory(prefix: str | None = None) -> AsyncIterator[Path]:
    """A fresh private directory for the block, removed afterwards even if the block is cancelled.

    Raises:
        OSError: the directory could not be created (e.g. the temp folder is not writable).
    """
    folder = await anyio.to_thread.run_sync(lambda: tempfile.TemporaryDirectory(prefix=prefix))
    try:
        yield Path(folder.name)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(folder.cleanup)
