"""Helpers shared by the model backends (`sam3`, `da3`): locating local weights from config, running
blocking model code off the event loop one batch at a time, linking per-frame instances into tracks, and
turning multi-view geometry into claw's gravity-aligned world frame (floor plane fitted by RANSAC).
No torch here, so all of it is testable without the GPU extra.

Nothing here downloads anything: weights come only from the local paths in `perception.weights`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, TypeVar

import anyio
import numpy as np
import numpy.typing as npt

from claw.config import PerceptionConfig
from claw.errors import ConfigError
from claw.wire.perception import NDArray, ReconstructResponse

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
    *,
    fit_floor: bool = True,
) -> ReconstructResponse:
    """Model-resolution multi-view geometry -> claw's conventions at the input resolution.

    Gravity comes from the floor: RANSAC (seeded, on a sample of confident points) finds the plane with
    the most inliers among those whose normal is within 45 degrees of camera 0's up and that have few
    points below them (a floor, not a wall, ceiling or table top). The world is turned so that normal,
    pointing towards camera 0, is +Y, turned about Y so camera 0 looks along -Z, and shifted so the
    floor is at Y = 0. When no plane has enough inliers (no floor in view) it falls back to assuming
    camera 0 is level: its frame turned to +Y up / -Z forward, the ground (5th percentile of confident
    heights) at Y = 0.

    Args:
        depth: (N, h, w) planar depth at the model's resolution.
        confidence: (N, h, w) in 0..1.
        intrinsics: (N, 3, 3) K at the model's resolution.
        w2c: (N, 3|4, 4) world-to-camera poses in the model's world frame (OpenCV axes).
        size: (H, W) of the input frames.
        fit_floor: False skips the floor fit and always assumes camera 0 is level.

    Returns:
        The wire response: depth, world points, confidence, K and camera-to-world poses at (H, W).
    """
    h, w = size
    scale = np.array([w / depth.shape[2], h / depth.shape[1], 1.0])
    k_input = intrinsics * scale[None, :, None]
    c2w = _poses_4x4(w2c)
    c2w = _FLIP_YZ @ np.linalg.inv(c2w[0]) @ c2w
    floor = _fit_floor(_sample_points(depth, confidence, intrinsics, c2w)) if fit_floor else None
    if floor is not None:
        c2w = _floor_frame(floor, c2w[0, :3, 2]) @ c2w
    depth_in, conf_in = _resize_nearest(depth, h, w), _resize_nearest(confidence, h, w)
    points = _back_project(depth_in, k_input, c2w)
    if floor is None:
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


class _Plane(NamedTuple):
    """The points p with normal . p + offset = 0; the normal is unit length and offset > 0 (camera 0,
    at the origin, is on the normal's side)."""

    normal: npt.NDArray[np.float64]
    offset: float


# The floor normal is within 45 degrees of camera 0's up: footage looking down at a table is often
# pitched 35-40 degrees, and walls (90 degrees) stay well outside.
_FLOOR_COS = float(np.cos(np.radians(45.0)))
_NORMAL_COS = float(np.cos(np.radians(25.0)))  # an inlier's own surface normal agrees with the plane's
_SAMPLE = 8_000  # confident points the plane is fitted to (scoring cost grows with it)
_ITERATIONS = 512  # RANSAC hypotheses, all scored at once (only the roughly horizontal ones)
_INLIER_DISTANCE = 0.015  # as a fraction of the sample's median distance from camera 0 (scale-free)
_MIN_INLIERS = 0.05  # fraction of the sample a floor must hold
_MAX_BELOW = _MIN_INLIERS  # a plane with a floor's worth of points (2 tolerances) below it is no floor
_SEED = 42


class _Sample(NamedTuple):
    """Confident world points (camera-0 level frame) with each one's local surface normal."""

    points: npt.NDArray[np.float64]
    normals: npt.NDArray[np.float64]


def _sample_points(
    depth: npt.NDArray[np.float32],
    confidence: npt.NDArray[np.float32],
    k: npt.NDArray[np.float64],
    c2w: npt.NDArray[np.float64],
) -> _Sample:
    """About _SAMPLE points, strided over all views, of at least median confidence; normals from the
    points a few pixels right of and below each (left of / above at the image border)."""
    h, w = depth.shape[1:]
    step = max(1, depth.size // (2 * _SAMPLE))
    flat = np.arange(0, depth.size, step)
    conf = confidence.reshape(-1)[flat]
    i, v, u = np.unravel_index(flat[conf >= np.median(conf)], depth.shape)
    gap = max(2, min(h, w) // 20)
    centre = _lift(depth, k, c2w, i, v, u)
    right = _lift(depth, k, c2w, i, v, np.where(u + gap < w, u + gap, u - gap))
    down = _lift(depth, k, c2w, i, np.where(v + gap < h, v + gap, v - gap), u)
    normals = np.cross(right - centre, down - centre)
    length = np.linalg.norm(normals, axis=1)
    ok = np.isfinite(length) & (length > 0)
    return _Sample(centre[ok], normals[ok] / length[ok, None])


def _lift(
    depth: npt.NDArray[np.float32],
    k: npt.NDArray[np.float64],
    c2w: npt.NDArray[np.float64],
    i: npt.NDArray[np.intp],
    v: npt.NDArray[np.intp],
    u: npt.NDArray[np.intp],
) -> npt.NDArray[np.float64]:
    """World points of pixels (view i, row v, column u); NaN where the depth is not positive."""
    z = depth[i, v, u].astype(np.float64)
    z = np.where(z > 0, z, np.nan)
    ki = k[i]
    cam = np.stack([(u - ki[:, 0, 2]) / ki[:, 0, 0] * z, (v - ki[:, 1, 2]) / ki[:, 1, 1] * z, z], axis=1)
    return np.asarray(np.einsum("nij,nj->ni", c2w[i, :3, :3], cam) + c2w[i, :3, 3], dtype=np.float64)


def _fit_floor(sample: _Sample) -> _Plane | None:
    """The floor plane among the sampled points (+Y is camera 0's up), or None."""
    if len(sample.points) < 3:
        return None
    tolerance = _INLIER_DISTANCE * float(np.median(np.linalg.norm(sample.points, axis=1)))
    normals, offsets = _hypotheses(sample, np.random.default_rng(_SEED))
    scores = _floor_scores(sample, normals, offsets, tolerance)
    if not scores.size or scores.max() < max(50, _MIN_INLIERS * len(sample.points)):
        return None
    best = int(np.argmax(scores))
    plane: _Plane | None = _Plane(normals[best], float(offsets[best]))
    for shrink in (2.0, 2.0, 1.0, 0.5, 0.25):  # wide first (a hypothesis is rough), then tighter
        plane = _refit(sample, plane, tolerance * shrink) if plane is not None else None
    return plane


def _hypotheses(
    sample: _Sample, rng: np.random.Generator
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Planes through random points along their own normals, oriented towards the origin, kept if
    roughly horizontal: every surface gets hypotheses in proportion to its area."""
    pick = rng.integers(0, len(sample.points), _ITERATIONS)
    normals = sample.normals[pick]
    offsets = -np.einsum("ni,ni->n", normals, sample.points[pick])
    sign = np.where(offsets < 0, -1.0, 1.0)
    normals, offsets = normals * sign[:, None], offsets * sign
    level = normals[:, 1] >= _FLOOR_COS
    return normals[level], offsets[level]


def _inliers(
    sample: _Sample, normals: npt.NDArray[np.float64], offsets: npt.NDArray[np.float64], tolerance: float
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """Signed distances (points x planes) and which points are inliers: near the plane and facing
    the same way (a slanted plane slicing through a table top or a wall gains nothing)."""
    signed = sample.points.astype(np.float32) @ normals.T.astype(np.float32) + offsets.astype(np.float32)
    facing = np.abs(sample.normals.astype(np.float32) @ normals.T.astype(np.float32)) >= _NORMAL_COS
    return signed, (np.abs(signed) <= tolerance) & facing


def _floor_scores(
    sample: _Sample,
    normals: npt.NDArray[np.float64],
    offsets: npt.NDArray[np.float64],
    tolerance: float,
) -> npt.NDArray[np.int64]:
    """Inlier count per plane; 0 for planes with more than _MAX_BELOW of the points well beneath them."""
    signed, inliers = _inliers(sample, normals, offsets, tolerance)
    below = np.count_nonzero(signed < -2 * tolerance, axis=0)
    counts = np.count_nonzero(inliers, axis=0)
    return np.where(below <= _MAX_BELOW * len(signed), counts, 0).astype(np.int64)


def _refit(sample: _Sample, plane: _Plane, tolerance: float) -> _Plane | None:
    """Least-squares plane through `plane`'s inliers; None if it stops looking like a floor."""
    keep = _inliers(sample, plane.normal[None], np.array([plane.offset]), tolerance)[1][:, 0]
    inliers = sample.points[keep]
    if len(inliers) < 3:
        return None
    centre = inliers.mean(axis=0)
    normal = np.linalg.svd(inliers - centre, full_matrices=False)[2][2]
    normal = normal if normal @ plane.normal >= 0 else -normal
    offset = -float(np.median(inliers @ normal))  # the median: clutter lying on the floor is all above it
    return _Plane(normal, offset) if normal[1] >= _FLOOR_COS and offset > 0 else None


def _floor_frame(floor: _Plane, forward: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """4x4 transform taking the floor's normal to +Y, camera 0's `forward` (projected) to -Z, the floor
    to Y = 0."""
    up = floor.normal
    along = forward - (forward @ up) * up  # not zero: forward is at least 45 degrees from the floor normal
    z = -along / np.linalg.norm(along)
    out = np.eye(4)
    out[:3, :3] = np.stack([np.cross(up, z), up, z])
    out[1, 3] = floor.offset
    return out


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
