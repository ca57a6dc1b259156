"""The published inputs: video frames sampled per benchmark (every native frame, or 1 fps for the
general-video benchmarks), key frames per benchmark and per video, and the image preparation policies,
checked on generated videos and on the real page samples under ../shared/benchmarks."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bench.suites._images import ASPECTS, nearest_aspect, prepare, target_size
from bench.suites._media import MediaStore, VideoSampling, fps_indices
from claw.config import EvalConfig, config_from_mapping
from claw.errors import ConfigError
from claw.suite import Frame, Sample, SuiteOptions, Video, evenly_spaced, get_suite, key_frames

from .conftest import materialize, write_video

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "benchmarks"
EVERY_FRAME = ("vsibench_unbiased", "vstibench", "osibench", "paibench", "dsibench")
ONE_FPS = ("cvbench", "perceptioncomp", "videomme", "videommev2")


@pytest.mark.parametrize(
    ("total", "native", "cap", "expected"),
    [
        (20, 10.0, 1.0, [0, 10]),
        (95, 30.0, 1.0, [0, 30, 60, 90]),
        (7, 30.0, None, list(range(7))),
        (7, 2.0, 5.0, list(range(7))),
        (7, None, 1.0, list(range(7))),
        (0, 30.0, 1.0, []),
    ],
)
def test_fps_indices(total: int, native: float | None, cap: float | None, expected: list[int]) -> None:
    assert fps_indices(total, native, cap) == expected


def test_every_native_frame_is_extracted_by_default(tmp_path: Path) -> None:
    video_path = tmp_path / "long.mp4"
    write_video(video_path, frames=90, fps=30)
    video = MediaStore(tmp_path / "media", "s").video(video_path)
    assert [f.index for f in video.frames] == list(range(90))
    assert video.frames[30].timestamp_s == pytest.approx(1.0)
    one_fps = MediaStore(tmp_path / "media", "s").video(video_path, sampling=VideoSampling(max_fps=1.0))
    assert [f.index for f in one_fps.frames] == [0, 30, 60]
    assert all(Path(f.path).is_file() for f in (*video.frames, *one_fps.frames))


def test_changed_sampling_never_reads_stale_frames(tmp_path: Path, sample_video: Path) -> None:
    store = MediaStore(tmp_path, "s")
    few = store.video(sample_video, sampling=VideoSampling(uniform=3))
    every = store.video(sample_video)
    cropped = store.video(sample_video, sampling=VideoSampling(images="crop", max_side=64))
    assert len(few.frames) == 3 and len(every.frames) == 20
    with Image.open(cropped.frames[0].path) as image:
        assert image.size == (64, 48)  # the 64×48 clip is 4:3 already: 4·16 × 3·16


def _video_suite_samples(name: str, tmp_path: Path, sample_video: Path, **options: object) -> list[Sample]:
    materialize(name, tmp_path / "data", sample_video)
    opts = SuiteOptions(data_dir=str(tmp_path / "data"), media_dir=str(tmp_path / "media"), **options)  # type: ignore[arg-type]
    return list(get_suite(name, opts).samples())


@pytest.mark.parametrize("name", EVERY_FRAME + ONE_FPS)
def test_video_benchmarks_sample_as_published(name: str, tmp_path: Path, sample_video: Path) -> None:
    # The fixture clip has 20 frames at 10 fps: every frame is 0..19, 1 fps keeps frames 0 and 10.
    samples = _video_suite_samples(name, tmp_path, sample_video)
    expected = [0, 10] if name in ONE_FPS else list(range(20))
    for sample in samples:
        for video in sample.videos:
            assert [f.index for f in video.frames] == expected, (name, sample.id)


def test_uniform_frames_option(tmp_path: Path, sample_video: Path) -> None:
    samples = _video_suite_samples("vstibench", tmp_path, sample_video, frames="uniform", uniform_frames=4)
    assert [f.index for f in samples[0].videos[0].frames] == [0, 6, 13, 19]


def test_key_frame_counts_per_benchmark(tmp_path: Path, sample_video: Path) -> None:
    assert {s.key_frames for s in _video_suite_samples("mmsivideo", tmp_path / "a", sample_video)} == {64}
    assert {s.key_frames for s in _video_suite_samples("cvbench", tmp_path / "b", sample_video)} == {32}
    assert {s.key_frames for s in _video_suite_samples("vstibench", tmp_path / "c", sample_video)} == {32}


def _video(name: str, n: int) -> Video:
    return Video(name=name, frames=tuple(Frame(path=f"{name}/{i}.jpg", index=i * 3) for i in range(n)))


def test_key_frames_are_evenly_spaced_per_video() -> None:
    sample = Sample(
        id="x", suite="s", question="q", answer_format="letter", ground_truth="A",
        videos=(_video("a", 100), _video("b", 10), _video("c", 1000)), key_frames=32,
    )  # fmt: skip
    chosen = key_frames(sample)
    per_video = [[k.position for k in chosen if k.video == v] for v in range(3)]
    assert [len(p) for p in per_video] == [32, 10, 32]
    assert per_video[0][0] == 0 and per_video[0][-1] == 99 and per_video[2][-1] == 999
    assert all(k.frame is sample.videos[k.video].frames[k.position] for k in chosen)
    assert len(key_frames(sample, per_video=1)) == 3  # one frame of each video, never a division by zero


def test_evenly_spaced_matches_the_published_formula() -> None:
    n, k = 5400, 32
    assert evenly_spaced(n, k) == [round(i * (n - 1) / (k - 1)) for i in range(k)]
    assert evenly_spaced(3, 8) == [0, 1, 2] and evenly_spaced(9, 1) == [0] and evenly_spaced(0, 4) == []


@pytest.mark.parametrize(
    ("size", "aspect", "out"),
    [
        ((1920, 1080), (16, 9), (768, 432)),
        ((640, 480), (4, 3), (768, 576)),
        ((1080, 1920), (2, 3), (512, 768)),
        ((1000, 1000), (1, 1), (768, 768)),
        ((900, 500), (9, 5), (765, 425)),
        ((600, 400), (3, 2), (768, 512)),
    ],
)
def test_crop_policy_sizes(size: tuple[int, int], aspect: tuple[int, int], out: tuple[int, int]) -> None:
    assert nearest_aspect(*size) == aspect
    assert target_size(aspect, 768) == out
    assert prepare(Image.new("RGB", size), "crop", 768).size == out


def test_crop_keeps_the_centre_of_a_portrait_frame() -> None:
    # 9:16 goes to 2:3: about 16 % of the height is cut, evenly from top and bottom.
    image = Image.new("RGB", (900, 1600), (255, 0, 0))
    image.paste((0, 255, 0), (0, 0, 900, 120))
    image.paste((0, 0, 255), (0, 1480, 900, 1600))
    prepared = prepare(image, "crop", 768)
    assert prepared.size == (512, 768)
    assert prepared.getpixel((256, 0)) == (255, 0, 0) and prepared.getpixel((256, 767)) == (255, 0, 0)


def test_fit_never_upscales_and_original_is_untouched() -> None:
    small = Image.new("RGB", (200, 150))
    assert prepare(small, "fit", 768).size == (200, 150)
    assert prepare(Image.new("RGB", (1600, 900)), "fit", 768).size == (768, 432)
    assert prepare(small, "original", 768).size == (200, 150)


def _real_images() -> list[Path]:
    if not SHARED.is_dir():
        pytest.skip(f"the shared benchmark samples are not at {SHARED}")
    return sorted(SHARED.glob("*/spatialclaw_page/*/kf_input_00.jpg"))


def test_policies_on_the_real_page_samples(tmp_path: Path) -> None:
    paths = _real_images()
    assert len(paths) >= 20
    store = MediaStore(tmp_path, "real", VideoSampling(images="crop", max_side=768))
    video = store.image_set("views", paths)
    for source, frame in zip(paths, video.frames, strict=True):
        with Image.open(source) as original, Image.open(frame.path) as prepared:
            assert prepared.size == target_size(nearest_aspect(*original.size), 768)
            assert prepared.size in {target_size(a, 768) for a in ASPECTS}
    untouched = MediaStore(tmp_path, "real").image_set("views", paths)
    assert [f.path for f in untouched.frames] == [str(p) for p in paths]


def test_input_settings_in_config() -> None:
    config = config_from_mapping(
        {"inputs": {"frames": "uniform", "images": "crop"}, "agent": {"key_frames": 8}}
    )
    assert (config.inputs.frames, config.inputs.images, config.agent.key_frames) == ("uniform", "crop", 8)
    assert EvalConfig().agent.key_frames is None  # the suite's published count
    assert EvalConfig().inputs.media_dir is None  # the run directory's media/
    assert config_from_mapping({"inputs": {"media_dir": "/frames"}}).inputs.media_dir == "/frames"
    with pytest.raises(ConfigError, match=r"agent\.key_frames"):
        config_from_mapping({"agent": {"key_frames": 0}})
    with pytest.raises(ConfigError, match="images"):
        config_from_mapping({"inputs": {"images": "stretch"}})


def test_the_run_passes_its_input_settings_to_the_suite(tmp_path: Path) -> None:
    from claw.runtime.layout import RunLayout, suite_options

    shared = {"inputs": {"frames": "uniform", "uniform_frames": 8, "images": "crop", "media_dir": "/frames"}}
    options = suite_options(
        RunLayout(run_id="r", run_dir=tmp_path, config=config_from_mapping(shared)), frozenset()
    )
    assert (options.frames, options.uniform_frames, options.images, options.media_dir) == (
        "uniform",
        8,
        "crop",
        "/frames",
    )
    default = suite_options(RunLayout(run_id="r", run_dir=tmp_path, config=EvalConfig()), frozenset())
    assert default.media_dir == str(tmp_path / "media") and default.images == "original"
