"""The real model backends on CPU with tiny, randomly initialised weights saved to a temporary folder
(shapes and plumbing, not accuracy). Skipped when the GPU extra (torch, transformers) is not installed;
the weights-setting errors and track linking are checked either way."""

from __future__ import annotations

import importlib.util
import json
from functools import partial
from pathlib import Path

import anyio
import numpy as np
import pytest

from claw.config import PerceptionConfig
from claw.errors import ConfigError, PerceptionError
from claw.wire.perception import NDArray, ReconstructRequest, SegmentRequest
from servers.perception._backends._common import claw_world, link_tracks, weights_path
from servers.perception._loader import load_backend
from tests.perception.tiny_checkpoints import tiny_da3, tiny_sam3

HAS_TORCH = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="the gpu extra (torch, transformers) is not installed")


def test_weights_path_names_the_missing_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"set perception\.weights\.sam3") as info:
        weights_path(PerceptionConfig(), "sam3", hint="x")
    assert info.value.field == "perception.weights.sam3"
    with pytest.raises(ConfigError, match="is not a folder"):
        weights_path(PerceptionConfig(weights={"da3": str(tmp_path / "nope")}), "da3", hint="x")
    assert weights_path(PerceptionConfig(weights={"da3": str(tmp_path)}), "da3", hint="x") == tmp_path


def _masks(*boxes: tuple[int, int, int, int]) -> np.ndarray:
    out = np.zeros((len(boxes), 10, 10), bool)
    for k, (y0, y1, x0, x1) in enumerate(boxes):
        out[k, y0:y1, x0:x1] = True
    return out


def test_link_tracks_follows_overlapping_instances() -> None:
    frames = [
        _masks((0, 3, 0, 3), (5, 9, 5, 9)),
        _masks((5, 9, 6, 10), (0, 3, 1, 4)),  # both moved one pixel, listed in the other order
        _masks((0, 2, 8, 10)),  # a new object
    ]
    assert link_tracks(frames) == [[1, 2], [2, 1], [3]]
    assert link_tracks([np.zeros((0, 10, 10), bool)]) == [[]]


@pytest.mark.skipif(HAS_TORCH, reason="checks the message shown when the gpu extra is missing")
def test_a_model_backend_without_torch_names_the_gpu_extra() -> None:
    with pytest.raises(ConfigError, match=r"pip install torch 'claw\[gpu\]'"):
        load_backend(PerceptionConfig(backend="sam3"))


@needs_torch
def test_sam3_without_weights_names_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"perception\.weights\.sam3"):
        load_backend(PerceptionConfig(backend="sam3"))


@needs_torch
def test_sam3_with_a_folder_that_holds_no_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot load SAM 3"):
        load_backend(PerceptionConfig(backend="sam3", weights={"sam3": str(tmp_path)}))


@pytest.fixture(scope="module")
def sam3_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAS_TORCH:
        pytest.skip("the gpu extra (torch, transformers) is not installed")
    folder = tmp_path_factory.mktemp("sam3")
    tiny_sam3(folder)
    return folder


def _image(h: int, w: int, seed: int) -> NDArray:
    return NDArray.from_numpy(np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8))


@needs_torch
async def test_sam3_segments_a_batch_of_requests(sam3_weights: Path) -> None:
    config = PerceptionConfig(backend="sam3", weights={"sam3": str(sam3_weights)})
    backend = await anyio.to_thread.run_sync(load_backend, config)  # loads weights: off the loop
    video = SegmentRequest(
        images=[_image(30, 40, i) for i in range(3)], frame_indices=[0, 5, 10], text="chair", threshold=0.0
    )
    single = SegmentRequest(images=[_image(20, 24, 9)], frame_indices=[3], text="cup", threshold=1.0)
    out = await backend.segment([video, single])
    assert len(out) == 2
    assert [m.shape for m in out[0].masks] == [(6, 30, 40)] * 3  # threshold 0 keeps every query
    assert [s.shape for s in out[0].scores] == [(6,)] * 3
    assert [b.shape for b in out[0].boxes] == [(6, 4)] * 3
    assert [len(ids) for ids in out[0].object_ids] == [6, 6, 6]
    assert out[1].masks[0].shape == (0, 20, 24)  # nothing scores above 1.0: no instances, not an error
    assert out[1].object_ids == [[]]
    scores = out[0].scores[0].to_numpy()
    assert (np.diff(scores) <= 0).all() and ((scores >= 0) & (scores <= 1)).all()


@needs_torch
async def test_sam3_does_not_reconstruct(sam3_weights: Path) -> None:
    config = PerceptionConfig(backend="sam3", weights={"sam3": str(sam3_weights)})
    backend = await anyio.to_thread.run_sync(load_backend, config)  # loads weights: off the loop
    with pytest.raises(PerceptionError, match="only segments"):
        await backend.reconstruct([ReconstructRequest(images=[_image(4, 4, 0)], frame_indices=[0])])


