"""VSI-Bench debiased ("VSI-U"): about 2,362 video questions over ScanNet / ScanNet++ / ARKitScenes
scenes, MCQ or numeric, in 8 tasks (the three relative-direction difficulties merge into one).

Official scoring (lmms-eval vsibench/utils.py, the task code for the debiased set): MCQ by the first
space-separated piece with trailing "."s removed, equal ignoring case; numbers by `extract_number` (the
first number or run of number words, "twenty-one" included), then MRA (`≤`). The published system
reads numbers from the first token only and also accepts `\\boxed{}`, "X." / "(X)" / "X:" and the
option text for MCQs.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench.scoring import extract_number, mra_score
from bench.suites._core import Context, Rules, letter_score, option_text, read_parquet, suite_factory
from bench.suites._extract import clean
from bench.suites._official import vsi_first_token
from bench.suites._official_numeric import mra_divided, vsi_number
from bench.suites._specs import get
from bench.suites._video_mcq import sc_mcq
from claw.suite import Sample, Score

SPEC = get("vsibench_unbiased")


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One row of `test_debiased.parquet`."""

    id: int | str
    dataset: str
    scene_name: str
    question_type: str
    question: str
    ground_truth: str | float | int
    options: list[str] | None = None


def rows(data: Path) -> list[Row | None]:
    """All rows of the debiased split."""
    return read_parquet([data / "test_debiased.parquet"], Row)


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample over `<dataset>/<scene_name>.mp4`."""
    video = ctx.media.video(ctx.data / row.dataset / f"{row.scene_name}.mp4", row.scene_name)
    return ctx.sample(
        str(row.id), row.question, "letter" if row.options else "number", str(row.ground_truth), [video],
        category=row.question_type, options=[option_text(o) for o in row.options or []],
        metadata={"dataset": row.dataset, "scene_name": row.scene_name},
    )  # fmt: skip


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """First-token MCQ / first-number MRA (official) or the published system's first-token MRA."""
    reply = clean(answer)
    if sample.answer_format == "letter":
        if rules == "sc":
            return letter_score(sc_mcq(reply, sample.options), sample)
        token = vsi_first_token(answer or "")
        return Score(value=float(token.lower() == sample.ground_truth.strip().lower()), metric="exact",
                     extracted=token or None)  # fmt: skip
    if rules == "sc":
        pred = extract_number(reply, position="first_token", unwrap_answer=False)
        return mra_score(pred, float(sample.ground_truth), zero="fail")
    pred = vsi_number(answer or "")
    return msgspec.structs.replace(mra_score(pred, 1.0), value=mra_divided(pred, float(sample.ground_truth)))


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
