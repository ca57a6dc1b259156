"""VSTI-Bench: 6,042 spatio-temporal questions over ScanNet videos; a record is MCQ iff it has options,
and MCQs are scored against `mc_answer`.

Scoring (both rule sets): the first token with a trailing "." removed; a case-insensitive letter match
for MCQs, a float then MRA (ground truth 0 scores 0) for numbers. Macro over question types.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench.scoring import extract_number, mra_score
from bench.suites._core import Context, Rules, letter_score, option_text, read_json, suite_factory
from bench.suites._extract import clean, first_token_letter
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


def rows(data: Path) -> list[Row]:
    """All entries."""
    return read_json(data / "test.json", list[Row])


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
    """First-token letter match or first-token MRA."""
    reply = clean(answer)
    if sample.answer_format == "letter":
        return letter_score(first_token_letter(reply, "ABCDEF"), sample)
    pred = extract_number(reply, position="first_token", unwrap_answer=False)
    return mra_score(pred, float(sample.ground_truth), zero="fail")


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
