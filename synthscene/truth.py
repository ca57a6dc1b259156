"""The ground truth a rendered frame leaves behind for the synthetic perception backend: planar depth,
instance ids and the camera (K, camera-to-world) of one frame of one scene, kept as one `.npz` file per
frame (plain arrays, read with `allow_pickle=False`) in a folder of its own, named by scene key, frame
index and size. The synthetic suite writes them when it renders a sample; the backend reads them instead
of ray-casting the same view again, and renders only the frames it finds no file for. The folder is the
perception server's alone: kernels see only the frames staged for them, never this folder.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import msgspec
import numpy as np
import numpy.typing as npt

from synthscene.render import Frame

__all__ = ["FrameTruth", "read_truth", "truth_of", "truth_path", "write_truth"]

_ARRAYS = ("depth", "ids", "K", "c2w")
_LEVEL = 1
"""Deflate level: depth compresses to about a third at level 1, and higher levels gain almost nothing
for several times the CPU."""


class FrameTruth(msgspec.Struct, frozen=True, kw_only=True):
    """What the backend needs of one rendered view (a `Frame` without its RGB and normals)."""

    depth: npt.NDArray[np.float32]
    ids: npt.NDArray[np.int32]
    K: npt.NDArray[np.float64]
    c2w: npt.NDArray[np.float64]


def truth_of(frame: Frame | FrameTruth) -> FrameTruth:
    """The ground-truth part of a rendered frame."""
    return FrameTruth(depth=frame.depth, ids=frame.ids, K=frame.K, c2w=frame.c2w)


def truth_path(folder: Path, scene: str, frame_index: int, width: int, height: int) -> Path:
    """Where the truth of frame `frame_index` of `scene`, rendered at width x height, is kept."""
    return folder / f"{scene}-frame{frame_index:04d}-{width}x{height}.npz"


def write_truth(folder: Path, scene: str, frame_index: int, frame: Frame) -> None:
    """Keep `frame`'s truth in `folder` (owner-only), unless it is already there (rendering is
    deterministic, so it would be the same). Written under a temporary name and renamed, so a reader
    never sees half a file."""
    height, width = frame.depth.shape
    path = truth_path(folder, scene, frame_index, width, height)
    if path.exists():
        return
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=_LEVEL) as archive:
        for name, array in zip(_ARRAYS, _arrays(frame), strict=True):
            with archive.open(f"{name}.npy", "w") as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    partial = path.with_name(f"{path.name}.partial")
    partial.write_bytes(buffer.getvalue())
    partial.replace(path)


def read_truth(folder: Path, scene: str, frame_index: int, width: int, height: int) -> FrameTruth | None:
    """The truth kept for that frame at that size, or None when there is no such file.

    Raises:
        ValueError: the file is there but is not a truth file of that size (damaged or foreign).
    """
    path = truth_path(folder, scene, frame_index, width, height)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            depth, ids, K, c2w = (archive[name] for name in _ARRAYS)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a readable ground-truth file ({exc})") from None
    if depth.shape != (height, width) or ids.shape != (height, width) or K.shape != (3, 3):
        raise ValueError(f"{path} holds arrays of the wrong shape for a {width}x{height} frame")
    return FrameTruth(
        depth=depth.astype(np.float32, copy=False),
        ids=ids.astype(np.int32),
        K=K.astype(np.float64, copy=False),
        c2w=c2w.astype(np.float64, copy=False),
    )


def _arrays(frame: Frame) -> tuple[npt.NDArray[np.generic], ...]:
    # Instance ids are 0..253, so one byte each.
    return (frame.depth, frame.ids.astype(np.uint8), frame.K, frame.c2w)
