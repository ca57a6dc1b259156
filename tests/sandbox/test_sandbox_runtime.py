"""The in-kernel bootstrap's pure parts, run in-process: answer validation, frames, image encoding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from claw.sandbox._output import BoundedText, CellCollector, strip_ansi
from claw.tools._answer import check_answer
from claw.tools._inputs import FrameImage, FrameList
from claw.tools._show import as_uint8, png_bytes

OPTIONS = ("red", "green", "blue")


@pytest.mark.parametrize(
    ("answer", "fmt", "expected"),
    [
        ("B", "letter", "B"),
        ("(c)", "letter", "C"),
        ("A. red", "letter", "A"),
        (2.5, "number", "2.5"),
        (3, "number", "3"),
        (np.float64(1.25), "number", "1.25"),
        ("2.5 m", "number", "2.5 m"),
        ("-1e3", "number", "-1e3"),
        ("Yes", "yes_no", "yes"),
        (False, "yes_no", "no"),
        ("  the red chair ", "text", "the red chair"),
    ],
)
def test_valid_answers(answer: object, fmt: str, expected: str) -> None:
    submitted = check_answer(answer, fmt, OPTIONS)
    assert (submitted.valid, submitted.text) == (True, expected)


@pytest.mark.parametrize(
    ("answer", "fmt", "expected_hint"),
    [
        ("D", "letter", "A, B, C"),
        (2, "letter", "option letter"),
        ("two metres", "number", "a number"),
        (True, "number", "a number"),
        (float("nan"), "number", "non-finite"),
        ("maybe", "yes_no", "'yes' or 'no'"),
        ("   ", "text", "non-empty"),
        (None, "text", "non-empty"),
    ],
)
def test_invalid_answers_say_what_is_expected(answer: object, fmt: str, expected_hint: str) -> None:
    submitted = check_answer(answer, fmt, OPTIONS)
    assert not submitted.valid
    assert expected_hint in submitted.message


def test_frame_list_slices_keep_the_type(tmp_path: Path) -> None:
    frames = FrameList(FrameImage(str(tmp_path / f"{i}.png"), i * 5, float(i), "v") for i in range(4))
    assert isinstance(frames[1:3], FrameList)
    assert frames[1:3].frame_indices == [5, 10]
    assert isinstance(frames[0], FrameImage)
    assert "4 frames" in repr(frames)


def test_frame_image_loads_lazily_and_explains_unreadable_files(tmp_path: Path) -> None:
    from PIL import Image

    Image.fromarray(np.full((6, 8, 3), 7, np.uint8)).save(tmp_path / "f.png")
    frame = FrameImage(str(tmp_path / "f.png"), 3)
    assert frame.size == (8, 6) and int(np.asarray(frame).max()) == 7
    with pytest.raises(OSError, match="cannot be read inside the sandbox"):
        _ = FrameImage(str(tmp_path / "missing.png"), 0).array


def test_images_are_encoded_as_bounded_pngs() -> None:
    png = png_bytes(np.zeros((3000, 1500), dtype=np.float32))
    assert png.startswith(b"\x89PNG")
    assert as_uint8(np.array([[0.0, 0.5, 1.0]])).tolist() == [[0, 127, 255]]
    assert as_uint8(np.array([[True, False]])).tolist() == [[255, 0]]
    with pytest.raises(TypeError, match="image"):
        as_uint8(np.zeros(5))


def test_bounded_text_keeps_head_and_tail() -> None:
    text = BoundedText(head=4, tail=6)
    for chunk in ["abcdef", "ghij", "klmnopqrst"]:
        text.add(chunk)
    assert text.cut == 10 and text.total == 20
    assert text.text().startswith("abcd") and text.text().endswith("opqrst")
    assert "10 characters cut" in text.text()
    short = BoundedText(head=4, tail=6)
    short.add("hello")
    assert (short.text(), short.cut) == ("hello", 0)


def test_collector_strips_ansi_and_finds_the_cell_line() -> None:
    collector = CellCollector(100)
    collector.on_error(
        {
            "ename": "ValueError",
            "evalue": "\x1b[31mbad\x1b[0m",
            "traceback": ["\x1b[0;31mCell In[4], line 7\x1b[0m", "ValueError: bad"],
        }
    )
    result = collector.result("ok", 0.1)
    assert result.status == "error" and result.error is not None
    assert (result.error.evalue, result.error.lineno) == ("bad", 7)
    assert strip_ansi(result.error.traceback) == result.error.traceback