@needs_torch
@pytest.mark.skipif(importlib.util.find_spec("torchvision") is None, reason="box prompts need torchvision")
async def test_sam3_box_and_point_prompts(sam3_weights: Path) -> None:
    config = PerceptionConfig(backend="sam3", weights={"sam3": str(sam3_weights)})
    backend = await anyio.to_thread.run_sync(load_backend, config)  # loads weights: off the loop
    boxes = SegmentRequest(
        images=[_image(30, 40, 1)], frame_indices=[0], boxes=[[2, 3, 20, 25]], threshold=0.0
    )
    points = SegmentRequest(images=[_image(30, 40, 1)], frame_indices=[0], points=[[10, 10]], threshold=0.0)
    out = await backend.segment([boxes, points])
    assert [r.masks[0].shape[1:] for r in out] == [(30, 40), (30, 40)]


def test_claw_world_turns_model_geometry_into_claw_conventions() -> None:
    h, w = 7, 9
    k = np.array([[5.0, 0, 4.5], [0, 5.0, 3.5], [0, 0, 1]])
    w2c = np.stack([np.eye(4)[:3], np.eye(4)[:3]])
    w2c[1, 0, 3] = -1.0  # camera 1 sits 1 m to the right of camera 0 (world-to-camera translation)
    depth = np.full((2, h, w), 4.0, np.float32)
    conf = np.ones((2, h, w), np.float32)
    out = claw_world(depth, conf, np.stack([k, k]), w2c, (14, 18))
    c2w, points = out.extrinsics.to_numpy(), out.points.to_numpy()
    assert points.shape == (2, 14, 18, 3) and out.depth.to_numpy().shape == (2, 14, 18)
    np.testing.assert_allclose(out.intrinsics.to_numpy()[0], [[10, 0, 9], [0, 10, 7], [0, 0, 1]])
    np.testing.assert_allclose(c2w[0, :3, :3], np.diag([1.0, -1.0, -1.0]))  # camera 0 looks along -Z
    ground = c2w[0, 1, 3]
    np.testing.assert_allclose(c2w[1, :3, 3], [1.0, ground, 0.0], atol=1e-9)
    np.testing.assert_allclose(points[..., 2], -4.0, atol=1e-6)  # the wall is 4 m ahead of both cameras
    assert np.percentile(points[..., 1], 5) == pytest.approx(0.0, abs=1e-6)  # ground at Y = 0
    assert ground > 0  # the cameras stand above the lowest wall points


HAS_DA3 = HAS_TORCH and importlib.util.find_spec("depth_anything_3") is not None


@pytest.fixture(scope="module")
def da3_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAS_DA3:
        pytest.skip("torch or depth-anything-3 is not installed")
    folder = tmp_path_factory.mktemp("da3")
    tiny_da3(folder)
    return folder


@pytest.mark.skipif(not HAS_DA3, reason="torch or depth-anything-3 is not installed")
async def test_da3_reconstructs_a_batch_in_claw_conventions(da3_weights: Path) -> None:
    config = PerceptionConfig(backend="da3", weights={"da3": str(da3_weights)})
    from servers.perception._backends.da3 import Da3Backend

    backend = await anyio.to_thread.run_sync(partial(Da3Backend, config, process_res=42))
    two = ReconstructRequest(images=[_image(30, 40, 1), _image(30, 40, 2)], frame_indices=[0, 8])
    other = ReconstructRequest(images=[_image(24, 24, 3)], frame_indices=[4])
    out = await backend.reconstruct([two, other, two])
    assert [r.depth.to_numpy().shape for r in out] == [(2, 30, 40), (1, 24, 24), (2, 30, 40)]
    assert out[0].points.to_numpy().shape == (2, 30, 40, 3)
    np.testing.assert_allclose(out[0].extrinsics.to_numpy()[0, :3, :3], np.diag([1.0, -1.0, -1.0]), atol=1e-5)
    conf = out[1].confidence.to_numpy()
    assert ((conf >= 0) & (conf <= 1)).all()
    np.testing.assert_allclose(out[0].points.to_numpy(), out[2].points.to_numpy(), rtol=1e-4, atol=1e-4)
    with pytest.raises(PerceptionError, match="only reconstructs"):
        await backend.segment([])


@pytest.mark.skipif(not HAS_DA3, reason="torch or depth-anything-3 is not installed")
def test_da3_weights_errors_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"perception\.weights\.da3"):
        load_backend(PerceptionConfig(backend="da3"))
    (tmp_path / "config.json").write_text(json.dumps({"model_name": "da3-nope"}))
    with pytest.raises(ConfigError, match="must name one of"):
        load_backend(PerceptionConfig(backend="da3", weights={"da3": str(tmp_path)}))
    (tmp_path / "config.json").write_text(json.dumps({"model_name": "da3-small"}))
    with pytest.raises(ConfigError, match="cannot load Depth Anything 3"):
        load_backend(PerceptionConfig(backend="da3", weights={"da3": str(tmp_path)}))
