"""The synthetic `Suite`: registry lookup, stable ids, frames on disk, determinism and scoring."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from bench.suites.synthetic import TASKS, SyntheticSuite, parse_key
from claw.suite import Sample, SuiteOptions, get_suite


def _suite(tmp_path: Path, n: int = len(TASKS), seed: int = 3) -> SyntheticSuite:
    suite = get_suite("synthetic", SuiteOptions(n=n, seed=seed, media_dir=str(tmp_path)))
    assert isinstance(suite, SyntheticSuite)
    return suite


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[Sample]:
    return list(_suite(tmp_path_factory.mktemp("media")).samples())


def test_registry_builds_the_suite(tmp_path: Path) -> None:
    suite = _suite(tmp_path, n=2)
    assert suite.name == "synthetic"
    assert "seed=3" in repr(suite)


def test_samples_cover_every_task_with_stable_ids(samples: list[Sample]) -> None:
    assert [s.category for s in samples] == list(TASKS)
    assert [s.id for s in samples] == [f"syn-3-{i:05d}" for i in range(len(TASKS))]
    for sample in samples:
        key = parse_key(str(sample.metadata["scene"]))
        assert (key.seed, key.index) == (3, int(sample.id.rsplit("-", 1)[1]))
        assert sample.suite == "synthetic" and sample.question.endswith("?")
        assert "ground" not in sample.metadata and sample.ground_truth not in sample.metadata.values()


def test_frames_are_pngs_under_the_sample_directory(samples: list[Sample]) -> None:
    for sample in samples:
        (video,) = sample.videos
        for frame in video.frames:
            path = Path(frame.path)
            assert path.parent.name == sample.id
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if video.fps is not None:
            assert [f.timestamp_s for f in video.frames] == [f.index / video.fps for f in video.frames]
            assert 8 <= len(video.frames) <= 32


def test_same_seed_gives_byte_identical_questions_and_frames(tmp_path: Path, samples: list[Sample]) -> None:
    again = list(_suite(tmp_path).samples())

    def questions(items: list[Sample]) -> bytes:
        return msgspec.json.encode([msgspec.structs.replace(s, videos=()) for s in items])

    assert questions(again) == questions(samples)
    for new, old in zip(again, samples, strict=True):
        for a, b in zip(new.videos[0].frames, old.videos[0].frames, strict=True):
            assert Path(a.path).read_bytes() == Path(b.path).read_bytes()


def test_another_seed_gives_other_questions(tmp_path: Path, samples: list[Sample]) -> None:
    other = list(_suite(tmp_path, n=4, seed=4).samples())
    assert [s.question for s in other] != [s.question for s in samples[:4]]


def test_score_rewards_the_ground_truth_only(samples: list[Sample]) -> None:
    suite = SyntheticSuite(SuiteOptions(n=1))
    for sample in samples:
        assert suite.score(sample, sample.ground_truth).value == 1.0
        assert suite.score(sample, None).value == 0.0
    numeric = next(s for s in samples if s.answer_format == "number" and float(s.ground_truth) > 5)
    off = suite.score(numeric, str(float(numeric.ground_truth) * 1.2))
    assert off.metric == "mra" and 0.0 < off.value < 1.0
    mcq = next(s for s in samples if s.answer_format == "letter")
    wrong = next(chr(65 + i) for i in range(len(mcq.options)) if chr(65 + i) != mcq.ground_truth)
    assert suite.score(mcq, wrong).value == 0.0
    yes_no = next(s for s in samples if s.answer_format == "yes_no")
    assert suite.score(yes_no, "no" if yes_no.ground_truth == "yes" else "yes").value == 0.0
