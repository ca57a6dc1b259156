"""OSI-Bench: 8,766 questions over 1,000 videos, MCQ or numeric, in up to 12 categories.

Dispatch is on `question_type` (mcq / numerical). Official rules (lmms-eval `osi_bench/utils.py`):
letters by `_official.osi_letter` (a capital letter between brackets, spaces, commas or stops, else one
opening the reply); numbers by the last number after removing commas; the published system takes
`\\boxed{}` then the first number and scores any category outside its 9 as 0. MRA is zero-aware for
speed and displacement (τ = 0.3) and trajectory length (τ = 2.0): a zero truth is hit by a prediction
below τ, otherwise τ stands in for it.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench.scoring import extract_number, mra, mra_score
from bench.suites._core import Context, Rules, letter_score, option_text, read_parquet, suite_factory
from bench.suites._extract import clean
from bench.suites._official import osi_letter
from bench.suites._official_numeric import osi_last_number
from bench.suites._specs import get
from bench.suites._video_mcq import sc_mcq
from claw.suite import Sample, Score

SPEC = get("osibench")
TAU = {"absolute_speed": 0.3, "absolute_displacement": 0.3, "trajectory_length": 2.0}
SC_CATEGORIES = frozenset({
    "trajectory_description", "relative_distance", "relative_direction_categorical_ordinal", "absolute_speed",
    "absolute_displacement", "absolute_distance", "object_3d_localization", "depth_aware_counting",
    "trajectory_length",
})  # fmt: skip


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One row of `data.parquet`."""

    index: int | str
    question: str
    answer: str | float | int
    question_type: str
    category: str
    file_name: str
    options: list[str] | None = None
    video_length: float | None = None


def rows(data: Path) -> list[Row | None]:
    """All rows."""
    return read_parquet([data / "data.parquet"], Row)


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample over one video (found at `file_name`, or under `videos/`)."""
    mcq = row.question_type == "mcq"
    return ctx.sample(
        str(row.index), row.question, "letter" if mcq else "number", str(row.answer),
        [ctx.media.video(ctx.find(row.file_name, "videos"), "video")], category=row.category,
        options=[option_text(o) for o in row.options or []], metadata={"video_length": row.video_length},
    )  # fmt: skip


def zero_aware(pred: float | None, truth: float, category: str) -> float:
    """MRA with OSI's zero handling."""
    tau = TAU.get(category)
    if truth == 0 and tau is not None:
        return 1.0 if pred is not None and pred < tau else mra(pred, tau)
    return mra(pred, truth)


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """MCQ letter match or zero-aware MRA."""
    reply = clean(answer)
    if rules == "sc" and sample.category not in SC_CATEGORIES:
        return Score(value=0.0, metric="exact", extracted=None)
    if sample.answer_format == "letter":
        if rules == "sc":
            return letter_score(sc_mcq(reply, sample.options), sample)
        letter = osi_letter(answer or "")
        return Score(
            value=float(letter == sample.ground_truth.strip().upper()), metric="exact", extracted=letter
        )
    pred = extract_number(reply) if rules == "sc" else osi_last_number(answer or "")
    value = zero_aware(pred, float(sample.ground_truth), sample.category)
    return msgspec.structs.replace(mra_score(pred, 1.0), value=value)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
