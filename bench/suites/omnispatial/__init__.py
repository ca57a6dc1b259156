"""OmniSpatial: 1,533 single-image MCQs (4 options, ground truth an int index) in 4 tasks / 10 sub-tasks.

Official scoring (`_official.omnispatial_letter`): the authors' script has three deterministic modes
("direct": the first character; "re": the last "Answer: X", else "A"; "json"); claw picks the mode from
the reply's shape, so a bare letter is read as a bare letter (scoring every bare reply through "re"
turned the score into the share of questions whose truth is A). The published system tries its generic
letter heuristics first and falls back to "A". (The official script pools 5 repeats; claw runs each
item once, like the published system.)
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench.scoring import extract_letter, letter_of
from bench.suites._core import Context, Rules, letter_score, letters, read_json_records, suite_factory
from bench.suites._extract import clean
from bench.suites._official import omnispatial_letter
from bench.suites._skips import RecordSkipped
from bench.suites._specs import get
from claw.suite import Sample, Score

SPEC = get("omnispatial")


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of `OmniSpatial-test/data.json`."""

    id: str | int
    question: str
    options: list[str]
    task_type: str
    sub_task_type: str = ""
    answer: int | str | None = None
    """The official file: the option index (an int, sometimes written as a string)."""
    gt: str | None = None
    """lmms-eval's mirror: the option letter instead of `answer`."""
    image_path: str | None = None
    """lmms-eval's mirror: the image path relative to the data directory."""


def rows(data: Path) -> list[Row | None]:
    """All entries of `data.json`."""
    return read_json_records(data / "OmniSpatial-test" / "data.json", Row)


def _truth(row: Row) -> str:
    """The truth letter from the official int index or the mirror's letter.

    Raises:
        RecordSkipped: the record names no usable answer.
    """
    if isinstance(row.answer, int) or (isinstance(row.answer, str) and row.answer.strip().isdigit()):
        index = int(row.answer)
        if 0 <= index < len(row.options):
            return chr(65 + index)
    if row.gt and row.gt.strip().upper() in letters(len(row.options)):
        return row.gt.strip().upper()
    raise RecordSkipped(str(row.id), f"answer {row.answer!r} / gt {row.gt!r} names none of its options")


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample; the image is `<task_type>/<id before "_">.png` (or the mirror's `image_path`)."""
    ident = str(row.id)
    image = ctx.data / row.image_path if row.image_path else (
        ctx.data / "OmniSpatial-test" / row.task_type / f"{ident.split('_')[0]}.png")  # fmt: skip
    return ctx.sample(
        f"{row.task_type}_{row.sub_task_type}_{ident}", row.question, "letter", _truth(row),
        [ctx.media.image_set("image", [image])], category=row.task_type, options=row.options,
        metadata={"sub_task_type": row.sub_task_type},
    )  # fmt: skip


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """Official: the authors' mode for the reply's shape (case kept); SC: claw's strict chain, else "A"."""
    if rules == "sc":
        return letter_score(extract_letter(clean(answer), 4) or "A", sample)
    letter = omnispatial_letter(answer or "")
    return Score(value=float(letter == letter_of(sample.ground_truth)), metric="exact", extracted=letter)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
