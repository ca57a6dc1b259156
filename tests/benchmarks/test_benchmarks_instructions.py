"""Each benchmark's own instruction sentences reach its samples: the answer convention for every one of
the 20, VSTI's "frame X of N" mapped onto InputImages, the ViewSpatial viewpoint note, the CVBench
several-videos note, MMSI-Video's reference images; and none of it repeats the published system's
wording (checked against the page samples under ../shared/benchmarks)."""

from __future__ import annotations

import json
from difflib import SequenceMatcher
from pathlib import Path

import pytest

from bench.suites._instructions import instruction_for
from claw.suite import Frame, Sample, SuiteOptions, Video, get_suite

from .conftest import NAMES, materialize

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "benchmarks"


def _first_sample(name: str, tmp_path: Path, sample_video: Path) -> Sample:
    materialize(name, tmp_path / "data", sample_video)
    suite = get_suite(name, SuiteOptions(data_dir=str(tmp_path / "data"), media_dir=str(tmp_path / "m")))
    return next(iter(suite.samples()))


@pytest.mark.parametrize("name", NAMES)
def test_every_benchmark_sample_carries_its_instruction(
    name: str, tmp_path: Path, sample_video: Path
) -> None:
    sample = _first_sample(name, tmp_path, sample_video)
    assert sample.instruction == instruction_for(sample)
    assert sample.instruction.strip(), name
    if sample.answer_format == "letter" and name not in ("mindcube", "blink"):
        assert "option letter" in sample.instruction


def _sample(suite: str, question: str, videos: tuple[Video, ...], fmt: str = "letter") -> Sample:
    return Sample(
        id="1", suite=suite, question=question, answer_format=fmt,  # type: ignore[arg-type]
        ground_truth="A", videos=videos, options=("a", "b", "c", "d") if fmt == "letter" else (),
    )  # fmt: skip


def _video(name: str, indices: range, total: int) -> Video:
    return Video(name=name, frames=tuple(Frame(path="f", index=i) for i in indices), total_frames=total)


def test_vsti_frames_are_mapped_onto_input_images() -> None:
    every = _video("v", range(900), 900)
    text = instruction_for(
        _sample("vstibench", "How far between frame 4 and frame 20 of 32?", (every,), "number")
    )
    assert "frame 4 of 32 = video frame 116, InputImages[116]" in text
    assert "frame 20 of 32 = video frame 580, InputImages[580]" in text
    sparse = _video("v", range(0, 900, 30), 900)
    text = instruction_for(_sample("vstibench", "Between frame 16 and frame 31 of 32, where?", (sparse,)))
    assert "frame 31 of 32 = video frame 899, nearest held InputImages[29] (video frame 870)" in text


def test_benchmark_specific_notes() -> None:
    one = (_video("v", range(4), 4),)
    assert "viewpoint" in instruction_for(_sample("viewspatial", "Where is the cup?", one))
    two = (_video("video_1", range(4), 4), _video("video_2", range(4), 4))
    assert "InputImages_1, InputImages_2" in instruction_for(_sample("cvbench", "Same dog?", two))
    refs = (_video("video_1", range(4), 4), _video("reference", range(2), 2))
    assert "InputImages_2[0]" in instruction_for(_sample("mmsivideo", "Where is [reference image #1]?", refs))
    assert "(B)" in instruction_for(_sample("blink", "Which?", one))
    assert instruction_for(_sample("synthetic", "Which?", one)) == ""


def _published_paragraphs() -> list[str]:
    if not SHARED.is_dir():
        pytest.skip(f"the shared benchmark samples are not at {SHARED}")
    texts = []
    for path in sorted(SHARED.glob("*/spatialclaw_page/*/sample.json")):
        shown = json.loads(path.read_text(encoding="utf-8"))["question_as_shown"]
        texts.extend(p for p in shown.split("\n\n")[1:] if len(p) > 40)
    return texts


def test_no_instruction_repeats_the_published_wording(tmp_path: Path, sample_video: Path) -> None:
    published = _published_paragraphs()
    assert published
    ours = [_first_sample(name, tmp_path / name, sample_video).instruction for name in NAMES]
    for text in ours:
        for paragraph in published:
            match = SequenceMatcher(None, text, paragraph, autojunk=False).find_longest_match()
            assert match.size < 40, (text, paragraph[match.b : match.b + match.size])
