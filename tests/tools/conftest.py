"""Analytic scenes for the tool tests: a pinhole camera looking at known geometry, so every answer is
known exactly."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from claw.tools import Reconstruction
from claw.tools._frames import FrameMap

H, W = 48, 64
K = np.array([[50.0, 0.0, W / 2], [0.0, 50.0, H / 2], [0.0, 0.0, 1.0]])


def look_pose(position: npt.ArrayLike, yaw_deg: float = 0.0) -> npt.NDArray[np.float64]:
    """Camera-to-world pose of a level camera at `position`; yaw 0 looks along world -Z, +90 along -X."""
    t = np.radians(yaw_deg)
    forward = np.array([-np.sin(t), 0.0, -np.cos(t)])
    down = np.array([0.0, -1.0, 0.0])
    right = np.cross(down, forward)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, down, forward, position
    return pose


def wall_recon(poses: dict[int, npt.NDArray[np.float64]], depth: float = 4.0) -> Reconstruction:
    """Every frame sees a fronto-parallel wall at `depth` metres; points are exact back-projections."""
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1)
    indices = list(poses)
    points = [(rays * depth) @ p[:3, :3].T + p[:3, 3] for p in poses.values()]
    depth_map = np.full((H, W), depth, dtype=np.float32)
    conf = np.tile(np.linspace(0, 1, W, dtype=np.float32), (H, 1))
    return Reconstruction(
        frame_indices=indices,
        depth=FrameMap("depth", indices, [depth_map] * len(indices)),
        points=FrameMap("points", indices, [p.astype(np.float32) for p in points]),
        confidence=FrameMap("confidence", indices, [conf] * len(indices)),
        intrinsics=FrameMap("intrinsics", indices, [K] * len(indices)),
        extrinsics=FrameMap("extrinsics", indices, list(poses.values())),
    )


@pytest.fixture
def recon() -> Reconstruction:
    return wall_recon({10: look_pose([0.0, 1.5, 0.0]), 20: look_pose([2.0, 1.5, 1.0], yaw_deg=90.0)})


def box_grid(size: tuple[float, float, float], step: float = 0.1) -> npt.NDArray[np.float64]:
    """Points on a regular grid filling an axis-aligned box with one corner at the origin."""
    axes = [np.linspace(0.0, s, round(s / step) + 1) for s in size]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
