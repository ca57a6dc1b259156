"""The shape fitting behind `tools.Geometry`: the axes of an oriented bounding box (PCA, or upright:
+Y kept vertical and only the horizontal axes fitted) and one dominant plane (RANSAC over point triples,
refined by least squares on its inliers, its normal turned to point up). Plain numpy; inputs are finite
(N, 3) world points in metres.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["UP", "box_axes", "fit_plane"]

Array = npt.NDArray[np.float64]
UP = np.array([0.0, 1.0, 0.0])
"""The world's up direction (+Y)."""


def box_axes(cloud: Array, *, upright: bool) -> Array:
    """(3, 3) right-handed unit axes as rows for a box around `cloud` (at least 3 points)."""
    return _upright_axes(cloud) if upright else _pca_axes(cloud)


def fit_plane(
    cloud: Array, iterations: int, threshold: float, rng: np.random.Generator
) -> tuple[Array, float]:
    """(unit normal, offset) of the dominant plane `normal @ p + offset = 0` through `cloud`.

    Raises:
        ValueError: every sampled triple was collinear.
    """
    normal, offset = _ransac(cloud, iterations, threshold, rng)
    return _refine(cloud, normal, offset, threshold)


def _pca_axes(cloud: Array) -> Array:
    centred = cloud - cloud.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return _right_handed(vt)


def _upright_axes(cloud: Array) -> Array:
    flat = cloud[:, [0, 2]] - cloud[:, [0, 2]].mean(axis=0)
    _, _, vt = np.linalg.svd(flat, full_matrices=False)
    first = np.array([vt[0, 0], 0.0, vt[0, 1]])
    return _right_handed(np.stack([first, UP, np.cross(first, UP)]))


def _right_handed(axes: Array) -> Array:
    fixed = np.array(axes, dtype=np.float64)
    fixed[2] = np.cross(fixed[0], fixed[1])
    return fixed


def _plane_through(sample: Array) -> tuple[Array, float] | None:
    normal = np.cross(sample[1] - sample[0], sample[2] - sample[0])
    norm = float(np.linalg.norm(normal))
    if norm < 1e-12:
        return None
    normal = normal / norm
    return normal, -float(normal @ sample[0])


def _ransac(cloud: Array, iterations: int, threshold: float, rng: np.random.Generator) -> tuple[Array, float]:
    best: tuple[int, Array, float] | None = None
    for _ in range(max(1, iterations)):
        plane = _plane_through(cloud[rng.choice(cloud.shape[0], size=3, replace=False)])
        if plane is None:
            continue
        count = int((np.abs(cloud @ plane[0] + plane[1]) <= threshold).sum())
        if best is None or count > best[0]:
            best = (count, plane[0], plane[1])
    if best is None:
        raise ValueError("fit_plane found no plane: the points are collinear")
    return best[1], best[2]


def _refine(cloud: Array, normal: Array, offset: float, threshold: float) -> tuple[Array, float]:
    inliers = cloud[np.abs(cloud @ normal + offset) <= threshold]
    if inliers.shape[0] >= 3:
        centre = inliers.mean(axis=0)
        _, _, vt = np.linalg.svd(inliers - centre, full_matrices=False)
        normal, offset = vt[2], -float(vt[2] @ centre)
    return _oriented(normal, offset)


def _oriented(normal: Array, offset: float) -> tuple[Array, float]:
    pivot: Any = normal[1] if abs(float(normal[1])) > 1e-9 else normal[np.argmax(np.abs(normal))]
    if float(pivot) < 0:
        return -normal, -offset
    return normal, offset
