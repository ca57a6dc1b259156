"""The synthetic suite's rendered depth, ids and cameras, reused by the synthetic perception backend: the
answers read from the suite's files equal the ray-cast ones (with and without noise), frames with no file
are still ray-cast, and the files stay out of what a kernel is given."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

import servers.perception._backends.synthetic as synthetic_backend
from bench.suites.synthetic._suite import SyntheticSuite
from claw.config import EvalConfig, PerceptionConfig
from claw.errors import PerceptionError
from claw.runtime.layout import RunLayout, perception_config
from claw.runtime.perception_service import server_command
from claw.sandbox._media import stage_media
from claw.suite import Sample, SuiteOptions
from claw.wire.kernel import KernelSetup
from claw.wire.names import GROUND_TRUTH_FOLDER
from claw.wire.perception import NDArray, ReconstructRequest, SegmentRequest, SegmentResponse
from servers.perception.__main__ import _config, _parser
from servers.perception._backends.synthetic import SyntheticBackend
from synthscene import build_world, parse_key
from synthscene.truth import truth_path

# Indices of seed 5 covering every rig: multi-view (0, 4), video (3), single (7), pan (10), pair (11).
INDICES = (0, 3, 4, 7, 10, 11)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Sample]]:
    folder = tmp_path_factory.mktemp("media")
    suite = SyntheticSuite(SuiteOptions(n=12, seed=5, media_dir=str(folder)))
    return folder, [suite.sample(i) for i in INDICES]


def _backend(truth: Path | None, noise: str = "none") -> SyntheticBackend:
    return SyntheticBackend(PerceptionConfig(noise=noise, truth_dir=None if truth is None else str(truth)))


def _reconstruct(sample: Sample) -> ReconstructRequest:
    frames = sample.videos[0].frames
    image = NDArray.from_numpy(np.zeros((256, 256, 3), dtype=np.uint8))
    return ReconstructRequest(
        images=[image] * len(frames),
        frame_indices=[f.index for f in frames],
        scene=str(sample.metadata["scene"]),
    )


def _segments(sample: Sample) -> list[SegmentRequest]:
    scene = str(sample.metadata["scene"])
    world = build_world(parse_key(scene))
    frames = [f.index for f in sample.videos[0].frames]
    images = [NDArray.from_numpy(np.zeros((256, 256, 3), dtype=np.uint8))] * len(frames)
    category = world.scene.objects[0].category
    return [
        SegmentRequest(images=images, frame_indices=frames, scene=scene, text=f"{category}s"),
        SegmentRequest(images=images, frame_indices=frames, scene=scene, text="floor"),
        SegmentRequest(images=images[:1], frame_indices=frames[:1], scene=scene, points=[[128.0, 200.0]]),
        SegmentRequest(
            images=images[:1], frame_indices=frames[:1], scene=scene, boxes=[[0.0, 0.0, 256.0, 256.0]]
        ),
    ]


def _assert_same_segments(kept: SegmentResponse, cast: SegmentResponse) -> None:
    assert kept.object_ids == cast.object_ids
    for pairs in ((kept.masks, cast.masks), (kept.scores, cast.scores), (kept.boxes, cast.boxes)):
        for a, b in zip(*pairs, strict=True):
            np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_the_suite_keeps_every_frames_truth_in_an_owner_only_folder(media: tuple[Path, list[Sample]]) -> None:
    folder, samples = media
    truth = folder / GROUND_TRUTH_FOLDER
    assert stat.S_IMODE(truth.stat().st_mode) == 0o700
    for sample in samples:
        for frame in sample.videos[0].frames:
            assert truth_path(truth, str(sample.metadata["scene"]), frame.index, 256, 256).is_file()
        assert not any(p.suffix == ".npz" for p in Path(sample.videos[0].frames[0].path).parent.iterdir())


@pytest.mark.parametrize("noise", ["none", "realistic"])
async def test_answers_from_the_suites_files_equal_the_ray_cast_ones(
    media: tuple[Path, list[Sample]], noise: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, samples = media
    requests = [_reconstruct(s) for s in samples]
    segments = [r for s in samples for r in _segments(s)]
    with monkeypatch.context() as patch:
        patch.setattr(synthetic_backend, "render", _refuse)
        kept = _backend(folder / GROUND_TRUTH_FOLDER, noise)
        kept_geometry = await kept.reconstruct(requests)
        kept_masks = await kept.segment(segments)
    cast = _backend(None, noise)
    cast_geometry, cast_masks = await cast.reconstruct(requests), await cast.segment(segments)
    for a, b in zip(kept_geometry, cast_geometry, strict=True):
        np.testing.assert_array_equal(a.depth.to_numpy(), b.depth.to_numpy())
        kept_points = np.asarray(a.points.to_numpy(), dtype=np.float64)
        np.testing.assert_allclose(kept_points, np.asarray(b.points.to_numpy(), dtype=np.float64), atol=1e-5)
        np.testing.assert_array_equal(a.intrinsics.to_numpy(), b.intrinsics.to_numpy())
        np.testing.assert_array_equal(a.extrinsics.to_numpy(), b.extrinsics.to_numpy())
        np.testing.assert_array_equal(a.confidence.to_numpy(), b.confidence.to_numpy())
    assert any(r.object_ids[0] for r in cast_masks)  # the prompts did find objects
    for a_mask, b_mask in zip(kept_masks, cast_masks, strict=True):
        _assert_same_segments(a_mask, b_mask)


def _refuse(*args: object) -> None:
    raise AssertionError("the backend ray-cast a frame the suite had rendered")


async def test_frames_without_a_file_are_ray_cast(media: tuple[Path, list[Sample]]) -> None:
    folder, samples = media
    request = _reconstruct(samples[0])
    small = ReconstructRequest(
        images=[NDArray.from_numpy(np.zeros((96, 128, 3), dtype=np.uint8))],
        frame_indices=request.frame_indices[:1],
        scene=request.scene,
    )
    (kept,) = await _backend(folder / GROUND_TRUTH_FOLDER).reconstruct([small])
    (cast,) = await _backend(None).reconstruct([small])
    assert kept.depth.to_numpy().shape == (1, 96, 128)
    np.testing.assert_array_equal(kept.depth.to_numpy(), cast.depth.to_numpy())


@pytest.fixture
def damaged(tmp_path: Path) -> Sample:
    """A sample whose first frame's truth file was damaged after the suite wrote it."""
    sample = SyntheticSuite(SuiteOptions(n=1, seed=6, media_dir=str(tmp_path))).sample(0)
    first = sample.videos[0].frames[0].index
    path = truth_path(tmp_path / GROUND_TRUTH_FOLDER, str(sample.metadata["scene"]), first, 256, 256)
    assert path.is_file()
    path.write_bytes(b"not a zip")
    return sample


