"""The sample's media inside a confined kernel: the kernel's filesystem holds none of the host's files, so
at checkout every frame of the episode is staged into the kernel's exchange directory as a hard link, and
the setup the kernel reads names the frames by their path inside the kernel. Only the sample's own frames
are there, read-only. A frame is linked from where it is kept when that is on the same filesystem and
readable by others; otherwise from the run's one shared copy of it (copied at first use into a folder
beside the exchange directories, so later episodes needing it link instead of copying again).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import threading
from pathlib import Path

import msgspec
import structlog

from claw.suite import Frame, Video
from claw.wire.kernel import KernelSetup

__all__ = ["KEEP_UNUSED_BYTES", "SHARED_COPIES", "stage_media", "write_setup"]

SHARED_COPIES = "shared-frames"
"""Folder beside the kernels' exchange directories (same filesystem, gone with the pool) holding the
run's one copy of each frame that cannot be linked from where it is kept."""

KEEP_UNUSED_BYTES = 256 * 1024 * 1024
"""Shared copies no kernel holds are kept up to this size for the episodes that need them again (a
video's frames serve many questions); older ones are removed (the temp folder may be in memory)."""

_log = structlog.get_logger("claw.sandbox")


def write_setup(setup: KernelSetup, exchange: Path, inner_exchange: str | None) -> None:
    """Write the setup the kernel reads (`setup.msgpack`) into its exchange directory, its frames staged
    first when the kernel is confined (`inner_exchange` given): one worker-thread trip per checkout."""
    if inner_exchange is not None:
        setup = stage_media(setup, exchange, inner_exchange)
    (exchange / "setup.msgpack").write_bytes(msgspec.msgpack.encode(setup))


def stage_media(setup: KernelSetup, exchange: Path, inner_exchange: str) -> KernelSetup:
    """Place `setup`'s frames under `exchange/media` and return the setup as the kernel must see it.

    A frame file that cannot be read keeps a path inside the kernel that does not exist, so the kernel
    reports it as unreadable when the frame is first used (as it would any missing frame).
    """
    media = exchange / "media"
    media.mkdir(mode=0o755, exist_ok=True)
    videos = []
    for v, video in enumerate(setup.videos):
        frames = tuple(
            _stage(frame, media, f"v{v}-f{i}", inner_exchange) for i, frame in enumerate(video.frames)
        )
        videos.append(msgspec.structs.replace(video, frames=frames))
    return msgspec.structs.replace(setup, videos=tuple[Video, ...](videos))


def _stage(frame: Frame, media: Path, stem: str, inner_exchange: str) -> Frame:
    source = Path(frame.path)
    name = stem + source.suffix.lower()
    try:
        _link_or_share(source, media / name, media.parent.parent / SHARED_COPIES)
    except OSError:
        name = stem + ".missing"
    return msgspec.structs.replace(frame, path=f"{inner_exchange}/media/{name}")


class _Warned:
    copies = False


def _link_or_share(source: Path, target: Path, shared: Path) -> None:
    """Hard-link `source` at `target`; where it cannot be (another filesystem, or a file the kernel's uid
    may not read), link the run's one shared copy of it instead, made at its first use."""
    # Never write through a name already there: it may be a link to another sample's original file.
    target.unlink(missing_ok=True)
    found = source.stat()
    if found.st_mode & stat.S_IROTH:
        try:
            os.link(source, target)
            return
        except OSError as exc:  # another filesystem, or a link the host does not allow
            if not _Warned.copies:
                _Warned.copies = True
                _log.info(
                    "frames cannot be linked from where they are kept; each is copied once per run into "
                    "the kernels' temp folder (TMPDIR on the data's filesystem avoids the copy)",
                    error=str(exc),
                )
    _link_shared_copy(source, found, target, shared)


def _link_shared_copy(source: Path, found: os.stat_result, target: Path, shared: Path) -> None:
    """Link the run's copy of `source` (readable by every kernel) at `target`, copying it now if no
    episode has needed it yet. Named by the source's identity and version: a file replaced on disk is
    copied again."""
    name = f"{found.st_dev:x}-{found.st_ino:x}-{found.st_size:x}-{found.st_mtime_ns:x}{source.suffix.lower()}"
    copy = shared / name
    with contextlib.suppress(FileNotFoundError):  # no copy yet (or just pruned): made below
        os.utime(copy)  # recently used: pruned last
        os.link(copy, target)
        return
    shared.mkdir(mode=0o700, exist_ok=True)
    partial = shared / f".{name}.{threading.get_ident()}"
    try:
        shutil.copyfile(source, partial)
        partial.chmod(0o644)
        os.link(partial, target)  # held before it is listed, so no pruning can take it first
        os.replace(partial, copy)  # another thread's copy of the same file may land first: same bytes
    finally:
        partial.unlink(missing_ok=True)
    _prune(shared, KEEP_UNUSED_BYTES)


def _prune(shared: Path, keep_bytes: int) -> None:
    """Remove the least recently used copies no kernel holds (one link: the cache's) past `keep_bytes`."""
    unused = []
    for entry in os.scandir(shared):
        found = entry.stat(follow_symlinks=False)
        if found.st_nlink == 1 and not entry.name.startswith("."):
            unused.append((found.st_mtime_ns, found.st_size, entry.path))
    unused.sort(reverse=True)
    kept = 0
    for _used, size, path in unused:
        kept += size
        if kept > keep_bytes:
            Path(path).unlink(missing_ok=True)
