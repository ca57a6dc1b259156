"""DA3 batching never couples episodes: a scene reconstructed alone and the same scene inside a server
batch of 16 unrelated scenes get the same depths and camera positions (each request keeps its own metric
scale). Tiny random nested checkpoint on CPU; skipped without the GPU extra."""

from __future__ import annotations

import importlib.util
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
from numpy.testing import assert_allclose

from claw.config import PerceptionConfig
from claw.wire.perception import NDArray, ReconstructRequest, ReconstructResponse

HAS_DA3 = all(importlib.util.find_spec(m) is not None for m in ("torch", "depth_anything_3"))
pytestmark = pytest.mark.skipif(not HAS_DA3, reason="torch or depth-anything-3 is not installed")

_BATCH = 16


def _scene(seed: int) -> ReconstructRequest:
    """Two frames of one made-up scene; scenes differ in brightness and texture, hence in scale."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (28, 42, 3)) * (0.2 + 0.05 * seed)
    frames = [np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8) for _ in range(2)]
    return ReconstructRequest(images=[NDArray.from_numpy(f) for f in frames], frame_indices=[0, 1])


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from servers.perception._backends.da3 import Da3Backend
    from tests.perception.tiny_checkpoints import tiny_da3, tiny_nested_da3

    folder = tmp_path_factory.mktemp("da3")
    tiny_da3(folder)
    loaded = Da3Backend(PerceptionConfig(backend="da3", weights={"da3": str(folder)}), process_res=42)
    loaded._net = tiny_nested_da3()  # the published metric checkpoints are nested: test that shape
    return loaded


def _depth_and_positions(response: ReconstructResponse) -> tuple[np.ndarray, np.ndarray]:
    return response.depth.to_numpy(), response.extrinsics.to_numpy()[:, :3, 3]


async def test_a_scene_alone_and_in_a_batch_of_16_gets_the_same_metric_depths(backend: Any) -> None:
    scenes = [_scene(seed) for seed in range(_BATCH)]
    alone = await backend.reconstruct([scenes[0]])
    batched = await backend.reconstruct(scenes)
    assert len(batched) == _BATCH
    depth_alone, cams_alone = _depth_and_positions(alone[0])
    depth_batched, cams_batched = _depth_and_positions(batched[0])
    assert_allclose(depth_batched, depth_alone, rtol=1e-4, atol=1e-5)
    assert_allclose(cams_batched, cams_alone, rtol=1e-4, atol=1e-5)
    last_alone = await backend.reconstruct([scenes[-1]])
    assert_allclose(batched[-1].depth.to_numpy(), last_alone[0].depth.to_numpy(), rtol=1e-4)


async def test_the_package_forward_alone_would_share_one_scale_across_the_batch(backend: Any) -> None:
    """Why the backend aligns per request: the nested net's own forward fits one scale to the batch."""
    import torch

    scenes = [_scene(seed) for seed in range(_BATCH)]
    pixels = torch.stack([backend._pixels(scene, (28, 42)) for scene in scenes])

    def own_forward(x: Any) -> np.ndarray:
        with torch.inference_mode():
            return np.asarray(backend._net(x).depth[0].float().numpy())

    together = await anyio.to_thread.run_sync(own_forward, pixels)
    alone = await anyio.to_thread.run_sync(partial(own_forward, pixels[:1]))
    ratio = float(np.median(together / alone))
    assert abs(ratio - 1.0) > 1e-3, "this checkpoint does not show the coupling; pick scenes that differ more"


def test_every_request_keeps_its_own_answer_in_a_mixed_shape_batch(tmp_path: Path) -> None:
    """Different frame counts are separate forward passes; order is kept."""
    from servers.perception._backends.da3 import Da3Backend
    from tests.perception.tiny_checkpoints import tiny_da3

    tiny_da3(tmp_path)
    backend = Da3Backend(PerceptionConfig(backend="da3", weights={"da3": str(tmp_path)}), process_res=42)
    one = ReconstructRequest(images=[_scene(3).images[0]], frame_indices=[0])
    out = anyio.run(backend.reconstruct, [_scene(1), one, _scene(2)])
    assert [r.depth.to_numpy().shape[0] for r in out] == [2, 1, 2]
