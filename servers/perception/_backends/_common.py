"""Helpers shared by the model backends (`sam3`, `da3`): locating local weights from config, running
blocking model code off the event loop one batch at a time, and linking per-frame instances into tracks.
No torch here, so all of it is testable without the GPU extra.

Nothing here downloads anything: weights come only from the local paths in `perception.weights`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import anyio
import numpy as np
import numpy.typing as npt

from claw.config import PerceptionConfig
from claw.errors import ConfigError
from claw.perception_wire import NDArray, ReconstructResponse

__all__ = ["ModelRunner", "claw_world", "link_tracks", "weights_path"]

_T = TypeVar("_T")


def weights_path(config: PerceptionConfig, name: str, *, hint: str) -> Path:
    """The local weights folder for backend `name`, from `config.weights[name]`.

    Raises:
        ConfigError: the setting is missing or the folder does not exist (names `perception.weights.NAME`).
    """
    field = f"perception.weights.{name}"
    raw = config.weights.get(name)
    if not raw:
        raise ConfigError(
            f"the {name} backend needs local weights: set {field} to a folder holding {hint} "
            "(nothing is downloaded at run time)",
            field=field,
        )
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise ConfigError(f"{field} = {raw!r} is not a folder; point it at {hint}", field=field)
    return path


class ModelRunner:
    """Runs blocking model calls in a worker thread, one at a time (one model, one device)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._limiter = anyio.CapacityLimiter(1)

    def __repr__(self) -> str:
        return f"<ModelRunner {self.name} busy={self._limiter.borrowed_tokens}>"

    async def run(self, fn: Callable[[], _T]) -> _T:
        """Call `fn()` in a worker thread once the model is free."""
        return await anyio.to_thread.run_sync(fn, limiter=self._limiter)


def link_tracks(frames: list[npt.NDArray[np.bool_]], *, min_iou: float = 0.1) -> list[list[int]]:
    """Track ids for per-frame instance masks: greedy mask-IoU matching against each track's last mask.

    Args:
        frames: per frame, (K, H, W) bool masks, in time order.
        min_iou: below this overlap an instance starts a new track.

    Returns:
        Per frame, K ids; the same id marks the same object across frames. Ids start at 1.
    """
    last: dict[int, npt.NDArray[np.bool_]] = {}
    out: list[list[int]] = []
    for masks in frames:
        ids = _match(masks, last, min_iou)
        last.update(zip(ids, masks, strict=True))
        out.append(ids)
    return out


def _match(masks: npt.NDArray[np.bool_], last: dict[int, npt.NDArray[np.bool_]], min_iou: float) -> list[int]:
    tracks = list(last)
    pairs = sorted(
        ((_iou(mask, last[t]), k, t) for k, mask in enumerate(masks) for t in tracks),
        reverse=True,
    )
    ids: dict[int, int] = {}
    for iou, k, track in pairs:
        if iou >= min_iou and k not in ids and track not in ids.values():
            ids[k] = track
    next_id = max(tracks, default=0) + 1
    for k in range(len(masks)):
        if k not in ids:
            ids[k], next_id = next_id, next_id + 1
    return [ids[k] for k in range(len(masks))]


def _iou(a: npt.NDArray[np.bool_], b: npt.NDArray[np.bool_]) -> float:
    if a.shape != b.shape:
        return 0.0
    union = int(np.count_nonzero(a | b))
    return int(np.count_nonzero(a & b)) / union if union else 0.0


def _resize_nearest(maps: npt.NDArray[np.float32], h: int, w: int) -> npt.NDArray[np.float32]:
    """(N, h0, w0) -> (N, h, w) by nearest neighbour (pixel centres), one gather."""
    rows = np.minimum((np.arange(h) + 0.5) * maps.shape[1] / h, maps.shape[1] - 1).astype(np.intp)
    cols = np.minimum((np.arange(w) + 0.5) * maps.shape[2] / w, maps.shape[2] - 1).astype(np.intp)
    return maps[:, rows[:, None], cols[None, :]]


def _poses_4x4(w2c: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(N, 3|4, 4) world-to-camera -> (N, 4, 4) camera-to-world."""
    full = np.tile(np.eye(4), (w2c.shape[0], 1, 1))
    full[:, :3, :] = w2c[:, :3, :]
    return np.asarray(np.linalg.inv(full), dtype=np.float64)


_FLIP_YZ = np.diag([1.0, -1.0, -1.0, 1.0])


def claw_world(
    depth: npt.NDArray[np.float32],
    confidence: npt.NDArray[np.float32],
    intrinsics: npt.NDArray[np.float64],
    w2c: npt.NDArray[np.float64],
    size: tuple[int, int],
) -> ReconstructResponse:
    """Model-resolution multi-view geometry -> claw's conventions at the input resolution.

    The world frame is camera 0's, turned to +Y up / -Z forward (camera 0 assumed level), shifted so
    the ground (5th percentile of confident heights) is at Y = 0.

    Args:
        depth: (N, h, w) planar depth at the model's resolution.
        confidence: (N, h, w) in 0..1.
        intrinsics: (N, 3, 3) K at the model's resolution.
        w2c: (N, 3|4, 4) world-to-camera poses in the model's world frame (OpenCV axes).
        size: (H, W) of the input frames.

    Returns:
        The wire response: depth, world points, confidence, K and camera-to-world poses at (H, W).
    """
    h, w = size
    scale = np.array([w / depth.shape[2], h / depth.shape[1], 1.0])
    k_input = intrinsics * scale[None, :, None]
    c2w = _poses_4x4(w2c)
    c2w = _FLIP_YZ @ np.linalg.inv(c2w[0]) @ c2w
    depth_in, conf_in = _resize_nearest(depth, h, w), _resize_nearest(confidence, h, w)
    points = _back_project(depth_in, k_input, c2w)
    ground = _ground_height(points, conf_in)
    c2w[:, 1, 3] -= ground
    points[..., 1] -= ground
    return ReconstructResponse(
        depth=NDArray.from_numpy(depth_in.astype(np.float32, copy=False)),
        points=NDArray.from_numpy(points),
        confidence=NDArray.from_numpy(conf_in.astype(np.float32, copy=False)),
        intrinsics=NDArray.from_numpy(k_input.astype(np.float64)),
        extrinsics=NDArray.from_numpy(c2w),
    )


def _back_project(
    depth: npt.NDArray[np.float32], k: npt.NDArray[np.float64], c2w: npt.NDArray[np.float64]
) -> npt.NDArray[np.float32]:
    n, h, w = depth.shape
    v, u = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.empty((n, h, w, 3), dtype=np.float32)
    for i in range(n):
        x = (u - np.float32(k[i, 0, 2])) / np.float32(k[i, 0, 0]) * depth[i]
        y = (v - np.float32(k[i, 1, 2])) / np.float32(k[i, 1, 1]) * depth[i]
        rot, pos = c2w[i, :3, :3].astype(np.float32), c2w[i, :3, 3].astype(np.float32)
        for axis in range(3):
            out[i, ..., axis] = rot[axis, 0] * x + rot[axis, 1] * y + rot[axis, 2] * depth[i] + pos[axis]
    return out


def _ground_height(points: npt.NDArray[np.float32], confidence: npt.NDArray[np.float32]) -> float:
    # Quantiles over a strided sample: exact enough for a ground offset, and a full sort of every pixel
    # cost as much as the model's forward pass.
    step = max(1, confidence.size // 200_000)
    conf = confidence.reshape(-1)[::step]
    heights = points[..., 1].reshape(-1)[::step][conf >= np.median(conf)]
    return float(np.percentile(heights, 5)) if heights.size else 0.0
