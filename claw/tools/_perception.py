"""The two perception tools a cell calls, `Reconstruct` and `SAM3`, and the records they return.

Each call sends one request to the perception server through `claw.tools._client` (which connects on
first use) and wraps the answer in a frozen dataclass whose per-frame fields are `FrameMap`s keyed by
ABSOLUTE frame index, so `recon.depth[fi]` and `seg.masks[fi]` line up with `InputImages` and each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from claw.errors import PerceptionError
from claw.tools import _client
from claw.tools._frames import FrameMap, collect_frames
from claw.wire.perception import (
    NDArray,
    ReconstructRequest,
    ReconstructResponse,
    SegmentRequest,
    SegmentResponse,
)

__all__ = ["MAX_RECONSTRUCT_FRAMES", "SAM3", "Reconstruct", "Reconstruction", "Segmentation"]

MAX_RECONSTRUCT_FRAMES = 64
MAX_SEGMENT_FRAMES = 256

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Reconstruction:
    """Depth, cameras and world points for a set of frames, all keyed by absolute frame index.

    Every map has the resolution of its input frame and is pixel-aligned with it: `points[fi][y, x]` is
    the world point seen at pixel (x, y) of that frame, so a SAM3 mask of the same frame selects its
    points directly. A frame that was not reconstructed raises KeyError naming the valid ones; loop over
    `frame_indices` (iterating a map gives frame indices, like a dict).

    Attributes:
        frame_indices: the reconstructed frames, in input order.
        depth: `depth[fi]` is (H, W) float32 planar depth (camera z) in metres.
        points: `points[fi]` is (H, W, 3) float32 world XYZ in metres (+Y up, ground at Y = 0).
        confidence: `confidence[fi]` is (H, W) float32 in 0..1; low where depth is unreliable (sky, glass,
            far background, object borders); drop points below about 0.3 before measuring.
        intrinsics: `intrinsics[fi]` is the (3, 3) pinhole K at the frame's resolution.
        extrinsics: `extrinsics[fi]` is the (4, 4) camera-to-world pose (OpenCV axes: +x right, +y down,
            +z forward); its last column is the camera position.
    """

    frame_indices: list[int]
    depth: FrameMap[FloatArray]
    points: FrameMap[FloatArray]
    confidence: FrameMap[FloatArray]
    intrinsics: FrameMap[npt.NDArray[np.float64]]
    extrinsics: FrameMap[npt.NDArray[np.float64]]


@dataclass(frozen=True)
class Segmentation:
    """Instance masks per frame, keyed by absolute frame index; K = 0 when nothing was found.

    Attributes:
        frame_indices: the segmented frames, in input order.
        masks: `masks[fi]` is (K, H, W) bool, one mask per instance.
        scores: `scores[fi]` is (K,) float32 detection scores.
        boxes: `boxes[fi]` is (K, 4) float32 pixel boxes x1, y1, x2, y2.
        object_ids: `object_ids[fi]` is (K,) int64 track ids, the same id for the same object in every frame.
    """

    frame_indices: list[int]
    masks: FrameMap[npt.NDArray[np.bool_]]
    scores: FrameMap[FloatArray]
    boxes: FrameMap[FloatArray]
    object_ids: FrameMap[npt.NDArray[np.int64]]

    def count(self, frame_index: int) -> int:
        """Number of instances found in frame `frame_index`.

        Raises:
            KeyError: the frame was not segmented (the message lists valid indices).
        """
        return int(self.masks[frame_index].shape[0])

    def mask(self, frame_index: int, k: int = 0) -> npt.NDArray[np.bool_]:
        """(H, W) bool mask of instance `k` in frame `frame_index`.

        Raises:
            KeyError: the frame was not segmented.
            IndexError: there is no instance `k` in that frame (check `count(fi)` first).
        """
        masks = self.masks[frame_index]
        if not -masks.shape[0] <= k < masks.shape[0]:
            raise IndexError(f"frame {frame_index} has {masks.shape[0]} instance(s); no instance k={k}")
        return np.asarray(masks[k], dtype=np.bool_)

    def union(self, frame_index: int) -> npt.NDArray[np.bool_]:
        """(H, W) bool union of every instance in frame `frame_index` (all False when K = 0).

        Raises:
            KeyError: the frame was not segmented.
        """
        masks = self.masks[frame_index]
        union: npt.NDArray[np.bool_] = np.asarray(masks.any(axis=0), dtype=np.bool_)
        return union


def Reconstruct(frames: object) -> Reconstruction:
    """Estimate metric depth, cameras and world points for frames of ONE video (or image set).

    Args:
        frames: a FrameImage, a list of them, or `InputImages` (at most 64; 8-32 spread over the video
            works best, e.g. `InputImages[::4]`). All frames must have the same size.

    Returns:
        Reconstruction keyed by absolute frame index: `depth[fi]`, `points[fi]`, `confidence[fi]`,
        `intrinsics[fi]`, `extrinsics[fi]` (camera-to-world). World frame: metres, +Y up, ground at Y = 0.

    Raises:
        ValueError: no frames, too many frames, or frames of different sizes.
        PerceptionUnavailable: the perception server cannot be reached.
        PerceptionError: the server failed to reconstruct these frames.
    """
    images, indices = collect_frames(frames, limit=MAX_RECONSTRUCT_FRAMES, tool="Reconstruct")
    _check_same_size(images)
    request = ReconstructRequest(
        images=[NDArray.from_numpy(im) for im in images],
        frame_indices=indices,
        scene=_client.current_settings().scene,
    )
    return _reconstruction(indices, _client.post("/v1/reconstruct", request, ReconstructResponse))


def _check_same_size(images: Sequence[npt.NDArray[np.uint8]]) -> None:
    sizes = {im.shape[:2] for im in images}
    if len(sizes) > 1:
        raise ValueError(
            f"Reconstruct needs frames of one size, got sizes {sorted(sizes)}; "
            "reconstruct each video separately"
        )


def _reconstruction(indices: list[int], response: ReconstructResponse) -> Reconstruction:
    def per_frame(name: str, wire: NDArray, dtype: type[np.generic]) -> FrameMap[npt.NDArray[Any]]:
        stacked: npt.NDArray[Any] = np.array(wire.to_numpy(), dtype=dtype)
        if stacked.ndim == 0 or stacked.shape[0] != len(indices):
            raise PerceptionError(f"the perception server sent {name} for the wrong number of frames")
        return FrameMap(f"Reconstruction.{name}", indices, list(stacked))

    return Reconstruction(
        frame_indices=list(indices),
        depth=per_frame("depth", response.depth, np.float32),
        points=per_frame("points", response.points, np.float32),
        confidence=per_frame("confidence", response.confidence, np.float32),
        intrinsics=per_frame("intrinsics", response.intrinsics, np.float64),
        extrinsics=per_frame("extrinsics", response.extrinsics, np.float64),
    )


def SAM3(
    frames: object,
    text: str | None = None,
    points: Sequence[Sequence[float]] | None = None,
    boxes: Sequence[Sequence[float]] | None = None,
    threshold: float = 0.3,
    point_labels: Sequence[int] | None = None,
) -> Segmentation:
    """Find every instance of an object in frames, prompted by text, pixel points or pixel boxes.

    Give exactly one prompt. Text finds every instance of the phrase in every frame; points and boxes
    are pixels on the FIRST frame and select the object(s) under them; with several frames the objects
    are tracked, so `object_ids` name the same object in every frame. Finding nothing is not an error:
    `seg.count(fi)` is 0 (then try a simpler or different phrase, other frames, or ground the object with
    the vision model and prompt with its point). Masks have each frame's own resolution. At most 256
    frames per call.

    Args:
        frames: a FrameImage, a list of them, or `InputImages`.
        text: a short noun phrase, e.g. "chair" or "red mug".
        points: [[x, y], ...] pixel clicks on the object (foreground unless `point_labels` says 0).
        boxes: [[x1, y1, x2, y2], ...] pixel boxes around objects.
        threshold: minimum detection score kept (0..1).
        point_labels: 1 (foreground) or 0 (background) per point; default all 1.

    Returns:
        Segmentation keyed by absolute frame index: `masks[fi]` (K, H, W) bool, `scores[fi]`, `boxes[fi]`,
        `object_ids[fi]`, plus `count(fi)`, `mask(fi, k)` and `union(fi)`.

    Raises:
        ValueError: not exactly one prompt, malformed points/boxes, or a bad threshold.
        PerceptionUnavailable: the perception server cannot be reached.
        PerceptionError: the server failed to segment these frames.
    """
    prompt = _prompt(text, points, boxes, point_labels)
    images, indices = collect_frames(frames, limit=MAX_SEGMENT_FRAMES, tool="SAM3")
    request = SegmentRequest(
        images=[NDArray.from_numpy(im) for im in images],
        frame_indices=indices,
        scene=_client.current_settings().scene,
        threshold=_check_threshold(threshold),
        text=prompt.text,
        points=prompt.points,
        point_labels=prompt.point_labels,
        boxes=prompt.boxes,
    )
    return _segmentation(indices, _client.post("/v1/segment", request, SegmentResponse))


def _check_threshold(threshold: float) -> float:
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    return float(threshold)


@dataclass(frozen=True)
class _Prompt:
    text: str | None = None
    points: list[list[float]] | None = None
    point_labels: list[int] | None = None
    boxes: list[list[float]] | None = None


def _prompt(
    text: str | None,
    points: Sequence[Sequence[float]] | None,
    boxes: Sequence[Sequence[float]] | None,
    point_labels: Sequence[int] | None,
) -> _Prompt:
    given = [
        name for name, value in (("text", text), ("points", points), ("boxes", boxes)) if value is not None
    ]
    if len(given) != 1:
        raise ValueError(f"SAM3 needs exactly one of text=, points=, boxes=; got {given or 'none'}")
    if text is not None:
        if not text.strip():
            raise ValueError("SAM3 text prompt is empty; pass a noun phrase such as text='chair'")
        return _Prompt(text=text.strip())
    if points is not None:
        return _point_prompt(points, point_labels)
    return _Prompt(boxes=_rows(boxes or [], 4, "boxes", "[[x1, y1, x2, y2], ...]"))


def _point_prompt(points: Sequence[Sequence[float]], labels: Sequence[int] | None) -> _Prompt:
    rows = _rows(points, 2, "points", "[[x, y], ...]")
    label_list = [1] * len(rows) if labels is None else [int(v) for v in labels]
    if len(label_list) != len(rows) or any(v not in (0, 1) for v in label_list):
        raise ValueError(f"point_labels must be one 0/1 per point ({len(rows)} points), got {labels}")
    return _Prompt(points=rows, point_labels=label_list)


def _rows(values: Sequence[Sequence[float]], width: int, name: str, shape: str) -> list[list[float]]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1 and array.shape[0] == width:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != width or array.shape[0] == 0:
        raise ValueError(f"{name} must look like {shape}, got shape {array.shape}")
    return [[float(v) for v in row] for row in array]


def _segmentation(indices: list[int], response: SegmentResponse) -> Segmentation:
    n = len(indices)
    if (
        not len(response.masks)
        == len(response.scores)
        == len(response.boxes)
        == len(response.object_ids)
        == n
    ):
        raise PerceptionError(f"the perception server sent a segmentation that does not have {n} frames")

    def per_frame(name: str, arrays: list[npt.NDArray[Any]]) -> FrameMap[npt.NDArray[Any]]:
        return FrameMap(f"Segmentation.{name}", indices, arrays)

    return Segmentation(
        frame_indices=list(indices),
        masks=per_frame("masks", [np.array(m.to_numpy(), dtype=np.bool_) for m in response.masks]),
        scores=per_frame("scores", [np.array(s.to_numpy(), dtype=np.float32) for s in response.scores]),
        boxes=per_frame(
            "boxes", [np.array(b.to_numpy(), dtype=np.float32).reshape(-1, 4) for b in response.boxes]
        ),
        object_ids=per_frame("object_ids", [np.asarray(ids, dtype=np.int64) for ids in response.object_ids]),
    )
