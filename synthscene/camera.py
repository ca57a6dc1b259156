"""Pinhole cameras and camera rigs for synthetic scenes.

A `Camera` is a camera-to-world pose (OpenCV axes: +x right, +y down, +z forward) plus a horizontal field
of view; intrinsics follow from the image size, so one camera renders at any resolution. A `Rig` is the
ordered set of cameras a sample shows: one view, a multi-view set around the room, or a video trajectory
whose frame `i` sits at time `i / fps` (absolute frame indices may skip, as when a video is subsampled).
"""

from __future__ import annotations

import math
from typing import Literal

import msgspec
import numpy as np
import numpy.typing as npt

from synthscene.scene import Scene

__all__ = ["Camera", "Rig", "RigKind", "intrinsics", "look_at", "make_rig"]

RigKind = Literal["single", "multiview", "video", "pair", "pan"]
F64 = npt.NDArray[np.float64]


class Camera(msgspec.Struct, frozen=True, kw_only=True):
    """One camera: `c2w` is the 4x4 camera-to-world matrix as nested tuples (exact and hashable)."""

    c2w: tuple[tuple[float, ...], ...]
    hfov_deg: float = 75.0

    def matrix(self) -> F64:
        """The (4, 4) camera-to-world matrix."""
        return np.array(self.c2w, dtype=np.float64)

    @property
    def position(self) -> tuple[float, float, float]:
        """Camera centre in world metres."""
        return (self.c2w[0][3], self.c2w[1][3], self.c2w[2][3])


class Rig(msgspec.Struct, frozen=True, kw_only=True):
    """The cameras of one sample, keyed by absolute frame index."""

    kind: RigKind
    cameras: tuple[Camera, ...]
    frame_indices: tuple[int, ...]
    fps: float | None = None
    """Native frame rate when the rig is a video; None for image sets."""

    def camera(self, frame_index: int) -> Camera:
        """The camera of absolute frame `frame_index`.

        Raises:
            KeyError: the rig has no such frame; the message lists the valid indices.
        """
        try:
            return self.cameras[self.frame_indices.index(frame_index)]
        except ValueError:
            valid = list(self.frame_indices)
            raise KeyError(f"frame {frame_index} is not in this scene; valid: {valid}") from None


def intrinsics(width: int, height: int, hfov_deg: float) -> F64:
    """Pinhole K with square pixels and the principal point at the image centre."""
    f = (width / 2) / math.tan(math.radians(hfov_deg) / 2)
    return np.array([[f, 0.0, width / 2], [0.0, f, height / 2], [0.0, 0.0, 1.0]])


def look_at(eye: tuple[float, float, float], target: tuple[float, float, float]) -> Camera:
    """A level camera (no roll) at `eye` looking at `target`."""
    e, t = np.array(eye, dtype=np.float64), np.array(target, dtype=np.float64)
    forward = (t - e) / np.linalg.norm(t - e)
    right = np.cross(forward, np.array([0.0, 1.0, 0.0]))
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, down, forward, e
    return Camera(c2w=tuple(tuple(round(float(v), 9) for v in row) for row in c2w))


def _heading(yaw: float, pitch: float) -> tuple[float, float, float]:
    """Unit view direction: yaw about +Y (0 looks along +Z), pitch below the horizon in radians."""
    return (math.sin(yaw) * math.cos(pitch), -math.sin(pitch), math.cos(yaw) * math.cos(pitch))


def _clear(scene: Scene, x: float, z: float, clearance: float = 0.35) -> bool:
    room = scene.room
    if not (0.3 < x < room.width - 0.3 and 0.3 < z < room.depth - 0.3):
        return False
    for obj in scene.objects:
        reach = math.hypot(obj.extents[0], obj.extents[2]) / 2 + clearance
        if math.hypot(x - obj.center[0], z - obj.center[2]) < reach:
            return False
    return True


def _orbit_eye(scene: Scene, angle: float, inset: float, height: float) -> tuple[float, float, float]:
    room = scene.room
    rx, rz = room.width / 2 - inset, room.depth / 2 - inset
    return (room.width / 2 + rx * math.sin(angle), height, room.depth / 2 + rz * math.cos(angle))


def _centre(scene: Scene, height: float = 0.4) -> tuple[float, float, float]:
    return (scene.room.width / 2, height, scene.room.depth / 2)


