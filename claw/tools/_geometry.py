"""`tools.Geometry`: 3-D helpers over world point clouds from `Reconstruct` (metres, +Y up, cameras
camera-to-world with OpenCV axes), plus the small `OBB` and `Plane` records they return. The fitting
behind `obb` and `fit_plane` (box axes, RANSAC planes) is in `_fitting`.

Everything is plain numpy/scipy running in the kernel; no server is contacted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from claw.tools._fitting import UP, box_axes, fit_plane
from claw.tools._perception import Reconstruction

__all__ = ["OBB", "Geometry", "Plane"]

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class OBB:
    """An oriented bounding box.

    Attributes:
        center: (3,) box centre.
        axes: (3, 3) unit axes as ROWS, matching `extents`.
        extents: (3,) full side lengths in metres, sorted longest first.
    """

    center: Array
    axes: Array
    extents: Array

    @property
    def longest_side(self) -> float:
        """The longest side length in metres."""
        return float(self.extents[0])

    @property
    def volume(self) -> float:
        """Box volume in cubic metres."""
        return float(np.prod(self.extents))


@dataclass(frozen=True)
class Plane:
    """A plane `normal · x + offset = 0` (unit normal, pointing up-ish: normal[1] >= 0).

    Attributes:
        normal: (3,) unit normal.
        offset: signed offset.
        inliers: (N,) bool, which input points lie within the threshold.
    """

    normal: Array
    offset: float
    inliers: npt.NDArray[np.bool_]

    def distance(self, points: npt.ArrayLike) -> Array:
        """Signed distance of each point from the plane (positive on the normal's side)."""
        return np.asarray(_points(points) @ self.normal + self.offset, dtype=np.float64)


def _points(points: npt.ArrayLike) -> Array:
    array = np.asarray(points, dtype=np.float64)
    if array.ndim == 1 and array.shape[0] == 3:
        return array[None, :]
    if array.ndim < 2 or array.shape[-1] != 3:
        raise ValueError(f"expected points shaped (N, 3), got shape {array.shape}")
    return array.reshape(-1, 3)


def _nonempty(points: npt.ArrayLike, what: str) -> Array:
    array = _points(points)
    finite = array[np.isfinite(array).all(axis=1)]
    if finite.shape[0] == 0:
        raise ValueError(f"{what} has no finite points (empty mask, or all below min_confidence?)")
    return finite


def _vector(v: npt.ArrayLike, what: str) -> Array:
    array = np.asarray(v, dtype=np.float64).reshape(-1)
    if array.shape[0] != 3:
        raise ValueError(f"{what} must be a 3-vector, got shape {np.shape(v)}")
    return array


def _horizontal(v: Array) -> Array:
    flat = np.array([v[0], 0.0, v[2]])
    norm = float(np.linalg.norm(flat))
    return flat / norm if norm > 1e-12 else flat


def _direction_words(offset: Array, forward: Array, right: Array) -> str:
    ahead = "front" if float(offset @ forward) >= 0 else "behind"
    side = "right" if float(offset @ right) >= 0 else "left"
    return f"{ahead}-{side}"


class Geometry:
    """3-D geometry on world points (metres, +Y up). All methods are static: `Geometry.centroid(p)`."""

    @staticmethod
    def masked_points(
        recon: Reconstruction, fi: int, mask: npt.ArrayLike, min_confidence: float = 0.0
    ) -> npt.NDArray[np.float32]:
        """World points (K, 3) of frame `fi` under a pixel mask.

        Args:
            recon: the result of `tools.Reconstruct`.
            fi: absolute frame index (must be in `recon.frame_indices`).
            mask: (H, W) bool mask at the frame's resolution, e.g. `seg.mask(fi, k)`.
            min_confidence: drop points whose confidence is below this.

        Raises:
            KeyError: `fi` was not reconstructed.
            ValueError: the mask's shape differs from the frame's.
        """
        points, confidence = recon.points[fi], recon.confidence[fi]
        mask_array = np.asarray(mask, dtype=bool)
        if mask_array.shape != confidence.shape:
            raise ValueError(f"mask shape {mask_array.shape} does not match frame {fi}'s {confidence.shape}")
        keep = mask_array & (confidence >= min_confidence) & np.isfinite(points).all(axis=-1)
        return np.asarray(points[keep], dtype=np.float32)

    @staticmethod
    def centroid(points: npt.ArrayLike) -> Array:
        """Robust centre (3,) of a point cloud: the per-axis median.

        Raises:
            ValueError: no finite points.
        """
        return np.asarray(np.median(_nonempty(points, "centroid input"), axis=0), dtype=np.float64)

    @staticmethod
    def centroid_distance(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
        """Distance in metres between the median centres of two point clouds.

        Raises:
            ValueError: either cloud is empty.
        """
        return float(np.linalg.norm(Geometry.centroid(a) - Geometry.centroid(b)))

    @staticmethod
    def closest_distance(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
        """Smallest distance in metres between any point of `a` and any point of `b` (KD-tree).

        This is the gap between two objects' surfaces; 0 when they touch.

        Raises:
            ValueError: either cloud is empty.
        """
        from scipy.spatial import cKDTree  # imported on first use: it is most of this package's import time

        tree = cKDTree(_nonempty(b, "second cloud"))
        distances, _ = tree.query(_nonempty(a, "first cloud"), k=1)
        return float(np.min(distances))

    @staticmethod
    def obb(points: npt.ArrayLike, upright: bool = False) -> OBB:
        """Oriented bounding box of a point cloud (PCA axes).

        Args:
            points: (N, 3) world points.
            upright: keep one axis vertical (+Y) and orient only the horizontal ones, as for furniture.

        Returns:
            OBB with `extents` (full side lengths) sorted longest first; `obb.longest_side`.

        Raises:
            ValueError: fewer than 3 finite points.
        """
        cloud = _nonempty(points, "obb input")
        if cloud.shape[0] < 3:
            raise ValueError(f"obb needs at least 3 points, got {cloud.shape[0]}")
        axes = box_axes(cloud, upright=upright)
        local = cloud @ axes.T
        low, high = local.min(axis=0), local.max(axis=0)
        extents = high - low
        order = np.argsort(-extents, kind="stable")
        center = ((low + high) / 2.0) @ axes
        return OBB(center=center, axes=axes[order], extents=extents[order])

    @staticmethod
    def fit_plane(
        points: npt.ArrayLike, iterations: int = 200, threshold: float = 0.02, seed: int = 0
    ) -> Plane:
        """Fit one dominant plane with RANSAC, then refine it on the inliers (least squares).

        Args:
            points: (N, 3) points, N >= 3.
            iterations: RANSAC samples to try.
            threshold: inlier distance in metres.
            seed: random seed (same points + seed give the same plane).

        Raises:
            ValueError: fewer than 3 finite points, or all points are collinear.
        """
        cloud = _points(points)
        finite = np.isfinite(cloud).all(axis=1)
        if int(finite.sum()) < 3:
            raise ValueError(f"fit_plane needs at least 3 finite points, got {int(finite.sum())}")
        normal, offset = fit_plane(cloud[finite], iterations, threshold, np.random.default_rng(seed))
        inliers = np.zeros(cloud.shape[0], dtype=bool)
        inliers[finite] = np.abs(cloud[finite] @ normal + offset) <= threshold
        return Plane(normal=normal, offset=offset, inliers=inliers)

    @staticmethod
    def angle_between(v1: npt.ArrayLike, v2: npt.ArrayLike) -> float:
        """Angle between two 3-vectors in degrees (0..180).

        Raises:
            ValueError: a vector has zero length.
        """
        a, b = _vector(v1, "v1"), _vector(v2, "v2")
        norms = float(np.linalg.norm(a) * np.linalg.norm(b))
        if norms == 0.0:
            raise ValueError("angle_between needs two non-zero vectors")
        return math.degrees(math.acos(float(np.clip(a @ b / norms, -1.0, 1.0))))

    @staticmethod
    def camera_position(recon: Reconstruction, fi: int) -> Array:
        """World position (3,) of the camera that took frame `fi`.

        Raises:
            KeyError: `fi` was not reconstructed.
        """
        return np.array(recon.extrinsics[fi][:3, 3], dtype=np.float64)

    @staticmethod
    def relative_direction(recon: Reconstruction, fi: int, target_point: npt.ArrayLike) -> str:
        """Where a world point is as seen from the camera of frame `fi`, on the ground plane.

        Returns:
            "front-left", "front-right", "behind-left" or "behind-right".

        Raises:
            KeyError: `fi` was not reconstructed.
        """
        pose = recon.extrinsics[fi]
        offset = _horizontal(_vector(target_point, "target_point") - pose[:3, 3])
        return _direction_words(offset, _horizontal(pose[:3, 2]), _horizontal(pose[:3, 0]))

    @staticmethod
    def relative_direction_from(observer: npt.ArrayLike, facing: npt.ArrayLike, target: npt.ArrayLike) -> str:
        """Where `target` is for someone standing at `observer` and looking toward the point `facing`.

        All three are world points; heights are ignored (directions on the ground plane).

        Returns:
            "front-left", "front-right", "behind-left" or "behind-right".

        Raises:
            ValueError: `facing` is straight above or below `observer`.
        """
        here = _vector(observer, "observer")
        forward = _horizontal(_vector(facing, "facing") - here)
        if not np.any(forward):
            raise ValueError("facing must differ from observer in X or Z to define a direction")
        right = np.cross(forward, UP)
        return _direction_words(_horizontal(_vector(target, "target") - here), forward, right)

    @staticmethod
    def transform_points(points: npt.ArrayLike, matrix: npt.ArrayLike) -> Array:
        """Apply a (4, 4) rigid/affine transform or a (3, 3) rotation to (..., 3) points.

        Raises:
            ValueError: the matrix is not 3x3 or 4x4, or points are not (..., 3).
        """
        array = np.asarray(points, dtype=np.float64)
        m = np.asarray(matrix, dtype=np.float64)
        if array.shape[-1] != 3:
            raise ValueError(f"points must be shaped (..., 3), got {array.shape}")
        if m.shape == (3, 3):
            return np.asarray(array @ m.T, dtype=np.float64)
        if m.shape == (4, 4):
            return np.asarray(array @ m[:3, :3].T + m[:3, 3], dtype=np.float64)
        raise ValueError(f"matrix must be 3x3 or 4x4, got {m.shape}")

    @staticmethod
    def project(points: npt.ArrayLike, K: npt.ArrayLike, c2w: npt.ArrayLike) -> Array:
        """Pixel coordinates (N, 2) of world points in a camera; points behind it give NaN.

        Args:
            points: (N, 3) world points.
            K: (3, 3) intrinsics, e.g. `recon.intrinsics[fi]`.
            c2w: (4, 4) camera-to-world pose, e.g. `recon.extrinsics[fi]`.
        """
        camera = Geometry.transform_points(_points(points), np.linalg.inv(np.asarray(c2w, dtype=np.float64)))
        pixels = camera @ np.asarray(K, dtype=np.float64).T
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = pixels[:, :2] / pixels[:, 2:3]
        uv[camera[:, 2] <= 0] = np.nan
        return np.asarray(uv, dtype=np.float64)
