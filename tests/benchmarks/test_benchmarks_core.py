"""The shared loader core: uniform frame indices, PyAV sampling with count / max side / fps cap and
its cache, content-addressed image bytes, inline option splitting and the extraction families."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bench.suites import _media
from bench.suites._core import option_text, read_json, split_inline_options
from bench.suites._extract import (
    answer_marker,
    erqa_exact,
    first_capital,
    first_token_letter,
    last_letter_mark,
    leading_letter,
    narrowed_first_letter,
    sc_generic,
)
from bench.suites._media import MediaStore, VideoSampling, uniform_indices
from claw.errors import SuiteError

from .conftest import png_bytes


@pytest.mark.parametrize(
    ("total", "count", "expected"),
    [(100, 5, [0, 25, 50, 74, 99]), (20, 32, list(range(20))), (10, 1, [0]), (0, 4, []), (3, 2, [0, 2])],
)
def test_uniform_indices(total: int, count: int, expected: list[int]) -> None:
    assert uniform_indices(total, count) == expected


def test_video_sampling_count_side_timestamps(tmp_path: Path, sample_video: Path) -> None:
    store = MediaStore(tmp_path, "s", VideoSampling(uniform=5, max_side=32))
    video = store.video(sample_video)
    assert [f.index for f in video.frames] == [0, 5, 10, 14, 19]
    assert [f.timestamp_s for f in video.frames] == pytest.approx([0.0, 0.5, 1.0, 1.4, 1.9])
    assert (video.fps, video.total_frames, video.duration_s) == (10.0, 20, pytest.approx(2.0))
    with Image.open(video.frames[0].path) as image:
        assert max(image.size) == 32


def test_video_fps_cap(tmp_path: Path, sample_video: Path) -> None:
    video = MediaStore(tmp_path, "s").video(sample_video, sampling=VideoSampling(uniform=32, max_fps=1.0))
    assert [f.index for f in video.frames] == [0, 19]


def test_video_frames_are_cached(tmp_path: Path, sample_video: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = MediaStore(tmp_path, "s", VideoSampling(uniform=3))
    first = store.video(sample_video)

    def refuse(*args: object) -> None:
        raise AssertionError("decoded twice")

    monkeypatch.setattr(_media, "_sample_video", refuse)
    assert store.video(sample_video) == first


def test_missing_and_broken_video(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, "s")
    with pytest.raises(SuiteError, match="claw data check"):
        store.video(tmp_path / "absent.mp4")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    with pytest.raises(SuiteError, match="cannot decode"):
        store.video(broken)


def test_image_bytes_are_written_once_by_content(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, "s")
    a, b = store.image_bytes(png_bytes(1)), store.image_bytes(png_bytes(1), index=3)
    assert a.path == b.path
    assert a.path.endswith(".png")
    assert b.index == 3
    assert store.image_bytes(png_bytes(2)).path != a.path


def test_check_only_store_records_instead_of_raising(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, "s", check_only=True)
    store.image_file(tmp_path / "a.jpg")
    assert store.video(tmp_path / "b.mp4").frames == ()
    assert store.missing == [tmp_path / "a.jpg", tmp_path / "b.mp4"]
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("question", "marker", "text", "options"),
    [
        ("What is behind? A. Sofa B. Door C. Lamp", "", "What is behind?", ["Sofa", "Door", "Lamp"]),
        ("Where?\nOptions: A: Left, B: Right, C: Up", "Options:", "Where?", ["Left", "Right", "Up"]),
        ("A. a\nB. b", "", "", ["a", "b"]),
        ("Plan B. Then C.", "", "Plan B. Then C.", []),
    ],
)
def test_split_inline_options(question: str, marker: str, text: str, options: list[str]) -> None:
    assert split_inline_options(question, marker) == (text, options)


def test_option_text() -> None:
    assert option_text("A. left") == "left"
    assert option_text("(B) right") == "right"
    assert option_text("C: up") == "up"


def test_read_json_lenient_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('[{"a": 1,},]')
    assert read_json(path, list[dict[str, int]], lenient=True) == [{"a": 1}]
    with pytest.raises(SuiteError, match="official format"):
        read_json(path, list[dict[str, int]])
    with pytest.raises(SuiteError, match="cannot read"):
        read_json(tmp_path / "absent.json", list[int])


@pytest.mark.parametrize(
    ("rule", "reply", "letter"),
    [
        (first_token_letter, "B. because", "B"),
        (first_token_letter, "(B)", None),
        (leading_letter, "(C) chair", "C"),
        (leading_letter, "The answer", None),
        (erqa_exact, "B.", "B"),
        (erqa_exact, "B) right", None),
        (narrowed_first_letter, "I pick ``C``", "C"),
        (narrowed_first_letter, "A cat sits; answer D", "D"),
        (answer_marker, "Maybe A. The answer is (C).", "C"),
        (last_letter_mark, "(A) or (B)", "B"),
        (sc_generic, "\\boxed{D}", "D"),
        (sc_generic, "ok: D", None),  # step 2 fires on the "k:" of "ok:" (a known quirk)
        (first_capital, "The answer is B.", "B"),
        (first_capital, "Based on the clip, C", "B"),
        (first_capital, "this reply is long enough to have more than ten words and no letter", None),
    ],
)
def test_extraction_families(rule: object, reply: str, letter: str | None) -> None:
    assert rule(reply, "ABCD") == letter  # type: ignore[operator]
