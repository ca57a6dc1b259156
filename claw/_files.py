"""Async forms of the blocking file-system helpers that code on the event loop needs: a temporary
directory made and removed in a worker thread, so no `mkdir`/`rmtree` runs on the loop."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

__all__ = ["temporary_directory"]


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
