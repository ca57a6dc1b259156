"""The ground-truth perception backend: exact geometry, prompt matching, noise and typed errors."""

from __future__ import annotations

import numpy as np
import pytest

from bench.suites.synthetic import FLOOR_ID, WALL_ID, WorldKey, build_world, render
from claw.config import PerceptionConfig
from claw.errors import ConfigError, PerceptionError
from claw.wire.perception import NDArray, ReconstructRequest, SegmentRequest
from servers.perception._backends.synthetic import SyntheticBackend, backend_class, match_prompt

KEY = WorldKey(2, 0)  # a 12-view multi-view rig
SCENE = KEY.text


def _images(n: int, w: int = 256, h: int = 256) -> list[NDArray]:
    return [NDArray.from_numpy(np.zeros((h, w, 3), dtype=np.uint8))] * n


def _backend(noise: str = "none") -> SyntheticBackend:
    return SyntheticBackend(PerceptionConfig(noise=noise))


def test_module_exports_the_backend_class() -> None:
    assert backend_class is SyntheticBackend
    assert "noise='none'" in repr(_backend())


def test_unknown_noise_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="realistic"):
        _backend("gaussian")


async def test_reconstruct_serves_exact_geometry() -> None:
    world = build_world(KEY)
    (resp,) = await _backend().reconstruct(
        [ReconstructRequest(images=_images(2), frame_indices=[0, 3], scene=SCENE)]
    )
    depth, points = resp.depth.to_numpy(), resp.points.to_numpy()
    assert depth.shape == (2, 256, 256) and points.shape == (2, 256, 256, 3)
    truth = render(world.scene, world.rig.camera(3))
    np.testing.assert_array_equal(depth[1], truth.depth)
    np.testing.assert_allclose(points[1], truth.points(), atol=1e-5)
    np.testing.assert_allclose(resp.extrinsics.to_numpy()[1], world.rig.camera(3).matrix())
    assert resp.intrinsics.to_numpy().shape == (2, 3, 3)
    assert float(resp.confidence.to_numpy().min()) == 1.0


async def test_reconstruct_renders_at_the_request_size() -> None:
    (resp,) = await _backend().reconstruct(
        [ReconstructRequest(images=_images(1, 128, 96), frame_indices=[1], scene=SCENE)]
    )
    assert resp.depth.to_numpy().shape == (1, 96, 128)
    k = resp.intrinsics.to_numpy()[0]
    assert (k[0, 2], k[1, 2]) == (64.0, 48.0)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            ReconstructRequest(images=_images(1), frame_indices=[0], scene="kitchen-7"),
            "unknown synthetic scene",
        ),
        (ReconstructRequest(images=_images(1), frame_indices=[0], scene=None), "scene key"),
        (ReconstructRequest(images=_images(1), frame_indices=[99], scene=SCENE), "valid"),
        (ReconstructRequest(images=[], frame_indices=[], scene=SCENE), "at least one image"),
    ],
)
async def test_bad_requests_are_perception_errors(request_: ReconstructRequest, message: str) -> None:
    with pytest.raises(PerceptionError, match=message):
        await _backend().reconstruct([request_])


def test_text_prompts_match_names_colours_plurals_and_surfaces() -> None:
    world = build_world(KEY)
    obj = world.scene.objects[0]
    same_category = [o.id for o in world.scene.of_category(obj.category)]
    assert match_prompt(world, obj.name) == [obj.id]
    assert match_prompt(world, f"the {obj.name}.") == [obj.id]
    assert match_prompt(world, obj.category) == same_category
    assert match_prompt(world, obj.category + ("es" if obj.category.endswith("x") else "s")) == same_category
    assert match_prompt(world, "floor") == [FLOOR_ID]
    assert match_prompt(world, "walls") == [WALL_ID]
    assert match_prompt(world, "astronaut") == []
    assert match_prompt(world, obj.colour) == []


async def test_segment_returns_exact_masks_with_track_ids() -> None:
    world = build_world(KEY)
    frames = list(world.rig.frame_indices)
    obj = max(
        world.scene.objects, key=lambda o: int((render(world.scene, world.rig.camera(0)).ids == o.id).sum())
    )
    req = SegmentRequest(images=_images(len(frames)), frame_indices=frames, scene=SCENE, text=obj.name)
    (resp,) = await _backend().segment([req])
    for i, fi in enumerate(frames):
        truth = render(world.scene, world.rig.camera(fi)).ids == obj.id
        masks = resp.masks[i].to_numpy()
        if truth.any():
            assert resp.object_ids[i] == [obj.id]
            np.testing.assert_array_equal(masks[0], truth)
            ys, xs = np.nonzero(truth)
            np.testing.assert_array_equal(
                resp.boxes[i].to_numpy()[0], [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
            )
        else:
            assert masks.shape == (0, 256, 256) and resp.object_ids[i] == []


async def test_point_and_box_prompts_pick_the_object_under_them() -> None:
    world = build_world(KEY)
    ids = render(world.scene, world.rig.camera(0)).ids
    target = next(o for o in world.scene.objects if (ids == o.id).sum() > 200)
    ys, xs = np.nonzero(ids == target.id)
    k = len(ys) // 2
    point = SegmentRequest(
        images=_images(1), frame_indices=[0], scene=SCENE, points=[[float(xs[k]), float(ys[k])]]
    )
    box = SegmentRequest(
        images=_images(1),
        frame_indices=[0],
        scene=SCENE,
        boxes=[[float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]],
    )
    by_point, by_box = await _backend().segment([point, box])
    assert by_point.object_ids == [[target.id]]
    assert by_box.object_ids == [[target.id]]


async def test_realistic_noise_is_deterministic_per_request_and_not_exact() -> None:
    req = ReconstructRequest(images=_images(3), frame_indices=[0, 1, 2], scene=SCENE)
    (exact,) = await _backend().reconstruct([req])
    (noisy_a,) = await _backend("realistic").reconstruct([req])
    (noisy_b,) = await _backend("realistic").reconstruct([req])
    assert noisy_a.depth.data == noisy_b.depth.data
    ratio = noisy_a.depth.to_numpy() / exact.depth.to_numpy()
    assert 0.9 < float(np.median(ratio)) < 1.1 and float(np.abs(ratio - 1).max()) > 0.001
    np.testing.assert_array_equal(noisy_a.extrinsics.to_numpy(), exact.extrinsics.to_numpy())


async def test_realistic_noise_perturbs_masks_and_scores() -> None:
    world = build_world(KEY)
    frames = list(world.rig.frame_indices)
    req = SegmentRequest(
        images=_images(len(frames)), frame_indices=frames, scene=SCENE, text="floor", threshold=0.0
    )
    (exact,) = await _backend().segment([req])
    (noisy,) = await _backend("realistic").segment([req])
    scores = np.concatenate([s.to_numpy() for s in noisy.scores])
    assert scores.size and float(scores.min()) >= 0.5 and float(scores.max()) < 1.0
    differs = [
        e.to_numpy().shape != n.to_numpy().shape or not np.array_equal(e.to_numpy(), n.to_numpy())
        for e, n in zip(exact.masks, noisy.masks, strict=True)
    ]
    assert any(differs)