async def test_a_damaged_file_costs_a_render_not_the_answer(tmp_path: Path, damaged: Sample) -> None:
    request = _reconstruct(damaged)
    truth = tmp_path / GROUND_TRUTH_FOLDER
    (kept,) = await _backend(truth).reconstruct([request])
    (cast,) = await _backend(None).reconstruct([request])
    np.testing.assert_array_equal(kept.depth.to_numpy(), cast.depth.to_numpy())


async def test_a_scene_key_cannot_name_a_file_outside_the_folder(media: tuple[Path, list[Sample]]) -> None:
    folder, _ = media
    request = ReconstructRequest(
        images=[NDArray.from_numpy(np.zeros((256, 256, 3), dtype=np.uint8))],
        frame_indices=[0],
        scene="../ground-truth/syn1-5-0-0",
    )
    with pytest.raises(PerceptionError, match="unknown synthetic scene"):
        await _backend(folder / GROUND_TRUTH_FOLDER).reconstruct([request])


def test_a_kernel_is_given_the_frames_and_nothing_of_the_truth(
    media: tuple[Path, list[Sample]], tmp_path: Path
) -> None:
    _, samples = media
    sample = samples[1]
    setup = KernelSetup(episode_id="e", videos=sample.videos, answer_format=sample.answer_format)
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    stage_media(setup, exchange, "/claw/exchange")
    staged = sorted(p for p in (exchange / "media").rglob("*") if p.is_file())
    frames = sample.videos[0].frames
    assert len(staged) == len(frames) and all(p.suffix == ".png" for p in staged)
    assert {os.stat(p).st_ino for p in staged} == {os.stat(f.path).st_ino for f in frames}


def test_the_runner_hands_its_server_the_media_folders_truth(tmp_path: Path) -> None:
    layout = RunLayout(run_id="r", run_dir=tmp_path, config=EvalConfig(run_dir=str(tmp_path)))
    perception = perception_config(layout)
    assert perception.truth_dir == str(tmp_path / "media" / GROUND_TRUTH_FOLDER)
    command = server_command(perception, tmp_path / "p.sock")
    args = _parser().parse_args(command[command.index("servers.perception") + 1 :])
    assert _config(args).truth_dir == perception.truth_dir
    chosen = EvalConfig(run_dir=str(tmp_path), perception=PerceptionConfig(truth_dir="/elsewhere"))
    assert perception_config(RunLayout(run_id="r", run_dir=tmp_path, config=chosen)).truth_dir == "/elsewhere"
