"""`tools.Geometry` against scenes whose answers are known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from claw.tools import Geometry, Reconstruction
from tests.tools.conftest import H, K, W, box_grid, look_pose


def rot_y(deg: float) -> np.ndarray:
    t = math.radians(deg)
    return np.array([[math.cos(t), 0, math.sin(t)], [0, 1, 0], [-math.sin(t), 0, math.cos(t)]])


def test_masked_points_back_project_onto_the_wall(recon: Reconstruction) -> None:
    mask = np.zeros((H, W), bool)
    mask[24, 32] = True
    mask[0, 0] = True
    pts = Geometry.masked_points(recon, 10, mask)
    assert pts.shape == (2, 3)
    assert pts[1] == pytest.approx([0.0, 1.5, -4.0])  # the principal point, 4 m ahead of a camera at y=1.5
    assert pts[0] == pytest.approx([-32 / 50 * 4, 1.5 + 24 / 50 * 4, -4.0])  # top-left pixel: left and up


def test_masked_points_drops_low_confidence(recon: Reconstruction) -> None:
    full = np.ones((H, W), bool)
    kept = Geometry.masked_points(recon, 10, full, min_confidence=0.5)
    assert 0 < len(kept) < H * W
    assert len(kept) == int((recon.confidence[10] >= 0.5).sum())


def test_masked_points_rejects_a_mask_of_another_size(recon: Reconstruction) -> None:
    with pytest.raises(ValueError, match="does not match"):
        Geometry.masked_points(recon, 10, np.ones((H, W + 1), bool))


def test_masked_points_names_valid_frames(recon: Reconstruction) -> None:
    with pytest.raises(KeyError, match=r"\[10, 20\]"):
        Geometry.masked_points(recon, 11, np.ones((H, W), bool))


def test_centroid_is_the_median() -> None:
    assert Geometry.centroid([[0, 0, 0], [1, 1, 1], [10, 10, 10]]).tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="no finite points"):
        Geometry.centroid(np.zeros((0, 3)))


def test_centroid_and_closest_distance_between_two_boxes() -> None:
    a = box_grid((1.0, 1.0, 1.0))
    b = box_grid((1.0, 1.0, 1.0)) + np.array([1.5, 0, 0])
    assert Geometry.centroid_distance(a, b) == pytest.approx(1.5)
    assert Geometry.closest_distance(a, b) == pytest.approx(0.5)
    assert Geometry.closest_distance(a, a) == 0.0


@pytest.mark.parametrize("upright", [False, True])
def test_obb_of_a_rotated_box(upright: bool) -> None:
    local = box_grid((2.0, 0.5, 1.0)) - [1.0, 0.25, 0.5]
    world = local @ rot_y(30).T + [3.0, 0.25, -2.0]
    box = Geometry.obb(world, upright=upright)
    assert box.extents == pytest.approx([2.0, 1.0, 0.5], abs=1e-9)
    assert box.longest_side == pytest.approx(2.0)
    assert box.center == pytest.approx([3.0, 0.25, -2.0])
    assert abs(box.axes[0] @ (rot_y(30) @ [1, 0, 0])) == pytest.approx(1.0)
    assert box.volume == pytest.approx(1.0)


def test_obb_needs_three_points() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        Geometry.obb([[0, 0, 0], [1, 1, 1]])


def test_fit_plane_finds_the_floor_among_outliers() -> None:
    rng = np.random.default_rng(1)
    floor = np.column_stack([rng.uniform(-2, 2, 300), np.zeros(300), rng.uniform(-2, 2, 300)])
    clutter = rng.uniform([-2, 0.3, -2], [2, 2, 2], size=(60, 3))
    plane = Geometry.fit_plane(np.vstack([floor, clutter]), seed=3)
    assert plane.normal == pytest.approx([0, 1, 0], abs=1e-9)
    assert plane.offset == pytest.approx(0.0, abs=1e-9)
    assert plane.inliers[:300].all() and not plane.inliers[300:].any()
    assert plane.distance([[0, 2, 0]]) == pytest.approx([2.0])


def test_fit_plane_on_a_tilted_plane_is_seeded_and_up_facing() -> None:
    g = np.mgrid[-1:1:20j, -1:1:20j].reshape(2, -1).T
    pts = np.column_stack([g[:, 0], -(g[:, 0] + g[:, 1]) + 0.5, g[:, 1]])  # x + y + z = 0.5
    first, second = Geometry.fit_plane(pts, seed=7), Geometry.fit_plane(pts, seed=7)
    assert first.normal == pytest.approx(np.ones(3) / math.sqrt(3))
    assert first.offset == pytest.approx(-0.5 / math.sqrt(3))
    assert first.normal.tolist() == second.normal.tolist()


def test_fit_plane_rejects_collinear_points() -> None:
    with pytest.raises(ValueError, match="collinear"):
        Geometry.fit_plane([[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3]])


@pytest.mark.parametrize(
    ("v1", "v2", "deg"),
    [
        ([1, 0, 0], [0, 1, 0], 90.0),
        ([1, 0, 0], [2, 0, 0], 0.0),
        ([1, 0, 0], [-1, 0, 0], 180.0),
        ([1, 1, 0], [1, 0, 0], 45.0),
    ],
)
def test_angle_between(v1: list[float], v2: list[float], deg: float) -> None:
    assert Geometry.angle_between(v1, v2) == pytest.approx(deg)


def test_angle_between_a_zero_vector_is_an_error() -> None:
    with pytest.raises(ValueError, match="non-zero"):
        Geometry.angle_between([0, 0, 0], [1, 0, 0])


def test_camera_position(recon: Reconstruction) -> None:
    assert Geometry.camera_position(recon, 20).tolist() == [2.0, 1.5, 1.0]


@pytest.mark.parametrize(
    ("fi", "target", "expected"),
    [
        (10, [-1, 0, -2], "front-left"),
        (10, [1, 3, -2], "front-right"),
        (10, [1, 0, 2], "behind-right"),
        (10, [-1, 0, 2], "behind-left"),
        (20, [0, 0, 3], "front-left"),  # camera 20 at (2, 1.5, 1) looks along -X, so +Z is its left
        (20, [3, 0, 0], "behind-right"),
    ],
)
def test_relative_direction_from_a_camera(
    recon: Reconstruction, fi: int, target: list[float], expected: str
) -> None:
    assert Geometry.relative_direction(recon, fi, target) == expected


@pytest.mark.parametrize(
    ("facing", "target", "expected"),
    [
        ([0, 0, -1], [-1, 0, -1], "front-left"),
        ([1, 0, 0], [1, 0, 1], "front-right"),
        ([1, 0, 0], [-1, 5, -1], "behind-left"),
    ],
)
def test_relative_direction_from_an_observer(facing: list[float], target: list[float], expected: str) -> None:
    assert Geometry.relative_direction_from([0, 0, 0], facing, target) == expected


def test_relative_direction_from_needs_a_horizontal_facing() -> None:
    with pytest.raises(ValueError, match="facing"):
        Geometry.relative_direction_from([0, 0, 0], [0, 2, 0], [1, 0, 0])


def test_transform_points() -> None:
    pose = look_pose([1.0, 2.0, 3.0], yaw_deg=90.0)
    np.testing.assert_allclose(Geometry.transform_points([0, 0, 1], pose), [0.0, 2.0, 3.0], atol=1e-12)
    assert Geometry.transform_points(np.ones((2, 2, 3)), np.eye(3)).shape == (2, 2, 3)
    with pytest.raises(ValueError, match="3x3 or 4x4"):
        Geometry.transform_points([0, 0, 1], np.eye(2))


def test_project_inverts_the_back_projection(recon: Reconstruction) -> None:
    for fi in recon.frame_indices:
        pixels = Geometry.project(recon.points[fi].reshape(-1, 3), K, recon.extrinsics[fi])
        v, u = np.mgrid[0:H, 0:W]
        assert pixels == pytest.approx(np.column_stack([u.ravel(), v.ravel()]), abs=1e-3)


def test_project_marks_points_behind_the_camera(recon: Reconstruction) -> None:
    pixels = Geometry.project([[0, 1.5, 4.0], [0, 1.5, -4.0]], K, recon.extrinsics[10])
    assert np.isnan(pixels[0]).all()
    assert pixels[1].tolist() == [W / 2, H / 2]
