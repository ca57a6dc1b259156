"""Scenes, cameras, the renderer and scene keys: determinism, geometry conventions and exactness."""

from __future__ import annotations

import math

import msgspec
import numpy as np
import pytest

from bench.suites.synthetic import (
    FLOOR_ID,
    TASKS,
    World,
    WorldKey,
    build_world,
    closest_distance,
    draw_sample,
    generate_scene,
    intrinsics,
    parse_key,
    png_bytes,
    render,
)
from claw.errors import SuiteError
from synthscene.camera import look_at
from synthscene.scene import Part, Room, Scene, SceneObject


def _encode(value: object) -> bytes:
    return msgspec.msgpack.encode(value)


@pytest.mark.parametrize("seed", [0, 7, 123])
def test_same_seed_gives_byte_identical_scene_and_frames(seed: int) -> None:
    first, second = build_world(WorldKey(seed, 3)), build_world(WorldKey(seed, 3))
    assert _encode(first) == _encode(second)
    cam = first.rig.cameras[0]
    assert png_bytes(render(first.scene, cam).rgb) == png_bytes(render(second.scene, cam).rgb)


def test_different_seeds_give_different_scenes() -> None:
    scenes = {_encode(build_world(WorldKey(seed, 0)).scene) for seed in range(6)}
    assert len(scenes) == 6


@pytest.mark.parametrize("seed", range(12))
def test_scene_objects_are_inside_the_room_and_apart(seed: int) -> None:
    scene = generate_scene(np.random.default_rng(seed))
    assert 2 <= len(scene.objects) <= 12
    assert len({o.name for o in scene.objects}) == len(scene.objects)
    for obj in scene.objects:
        reach = math.hypot(obj.extents[0], obj.extents[2]) / 2
        assert reach < obj.center[0] < scene.room.width - reach
        assert reach < obj.center[2] < scene.room.depth - reach
        assert obj.center[1] == pytest.approx(obj.extents[1] / 2)
    for a in scene.objects:
        for b in scene.objects:
            if a.id < b.id:
                gap = math.dist((a.center[0], a.center[2]), (b.center[0], b.center[2]))
                reach_a, reach_b = (math.hypot(o.extents[0], o.extents[2]) / 2 for o in (a, b))
                assert gap > reach_a + reach_b


def test_look_at_follows_opencv_axes() -> None:
    cam = look_at((1.0, 1.5, 1.0), (1.0, 1.5, 5.0)).matrix()
    np.testing.assert_allclose(cam[:3, 2], [0, 0, 1], atol=1e-9)  # forward +Z
    np.testing.assert_allclose(cam[:3, 1], [0, -1, 0], atol=1e-9)  # image down = world down
    np.testing.assert_allclose(cam[:3, 0], [-1, 0, 0], atol=1e-9)  # right-handed: right = -X here
    assert np.linalg.det(cam[:3, :3]) == pytest.approx(1.0)


def _one_sphere_scene() -> Scene:
    ball = SceneObject(
        id=1,
        category="ball",
        colour="red",
        center=(2.0, 0.5, 4.0),
        extents=(1.0, 1.0, 1.0),
        yaw=0.0,
        parts=(Part(kind="sphere", center=(2.0, 0.5, 4.0), size=(0.5, 0, 0)),),
    )
    return Scene(room=Room(width=6.0, depth=8.0, height=3.0), objects=(ball,))


def test_render_depth_is_planar_and_points_are_exact() -> None:
    scene = _one_sphere_scene()
    frame = render(scene, look_at((2.0, 1.5, 0.5), (2.0, 0.5, 4.0)), 128, 96)
    assert frame.rgb.shape == (96, 128, 3) and frame.depth.shape == (96, 128)
    points = frame.points()
    on_ball = frame.ids == 1
    radius = np.linalg.norm(points[on_ball] - np.array([2.0, 0.5, 4.0]), axis=1)
    np.testing.assert_allclose(radius, 0.5, atol=1e-3)
    on_floor = frame.ids == FLOOR_ID
    np.testing.assert_allclose(points[on_floor][:, 1], 0.0, atol=1e-3)
    camera_z = (points - frame.c2w[:3, 3]) @ frame.c2w[:3, 2]
    np.testing.assert_allclose(camera_z, frame.depth, rtol=1e-4)


def test_render_projects_where_intrinsics_say() -> None:
    scene = _one_sphere_scene()
    cam = look_at((2.0, 1.5, 0.5), (2.0, 0.5, 4.0))
    frame = render(scene, cam, 160, 120)
    K = intrinsics(160, 120, cam.hfov_deg)
    local = np.linalg.inv(frame.c2w) @ np.array([2.0, 0.5, 4.0, 1.0])
    u, v = K[0, 0] * local[0] / local[2] + K[0, 2], K[1, 1] * local[1] / local[2] + K[1, 2]
    assert frame.ids[int(v), int(u)] == 1
    ys, xs = np.nonzero(frame.ids == 1)
    assert abs(xs.mean() + 0.5 - u) < 1.5 and abs(ys.mean() + 0.5 - v) < 1.5


def test_closest_distance_of_two_spheres_is_analytic() -> None:
    def ball(ident: int, x: float) -> SceneObject:
        part = Part(kind="sphere", center=(x, 0.3, 2.0), size=(0.3, 0, 0))
        return SceneObject(
            id=ident,
            category="ball",
            colour="red",
            center=part.center,
            extents=(0.6, 0.6, 0.6),
            yaw=0.0,
            parts=(part,),
        )

    assert closest_distance(ball(1, 1.0), ball(2, 3.0)) == pytest.approx(1.4, abs=0.01)


@pytest.mark.parametrize("text", ["", "syn1-1-2", "syn2-1-2-0", "syn1-a-2-0", "scene0000_00"])
def test_parse_key_rejects_what_is_not_a_key(text: str) -> None:
    with pytest.raises(SuiteError, match="unknown synthetic scene"):
        parse_key(text)


def test_key_round_trip_and_task_rotation() -> None:
    key = WorldKey(5, 17, 2)
    assert parse_key(key.text) == key
    assert [WorldKey(0, i).task for i in range(len(TASKS))] == list(TASKS)


@pytest.mark.parametrize("index", range(len(TASKS)))
def test_every_task_draws_a_question_from_its_key(index: int) -> None:
    world, frames, question = draw_sample(11, index)
    assert isinstance(world, World) and len(frames) == len(world.rig.cameras)
    assert _encode(build_world(parse_key(world.key.text))) == _encode(world)
    if question.answer_format == "letter":
        assert question.ground_truth in [chr(65 + i) for i in range(len(question.options))]
        assert len(set(question.options)) == len(question.options) >= 2
    elif question.answer_format == "number":
        assert float(question.ground_truth) > 0
    else:
        assert question.ground_truth in ("yes", "no")
