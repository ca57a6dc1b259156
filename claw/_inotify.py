"""`FileWatch`: wait, without polling, until a file changes (Linux inotify through libc), so a follower
of a growing file (`claw tail -f`) sleeps until the writer appends instead of waking on a timer. Where
inotify is unavailable (the per-user instance limit is spent), `changed` falls back to a short sleep.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from pathlib import Path
from types import TracebackType

import anyio
import structlog

__all__ = ["FileWatch"]

_log = structlog.get_logger("claw")
_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x002, 0x004, 0x008
_IN_MOVE_SELF, _IN_DELETE_SELF = 0x800, 0x400
_MASK = _IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVE_SELF | _IN_DELETE_SELF
_IN_NONBLOCK, _IN_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC
_FALLBACK_S = 0.25


_LIBC = ctypes.CDLL(None, use_errno=True)
"""The C library's symbols, as already loaded into this process (no library search)."""


class FileWatch:
    """`with FileWatch(path) as watch: ... await watch.changed()`; set up before the first read, so a
    change that lands between reading to the end and waiting still wakes the waiter."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1

    def __enter__(self) -> FileWatch:
        fd = _LIBC.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            _log.warning("inotify unavailable; following by polling", error=os.strerror(ctypes.get_errno()))
            return self
        if _LIBC.inotify_add_watch(fd, os.fsencode(self.path), _MASK) < 0:
            error = ctypes.get_errno()
            os.close(fd)
            raise OSError(error, f"cannot watch {self.path}: {os.strerror(error)}")
        self._fd = fd
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    async def changed(self) -> None:
        """Return once the file was written to (or moved, or removed) since the last call."""
        if self._fd < 0:
            await anyio.sleep(_FALLBACK_S)
            return
        await anyio.wait_readable(self._fd)
        with contextlib.suppress(BlockingIOError):
            while os.read(self._fd, 4096):
                pass
