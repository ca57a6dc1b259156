"""The exact geometry the synthetic questions' answers are computed from: points sampled about 1 cm apart
over every part of an object (boxes, spheres, cylinders with their caps) and the distance between two
objects' closest surface points."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from synthscene.scene import Part, SceneObject

__all__ = ["closest_distance", "surface_points"]

F64 = npt.NDArray[np.float64]


def _grid(n_a: float, n_b: float, spacing: float) -> tuple[F64, F64]:
    a = np.linspace(-0.5, 0.5, max(int(n_a / spacing) + 1, 2))
    b = np.linspace(-0.5, 0.5, max(int(n_b / spacing) + 1, 2))
    aa, bb = np.meshgrid(a, b)
    return aa.ravel(), bb.ravel()


def _box_surface(part: Part, spacing: float) -> F64:
    size = np.array(part.size)
    faces = []
    for axis in range(3):
        u, v = [i for i in range(3) if i != axis]
        a, b = _grid(size[u], size[v], spacing)
        for side in (-0.5, 0.5):
            face = np.zeros((a.size, 3))
            face[:, axis], face[:, u], face[:, v] = side, a, b
            faces.append(face * size)
    c, s = math.cos(part.yaw), math.sin(part.yaw)
    rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return np.asarray(np.concatenate(faces) @ rot.T + np.array(part.center), dtype=np.float64)


def _round_surface(part: Part, spacing: float) -> F64:
    r = part.size[0]
    if part.kind == "sphere":
        n = max(int(4 * math.pi * r * r / spacing**2), 50)
        k = np.arange(n) + 0.5
        phi, theta = np.arccos(1 - 2 * k / n), math.pi * (1 + 5**0.5) * k
        unit = np.stack([np.cos(theta) * np.sin(phi), np.cos(phi), np.sin(theta) * np.sin(phi)], axis=1)
        return np.asarray(unit * r + np.array(part.center), dtype=np.float64)
    h = part.size[1]
    ang = np.linspace(0, 2 * math.pi, max(int(2 * math.pi * r / spacing), 12), endpoint=False)
    ys = np.linspace(-h / 2, h / 2, max(int(h / spacing) + 1, 2))
    ring = np.stack([np.cos(ang) * r, np.zeros_like(ang), np.sin(ang) * r], axis=1)
    side = (ring[None] + ys[:, None, None] * np.array([0.0, 1.0, 0.0])).reshape(-1, 3)
    radii = np.linspace(0, r, max(int(r / spacing) + 1, 2))
    disc = (radii[:, None, None] * (ring / r)[None]).reshape(-1, 3)
    caps = [disc + np.array([0.0, y, 0.0]) for y in (-h / 2, h / 2)]
    return np.asarray(np.concatenate([side, *caps]) + np.array(part.center), dtype=np.float64)


def surface_points(obj: SceneObject, spacing: float = 0.01) -> F64:
    """Points on the whole surface of `obj`, about `spacing` metres apart."""
    return np.concatenate(
        [_box_surface(p, spacing) if p.kind == "box" else _round_surface(p, spacing) for p in obj.parts]
    )


def closest_distance(a: SceneObject, b: SceneObject) -> float:
    """Distance between the closest surface points of two objects (±1 cm)."""
    pa, pb = surface_points(a), surface_points(b)
    dist, _ = cKDTree(pb).query(pa, k=1)
    return float(dist.min())
