"""Per benchmark: the loader reads a record written in the documented schema from an official-style
local copy, yields the expected `Sample`, scores a right and a wrong answer, and `check_data` reports
a complete copy as complete and names what is missing otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from bench.suites._specs import SPECS
from bench.suites.check import check_data
from claw.config import EvalConfig
from claw.errors import ServiceError, SuiteError
from claw.runtime.bus import Bus
from claw.runtime.episode_task import Tally
from claw.runtime.executor import RunEpisodes
from claw.runtime.layout import RunLayout
from claw.runtime.progress import ProgressSnapshot
from claw.runtime.runner import run_eval
from claw.suite import CountedSuite, Sample, Suite, SuiteOptions, get_suite, suite_names

from .conftest import NAMES, materialize


def test_one_fixture_per_benchmark() -> None:
    assert NAMES == sorted(s.name for s in SPECS)
    assert len(NAMES) == 20


def test_every_benchmark_is_registered() -> None:
    names = set(suite_names())
    assert {s.name for s in SPECS} | {"paper20"} <= names


def _samples(name: str, root: Path, media: Path, n: int | None = None) -> tuple[list[Sample], object]:
    suite = get_suite(name, SuiteOptions(data_dir=str(root), media_dir=str(media), n=n))
    return list(suite.samples()), suite


@pytest.mark.parametrize("name", NAMES)
def test_loader_yields_documented_samples(name: str, tmp_path: Path, sample_video: Path) -> None:
    fixture = materialize(name, tmp_path / "data", sample_video)
    samples, _ = _samples(name, tmp_path / "data", tmp_path / "media")
    expected = fixture["expect"]
    assert [s.id for s in samples] == [e[0] for e in expected]
    for sample, row in zip(samples, expected, strict=True):
        _, fmt, truth, n_options, category, n_videos, n_frames, _, _ = row
        assert sample.suite == name
        assert (sample.answer_format, sample.ground_truth, sample.category) == (fmt, truth, category)
        assert len(sample.options) == n_options
        assert len(sample.videos) == n_videos
        assert sum(len(v.frames) for v in sample.videos) == n_frames
        assert all(Path(f.path).is_file() for v in sample.videos for f in v.frames)
        assert sample.question.strip()


@pytest.mark.parametrize("name", NAMES)
def test_loader_scores_right_and_wrong(name: str, tmp_path: Path, sample_video: Path) -> None:
    fixture = materialize(name, tmp_path / "data", sample_video)
    samples, suite = _samples(name, tmp_path / "data", tmp_path / "media")
    for sample, row in zip(samples, fixture["expect"], strict=True):
        right, wrong = row[7], row[8]
        if right is None:
            assert suite.score(sample, "anything").metric == "unscored"  # type: ignore[attr-defined]
            continue
        assert suite.score(sample, right).value == pytest.approx(1.0), (sample.id, right)  # type: ignore[attr-defined]
        assert suite.score(sample, wrong).value == 0.0, (sample.id, wrong)  # type: ignore[attr-defined]
        assert suite.score(sample, None).value == 0.0  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", NAMES)
def test_check_data_complete_then_missing(name: str, tmp_path: Path, sample_video: Path) -> None:
    fixture = materialize(name, tmp_path / "data", sample_video)
    assert check_data(name, tmp_path / "data") == []
    first_file = next(iter(fixture["files"]))
    (tmp_path / "data" / first_file).unlink()
    lines = check_data(name, tmp_path / "data")
    assert lines
    assert any("missing" in line or "no " in line for line in lines)


@pytest.mark.parametrize("name", ["omni3d", "vstibench", "mindcube", "cvbench"])
def test_check_data_names_missing_media(name: str, tmp_path: Path, sample_video: Path) -> None:
    fixture = materialize(name, tmp_path / "data", sample_video)
    missing = tmp_path / "data" / fixture["media"][0]
    missing.unlink()
    lines = check_data(name, tmp_path / "data")
    assert [line for line in lines if str(missing) in line] == [
        f"{line_prefix(name)}: missing media {missing}"
    ]


def line_prefix(name: str) -> str:
    return next(s.title for s in SPECS if s.name == name)


def test_check_data_missing_folder_names_the_source(tmp_path: Path) -> None:
    [line] = check_data("blink", tmp_path / "nowhere")
    assert "huggingface.co/datasets/BLINK-Benchmark/BLINK" in line


def test_check_data_unknown_suite(tmp_path: Path) -> None:
    assert "unknown suite" in check_data("nope", tmp_path)[0]


def test_missing_data_dir_is_a_suite_error(tmp_path: Path) -> None:
    suite = get_suite("mmsi", SuiteOptions(data_dir=str(tmp_path / "absent")))
    with pytest.raises(SuiteError, match="pass --data"):
        list(suite.samples())


def test_subsample_is_seeded_and_bounded(tmp_path: Path, sample_video: Path) -> None:
    materialize("videommev2", tmp_path / "data", sample_video)
    first, _ = _samples("videommev2", tmp_path / "data", tmp_path / "media", n=2)
    again, _ = _samples("videommev2", tmp_path / "data", tmp_path / "media", n=2)
    assert [s.id for s in first] == [s.id for s in again]
    # Video-MME-v2 is scored per video: --n takes whole videos (all four questions), never part of one
    videos = {s.metadata["video_id"] for s in first}
    assert len(videos) == 1
    assert sorted(s.id.rsplit("-", 1)[1] for s in first) == ["1", "2", "3", "4"]


def test_paper20_runs_every_present_benchmark(tmp_path: Path, sample_video: Path) -> None:
    for name in ("mmsi", "vstibench"):
        materialize(name, tmp_path / "data" / name, sample_video)
    suite = get_suite("paper20", SuiteOptions(data_dir=str(tmp_path / "data"), media_dir=str(tmp_path / "m")))
    samples = list(suite.samples())
    assert [s.suite for s in samples] == ["mmsi", "vstibench", "vstibench"]
    assert suite.score(samples[0], "``B``").value == 1.0
    assert suite.score(samples[1], "1.4").value == 1.0


@pytest.fixture
def two_benchmarks(tmp_path: Path, sample_video: Path) -> Path:
    """A paper20 data folder holding mmsi (1 sample) and vstibench (2 samples)."""
    for name in ("mmsi", "vstibench"):
        materialize(name, tmp_path / "data" / name, sample_video)
    return tmp_path / "data"


@pytest.mark.parametrize(("n", "planned"), [(None, 3), (1, 2), (5, 3)])
def test_paper20_plans_the_samples_of_every_present_benchmark(
    n: int | None, planned: int, two_benchmarks: Path, tmp_path: Path
) -> None:
    """`n` applies to each benchmark, so the run's total is their sum, not `n`; the samples then built
    are exactly the planned ones."""
    options = SuiteOptions(data_dir=str(two_benchmarks), media_dir=str(tmp_path / "m"), n=n)
    suite = get_suite("paper20", options)
    assert isinstance(suite, CountedSuite)
    assert suite.planned_samples() == planned
    assert len(list(suite.samples())) == planned


class _NoEpisodes:
    """An executor that runs nothing: the run opens, counts its total and closes."""

    @asynccontextmanager
    async def open(self, layout: RunLayout, bus: Bus) -> AsyncIterator[RunEpisodes]:
        async def run_none(
            suite: Suite, tally: Tally, finished: set[str], stop: anyio.Event | None
        ) -> ServiceError | None:
            return None

        yield run_none


async def test_a_paper20_run_shows_the_whole_run_as_its_progress_total(
    two_benchmarks: Path, tmp_path: Path
) -> None:
    config = EvalConfig(suite="paper20", n=1, data_dir=str(two_benchmarks), run_dir=str(tmp_path / "r"))
    shown: list[ProgressSnapshot] = []
    await run_eval(config, progress=shown.append, executor=_NoEpisodes())
    assert shown and {s.total for s in shown} == {2}  # one sample from each of the two benchmarks


async def test_a_missing_data_folder_ends_the_run_before_any_service_starts(tmp_path: Path) -> None:
    config = EvalConfig(suite="mmsi", data_dir=str(tmp_path / "absent"), run_dir=str(tmp_path / "r"))
    lines: list[str] = []
    with pytest.raises(SuiteError, match=f"data not found at {tmp_path / 'absent'}; pass --data DIR"):
        await run_eval(config, report=lines.append, executor=_NoEpisodes())
    assert not [line for line in lines if "starting services" in line]
