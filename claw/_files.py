"""Async forms of the blocking file-system helpers that code on the event loop needs: a temporary
directory made and removed in a worker thread, so no `mkdir`/`rmtree` runs on the loop. Also the
directories a run owns (`claw-<pid>-…`, held locked while it lives, see claw._ownership) and the sweep
that removes those a killed run left behind."""

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

from claw._ownership import claim_if_stale, creating_in, hold, release, sweeping

__all__ = [
    "make_owned_dir",
    "owned_prefix",
    "owned_temporary_directory",
    "remove_owned_dir",
    "sweep_stale_temp_dirs",
    "temporary_directory",
]

_log = structlog.get_logger("claw.files")
_OWNED = re.compile(r"claw-(?:k)?(\d+)-")


def owned_prefix(kind: str = "") -> str:
    """A temporary-directory name prefix that records this process as the owner (`claw-<kind><pid>-`),
    so that `sweep_stale_temp_dirs` can tell a killed run's leftovers from a live run's directories."""
    return f"claw-{kind}{os.getpid()}-"


def make_owned_dir(kind: str = "") -> tuple[Path, int]:
    """A fresh private `claw-<kind><pid>-…` directory in the temp folder, held for this process (blocking);
    the descriptor goes to `remove_owned_dir` once the directory is no longer needed.

    Raises:
        OSError: the directory could not be created (e.g. the temp folder is not writable).
    """
    with creating_in(Path(tempfile.gettempdir())):
        path = Path(tempfile.mkdtemp(prefix=owned_prefix(kind)))
        return path, hold(path)


def remove_owned_dir(path: Path, descriptor: int) -> None:
    """Remove a directory made by `make_owned_dir`, then let go of it (blocking)."""
    try:
        shutil.rmtree(path, ignore_errors=True)
    finally:
        release(descriptor)


@asynccontextmanager
async def owned_temporary_directory(kind: str = "") -> AsyncIterator[Path]:
    """`make_owned_dir` for the block, removed afterwards even if the block is cancelled.

    Raises:
        OSError: the directory could not be created (e.g. the temp folder is not writable).
    """
    path, descriptor = await anyio.to_thread.run_sync(make_owned_dir, kind)
    try:
        yield path
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(remove_owned_dir, path, descriptor)


def sweep_stale_temp_dirs(root: Path | None = None) -> list[Path]:
    """Remove `claw-<pid>-*` / `claw-k<pid>-*` directories left by runs that are gone (blocking); return
    what was removed. A run killed by SIGKILL leaves its sockets and kernel directories there. A live
    run's directories are never touched, whatever pid namespace either run is in (claw._ownership)."""
    root = Path(tempfile.gettempdir()) if root is None else root
    removed: list[Path] = []
    with sweeping(root):
        for path in root.glob("claw-*"):
            owner = _OWNED.match(path.name)
            if owner is None or not path.is_dir():
                continue
            with claim_if_stale(path, int(owner.group(1))) as stale:
                if stale:
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
