"""VSTI-Bench: 6,042 spatio-temporal questions over ScanNet videos; a record is MCQ iff it has options,
and MCQs are scored against `mc_answer`.

Scoring (both rule sets; VITA-Group/VLM-3R thinking-in-space/lmms_eval/tasks/vstibench/utils.py): the
first space-separated piece with trailing "."s removed; equal to `mc_answer` ignoring case for MCQs;
`float` of it, then MRA with `abs(p - t) / t` (the truth is not made positive, so a negative truth
scores 1 for any number; a truth of 0, which crashes the official code, scores 0). Macro over types.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench.scoring import mra_score
from bench.suites._core import Context, Rules, option_text, read_json_records, suite_factory
from bench.suites._official import vsi_first_token
from bench.suites._official_numeric import float_or_none, mra_divided
from bench.suites._specs import get
from claw.suite import Sample, Score

SPEC = get("vstibench")


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of `test.json`."""

    id: int | str
    video_path: str
    question_type: str
    question: str
    ground_truth: str | float | int
    options: list[str] | None = None
    mc_answer: str | None = None


def rows(data: Path) -> list[Row | None]:
    """All entries."""
    return read_json_records(data / "test.json", Row)


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample over the record's video."""
    mcq = bool(row.options)
    truth = (row.mc_answer or "") if mcq else str(row.ground_truth)
    return ctx.sample(
        str(row.id), row.question, "letter" if mcq else "number", truth,
        [ctx.media.video(ctx.data / row.video_path)], category=row.question_type,
        options=[option_text(o) for o in row.options or []],
    )  # fmt: skip


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """First-piece letter match or first-piece MRA (both rule sets)."""
    token = vsi_first_token(answer or "")
    if sample.answer_format == "letter":
        hit = token.lower() == sample.ground_truth.strip().lower()
        return Score(value=float(hit), metric="exact", extracted=token or None)
    pred = float_or_none(token)
    return msgspec.structs.replace(mra_score(pred, 1.0), value=mra_divided(pred, float(sample.ground_truth)))


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
