"""The sample's media inside a confined kernel: the kernel's filesystem holds none of the host's files, so
at checkout every frame of the episode is staged into the kernel's exchange directory (a hard link when the
file is on the same filesystem and readable by others, else a copy), and the setup the kernel reads names
the frames by their path inside the kernel. Only the sample's own frames are there, read-only.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import msgspec
import structlog

from claw.suite import Frame, Video
from claw.wire.kernel import KernelSetup

__all__ = ["stage_media"]

_log = structlog.get_logger("claw.sandbox")


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
        _link_or_copy(source, media / name)
    except OSError:
        name = stem + ".missing"
    return msgspec.structs.replace(frame, path=f"{inner_exchange}/media/{name}")


class _Warned:
    copies = False


def _link_or_copy(source: Path, target: Path) -> None:
    # Never write through a name already there: it may be a link to another sample's original file.
    target.unlink(missing_ok=True)
    if source.stat().st_mode & stat.S_IROTH:
        try:
            os.link(source, target)
            return
        except OSError as exc:  # another filesystem, or a link the host does not allow: copy instead
            if not _Warned.copies:
                _Warned.copies = True
                _log.warning(
                    "frames are copied into each kernel, not linked; put the temp folder (TMPDIR) on the "
                    "same filesystem as the data to make checkout cheap",
                    error=str(exc),
                )
    shutil.copyfile(source, target)
    target.chmod(0o644)
