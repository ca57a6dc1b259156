"""Gravity alignment of the reconstruction backends (`claw_world`): synthetic rooms are ray-cast from
tilted cameras into depth maps, handed over in an arbitrary model world frame, and the floor fit must
recover the true up axis, floor height, object heights and camera-0 heading. No torch needed."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from claw.wire.perception import ReconstructResponse
from servers.perception._backends._common import claw_world

F64 = npt.NDArray[np.float64]
K = np.array([[60.0, 0.0, 40.0], [0.0, 60.0, 30.0], [0.0, 0.0, 1.0]])  # 80x60 model frames, ~67 deg wide
MODEL_HW = (60, 80)
ROOM = (np.array([-3.0, 0.0, -6.0]), np.array([3.0, 2.8, 2.0]))  # floor at Y = 0, ceiling at 2.8 m
BOX = (np.array([-0.5, 0.0, -3.5]), np.array([0.5, 0.8, -2.5]))  # 0.8 m tall, 3 m ahead


def _rot(axis: int, degrees: float) -> F64:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out = np.eye(3)
    out[i, i], out[i, j], out[j, i], out[j, j] = c, -s, s, c
    return out


def _camera(position: tuple[float, float, float], *, pitch: float, roll: float, yaw: float = 0.0) -> F64:
    """OpenCV camera-to-world in the true world (+Y up); pitch > 0 looks down, yaw turns left."""
    c2w = np.eye(4)
    c2w[:3, :3] = _rot(1, yaw) @ np.diag([1.0, -1.0, -1.0]) @ _rot(0, -pitch) @ _rot(2, roll)
    c2w[:3, 3] = position
    return c2w


def _slabs(origin: F64, rays: F64, box: tuple[F64, F64]) -> tuple[F64, F64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        t0, t1 = (box[0] - origin) / rays, (box[1] - origin) / rays
    return np.nanmax(np.minimum(t0, t1), axis=-1), np.nanmin(np.maximum(t0, t1), axis=-1)


def _render(c2w: F64, boxes: list[tuple[F64, F64]]) -> npt.NDArray[np.float32]:
    """Planar depth of the room (seen from inside) and the solid boxes, by ray casting."""
    v, u = np.mgrid[0 : MODEL_HW[0], 0 : MODEL_HW[1]].astype(np.float64)
    cam = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1)
    rays, origin = cam @ c2w[:3, :3].T, c2w[:3, 3]
    depth = _slabs(origin, rays, ROOM)[1]  # rays have camera z = 1, so the ray parameter is planar depth
    for box in boxes:
        near, far = _slabs(origin, rays, box)
        depth = np.where((near <= far) & (near > 0), np.minimum(depth, near), depth)
    return depth.astype(np.float32)


def _model_w2c(c2ws: list[F64]) -> F64:
    """World-to-camera poses in an arbitrary model frame (turned and shifted away from the true one)."""
    model = np.eye(4)
    model[:3, :3] = _rot(0, 37.0) @ _rot(1, -70.0) @ _rot(2, 15.0)
    model[:3, 3] = [0.3, -2.0, 5.0]
    return np.stack([np.linalg.inv(model @ c2w)[:3] for c2w in c2ws])


def _reconstruct(
    c2ws: list[F64], boxes: list[tuple[F64, F64]], *, noise: float = 0.0, fit_floor: bool = True
) -> ReconstructResponse:
    rng = np.random.default_rng(7)
    depth = np.stack([_render(c2w, boxes) for c2w in c2ws])
    depth *= (1.0 + noise * rng.standard_normal(depth.shape)).astype(np.float32)
    conf = rng.uniform(0.5, 1.0, depth.shape).astype(np.float32)
    k = np.stack([K] * len(c2ws))
    return claw_world(depth, conf, k, _model_w2c(c2ws), (120, 160), fit_floor=fit_floor)


def _angle(a: F64, b: F64) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1.0, 1.0))))


@pytest.mark.parametrize(("pitch", "roll"), [(25.0, 10.0), (40.0, -15.0), (10.0, 20.0)])
def test_tilted_camera_gets_true_gravity(pitch: float, roll: float) -> None:
    cams = [
        _camera((0.0, 1.5, 0.0), pitch=pitch, roll=roll),
        _camera((1.0, 1.4, -0.5), pitch=15, roll=0, yaw=20),
    ]
    out = _reconstruct(cams, [BOX], noise=0.005)
    c2w, points = out.extrinsics.to_numpy(), out.points.to_numpy()
    true_to_claw = c2w[0, :3, :3] @ cams[0][:3, :3].T
    assert _angle(true_to_claw @ [0.0, 1.0, 0.0], np.array([0.0, 1.0, 0.0])) < 1.0  # up within 1 degree
    np.testing.assert_allclose(c2w[0, :3, 3], [0.0, 1.5, 0.0], atol=0.02)  # camera 0: 1.5 m above the floor
    np.testing.assert_allclose(c2w[1, :3, 3], [1.0, 1.4, -0.5], atol=0.03)
    forward = c2w[0, :3, 2]  # camera 0 looks along -Z once projected on the floor
    assert forward[2] < 0 and abs(forward[0]) < 0.01
    heights = points[:, ::2, ::2, 1]  # input pixels that sit exactly on a model pixel's ray
    truth = np.stack([_render(cam, [BOX]) for cam in cams])  # which pixels see the floor / the box top
    floor, top = _pixels_at(cams, truth, 0.0), _pixels_at(cams, truth, 0.8, inside=BOX)
    assert abs(float(np.median(heights[floor]))) < 0.01
    assert float(np.median(heights[top])) == pytest.approx(0.8, abs=0.03)


def _pixels_at(
    cams: list[F64], depth: npt.NDArray[np.float32], height: float, inside: tuple[F64, F64] | None = None
) -> npt.NDArray[np.bool_]:
    """Model-resolution mask of the pixels whose true point lies at `height` (within `inside`)."""
    v, u = np.mgrid[0 : MODEL_HW[0], 0 : MODEL_HW[1]].astype(np.float64)
    masks = []
    for cam, z in zip(cams, depth, strict=True):
        pts = np.stack([(u - K[0, 2]) / K[0, 0] * z, (v - K[1, 2]) / K[1, 1] * z, z], -1) @ cam[:3, :3].T
        pts += cam[:3, 3]
        mask = np.abs(pts[..., 1] - height) < 1e-6
        if inside is not None:
            mask &= np.all((pts >= inside[0] - 1e-6) & (pts <= inside[1] + 1e-6), axis=-1)
        masks.append(mask)
    assert masks[0].sum() > 20
    return np.stack(masks)


def test_level_camera_matches_the_camera_frame() -> None:
    cams = [_camera((0.0, 1.5, 0.0), pitch=0, roll=0), _camera((0.5, 1.5, -1.0), pitch=0, roll=0, yaw=30)]
    fitted = _reconstruct(cams, [BOX])
    level = _reconstruct(cams, [BOX], fit_floor=False)
    c2w = fitted.extrinsics.to_numpy()
    np.testing.assert_allclose(c2w[:, :3, :3], level.extrinsics.to_numpy()[:, :3, :3], atol=1e-3)
    # The old ground (5th percentile of all heights) sits 3 cm off: half-pixel offsets of the upsampled
    # rows. The fitted floor is exact.
    np.testing.assert_allclose(c2w[:, :3, 3], level.extrinsics.to_numpy()[:, :3, 3], atol=0.03)
    np.testing.assert_allclose(fitted.points.to_numpy(), level.points.to_numpy(), atol=0.03)
    np.testing.assert_allclose(c2w[:, :3, 3], [c[:3, 3] for c in cams], atol=0.005)


TABLES = [
    (np.array([-1.5, 0.0, -3.0]), np.array([1.5, 0.75, -1.2])),
    (np.array([-1.2, 0.0, -2.5]), np.array([1.2, 0.75, -0.2])),  # floor only beside and beyond it
]


@pytest.mark.parametrize("table", TABLES)
def test_floor_beats_a_larger_table_top(table: tuple[F64, F64]) -> None:
    cams = [_camera((0.0, 1.6, 0.0), pitch=35, roll=5)]
    out = _reconstruct(cams, [table], noise=0.003)
    c2w = out.extrinsics.to_numpy()
    truth = _render(cams[0], [table])[None]
    assert _pixels_at(cams, truth, 0.75, inside=table).sum() > _pixels_at(cams, truth, 0.0).sum()
    # Only slivers of floor show around the table, so the fit is looser; the table top is 0.85 m off.
    assert c2w[0, 1, 3] == pytest.approx(1.6, abs=0.05)  # heights measured from the floor, not the table


def test_no_floor_in_view_keeps_the_camera_frame() -> None:
    wall_only = (np.array([-50.0, -50.0, -4.0]), np.array([50.0, 50.0, 1.0]))
    cams = [_camera((0.0, 1.5, 0.0), pitch=25, roll=10)]
    depth = np.stack([_render_room(cams[0], wall_only)])
    conf = np.ones_like(depth)
    args = (depth, conf, K[None], _model_w2c(cams), (120, 160))
    fitted, level = claw_world(*args), claw_world(*args, fit_floor=False)
    np.testing.assert_array_equal(fitted.extrinsics.to_numpy(), level.extrinsics.to_numpy())
    np.testing.assert_array_equal(fitted.points.to_numpy(), level.points.to_numpy())
    np.testing.assert_allclose(fitted.extrinsics.to_numpy()[0, :3, :3], np.diag([1.0, -1.0, -1.0]), atol=1e-9)


def _render_room(c2w: F64, room: tuple[F64, F64]) -> npt.NDArray[np.float32]:
    v, u = np.mgrid[0 : MODEL_HW[0], 0 : MODEL_HW[1]].astype(np.float64)
    cam = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1)
    return _slabs(c2w[:3, 3], cam @ c2w[:3, :3].T, room)[1].astype(np.float32)


def test_a_ceiling_is_never_the_floor() -> None:
    cams = [_camera((0.0, 1.5, 0.0), pitch=-15, roll=5)]  # looking up: ceiling, walls, no floor
    fitted = _reconstruct(cams, [BOX], noise=0.005)
    level = _reconstruct(cams, [BOX], noise=0.005, fit_floor=False)
    np.testing.assert_array_equal(fitted.extrinsics.to_numpy(), level.extrinsics.to_numpy())