def _orbit(scene: Scene, rng: np.random.Generator, n: int, arc: float) -> list[Camera]:
    start, height = float(rng.uniform(0, 2 * math.pi)), float(rng.uniform(1.5, 2.0))
    inset = float(rng.uniform(0.35, 0.55))
    step = arc / n if arc >= 2 * math.pi - 1e-6 else arc / max(n - 1, 1)
    return [look_at(_orbit_eye(scene, start + i * step, inset, height), _centre(scene)) for i in range(n)]


def _random_view(scene: Scene, rng: np.random.Generator) -> Camera:
    for _ in range(100):
        angle = float(rng.uniform(0, 2 * math.pi))
        eye = _orbit_eye(scene, angle, float(rng.uniform(0.4, 0.9)), float(rng.uniform(1.4, 1.9)))
        if _clear(scene, eye[0], eye[2]):
            break
    centre = _centre(scene, 0.3)
    target = (centre[0] + float(rng.uniform(-0.6, 0.6)), centre[1], centre[2] + float(rng.uniform(-0.6, 0.6)))
    return look_at(eye, target)


def _pair(scene: Scene, rng: np.random.Generator) -> list[Camera]:
    """Two views: the second moved forward/backward/left/right (and maybe turned) from the first."""
    first = _random_view(scene, rng)
    c2w = first.matrix()
    for _ in range(50):
        axis = int(rng.integers(4))
        step = float(rng.uniform(0.6, 1.4))
        local = [(0, 0, step), (0, 0, -step), (-step, 0, 0), (step, 0, 0)][axis]
        move = c2w[:3, 0] * local[0] + c2w[:3, 2] * local[2]
        move[1] = 0.0
        eye = c2w[:3, 3] + move
        if _clear(scene, float(eye[0]), float(eye[2]), clearance=0.2):
            break
    yaw = math.atan2(c2w[0, 2], c2w[2, 2]) + float(rng.uniform(-0.5, 0.5))
    pitch = math.asin(-c2w[1, 2])
    head = _heading(yaw, pitch)
    target = (float(eye[0]) + head[0], float(eye[1]) + head[1], float(eye[2]) + head[2])
    return [first, look_at((float(eye[0]), float(eye[1]), float(eye[2])), target)]


def _pan(scene: Scene, rng: np.random.Generator, n: int) -> list[Camera]:
    """A camera near the room centre turning once around (objects enter the view one after another)."""
    cx, cz = scene.room.width / 2, scene.room.depth / 2
    for _ in range(100):
        x, z = cx + float(rng.uniform(-0.8, 0.8)), cz + float(rng.uniform(-0.8, 0.8))
        if _clear(scene, x, z, clearance=0.3):
            break
    height, start = float(rng.uniform(1.4, 1.7)), float(rng.uniform(0, 2 * math.pi))
    sign = 1.0 if rng.uniform() < 0.5 else -1.0
    cameras = []
    for i in range(n):
        head = _heading(start + sign * 2 * math.pi * i / n, 0.35)
        cameras.append(look_at((x, height, z), (x + head[0], height + head[1], z + head[2])))
    return cameras


def make_rig(kind: RigKind, scene: Scene, rng: np.random.Generator, n_frames: int = 16) -> Rig:
    """The cameras for one sample.

    `single`: one view; `multiview`: `n_frames` views on a full orbit around the room centre; `video`: an
    orbit trajectory sampled every 5th native frame at 10 fps; `pair`: two views with a known motion
    between them; `pan`: a video turning in place.
    """
    match kind:
        case "single":
            cameras = [_random_view(scene, rng)]
        case "multiview":
            cameras = _orbit(scene, rng, n_frames, 2 * math.pi)
        case "video":
            cameras = _orbit(scene, rng, n_frames, float(rng.uniform(1.2, 2.0)) * math.pi)
        case "pair":
            cameras = _pair(scene, rng)
        case "pan":
            cameras = _pan(scene, rng, n_frames)
    if kind in ("video", "pan"):
        return Rig(
            kind=kind,
            cameras=tuple(cameras),
            frame_indices=tuple(5 * i for i in range(len(cameras))),
            fps=10.0,
        )
    return Rig(kind=kind, cameras=tuple(cameras), frame_indices=tuple(range(len(cameras))))
