"""The episode's inputs as the kernel binds them: `InputImages` (a `FrameList` of lazily decoded
`FrameImage`s, one list per video when there are several) and `Metadata` (a `MetadataInfo`), built from
the episode's `KernelSetup`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, SupportsIndex, overload

import numpy as np
import numpy.typing as npt

from claw.suite import Video
from claw.wire.kernel import KernelSetup

__all__ = [
    "FRAME_CACHE_FRAMES",
    "FrameImage",
    "FrameList",
    "MetadataInfo",
    "VideoInfo",
    "frame_names",
    "metadata_of",
]


FRAME_CACHE_FRAMES = 64
"""Decoded frames kept in memory per kernel (most recently used): a video can put thousands of frames in
`InputImages`, and a loop over all of them must not hold every one (64 frames at 768×576 ≈ 85 MB)."""


@dataclass(eq=False)
class FrameImage:
    """One input frame (what `InputImages[i]` is). Pixels load from disk on first use of `.array`; the
    kernel keeps the 64 most recently used frames decoded, so a loop over every frame of a long video
    stays within memory. Any tool taking frames accepts a FrameImage, and `np.asarray(frame)` gives its
    pixels. Frames have the size the run prepared them at (at most 768 px on the long side in the
    published setup); masks and point maps of a frame have the same size.

    Attributes:
        path: image file the frame is read from.
        index: absolute frame index in its video.
        timestamp_s: seconds from the start of the video (None for image sets).
        video: name of the video the frame belongs to.
    """

    path: str
    index: int
    timestamp_s: float | None = None
    video: str = ""

    @property
    def array(self) -> npt.NDArray[np.uint8]:
        """(H, W, 3) uint8 RGB pixels (decoded on first use, then cached while recently used)."""
        return _cached_rgb(self.path)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels (read from the file header; nothing is decoded)."""
        from PIL import Image

        try:
            with Image.open(self.path) as image:
                width, height = image.size
        except OSError as exc:
            raise OSError(f"frame file {self.path} cannot be read inside the sandbox: {exc}") from None
        return (int(width), int(height))

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> npt.NDArray[Any]:
        return self.array if dtype is None else self.array.astype(dtype)

    def __repr__(self) -> str:
        when = f", t={self.timestamp_s:.2f}s" if self.timestamp_s is not None else ""
        return f"FrameImage(index={self.index}{when}, video={self.video!r})"


@functools.lru_cache(maxsize=FRAME_CACHE_FRAMES)
def _cached_rgb(path: str) -> npt.NDArray[np.uint8]:
    return _load_rgb(path)


def _load_rgb(path: str) -> npt.NDArray[np.uint8]:
    from PIL import Image

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except OSError as exc:
        raise OSError(f"frame file {path} cannot be read inside the sandbox: {exc}") from None


class FrameList(list[FrameImage]):
    """The input frames: a list of `FrameImage` in time order (slicing gives a FrameList again).

    `InputImages[i]` is LIST POSITION i; `InputImages[i].index` is the frame's ABSOLUTE frame number in
    its video, the key every per-frame result (`recon.depth[fi]`, `seg.masks[fi]`) uses. A video
    sampled at every frame has index == position; one sampled at 1 fps has index = position x fps. For an
    image set, index is the image's number (0, 1, 2, ...). A long video can hold thousands of frames:
    subsample (`InputImages[::k]`) before passing frames to a tool.
    """

    @overload
    def __getitem__(self, item: SupportsIndex) -> FrameImage: ...
    @overload
    def __getitem__(self, item: slice) -> FrameList: ...
    def __getitem__(self, item: SupportsIndex | slice) -> FrameImage | FrameList:
        if isinstance(item, slice):
            return FrameList(super().__getitem__(item))
        return super().__getitem__(item)

    @property
    def frame_indices(self) -> list[int]:
        """Absolute frame indices, in order."""
        return [frame.index for frame in self]

    def __repr__(self) -> str:
        if not self:
            return "FrameList([])"
        return f"FrameList({len(self)} frames, indices {self[0].index}..{self[-1].index})"


@dataclass(frozen=True)
class VideoInfo:
    """One input video (or image set) as `Metadata.videos` lists it.

    Attributes:
        name: the video's name in the dataset.
        num_frames: frames held in the kernel (its `InputImages` list).
        fps: native frames per second (None for an image set).
        total_frames: frames in the source video before sampling (None for an image set).
        duration_s: length in seconds (None for an image set).
    """

    name: str
    num_frames: int
    fps: float | None
    total_frames: int | None
    duration_s: float | None


@dataclass(frozen=True)
class MetadataInfo:
    """Facts about the inputs: `Metadata` in the kernel.

    Attributes:
        is_video: whether the inputs come from a video (timestamps known).
        fps: native fps of the (first) video, None for image sets.
        duration_s: duration of the (first) video in seconds.
        total_frames: frames of the (first) video before sampling.
        num_images: number of input frames over all videos.
        videos: one `VideoInfo` per video.
        answer_format: letter, number, yes_no or text.
        options: the answer options (option i has letter chr(65 + i)).
        extra: dataset facts (e.g. `extra["scene"]`).
    """

    is_video: bool
    fps: float | None
    duration_s: float | None
    total_frames: int | None
    num_images: int
    videos: tuple[VideoInfo, ...]
    answer_format: str
    options: tuple[str, ...]
    extra: dict[str, Any]


def _frames_of(video: Video) -> FrameList:
    return FrameList(FrameImage(f.path, f.index, f.timestamp_s, video.name) for f in video.frames)


def metadata_of(setup: KernelSetup) -> MetadataInfo:
    """`Metadata` for the episode of `setup`."""
    first = setup.videos[0] if setup.videos else None
    videos = tuple(
        VideoInfo(v.name, len(v.frames), v.fps, v.total_frames, v.duration_s) for v in setup.videos
    )
    return MetadataInfo(
        is_video=any(f.timestamp_s is not None for v in setup.videos for f in v.frames),
        fps=first.fps if first else None,
        duration_s=first.duration_s if first else None,
        total_frames=first.total_frames if first else None,
        num_images=sum(len(v.frames) for v in setup.videos),
        videos=videos,
        answer_format=setup.answer_format,
        options=setup.options,
        extra=dict(setup.metadata),
    )


def frame_names(setup: KernelSetup) -> dict[str, FrameList]:
    """`InputImages` (every frame) and, for several videos, `InputImages_1..N` (one per video)."""
    per_video = [_frames_of(video) for video in setup.videos]
    names = {"InputImages": FrameList(frame for frames in per_video for frame in frames)}
    if len(per_video) > 1:
        names.update({f"InputImages_{i + 1}": frames for i, frames in enumerate(per_video)})
    return names
