"""SpatialTree-Bench: 6,300 questions over images or videos: MCQs with up to 11 options (A–K), open
numeric answers, and yes/no judgements, each naming its metric in `extra_info.metricfunc`.

Scoring by metric: letters exactly; the MRA family (meanrelativeacc, angulardifference, l2distance, …)
by MRA on the first number (number words first, truth 0 scores 0); judge items by whichever of yes/no
occurs last as a substring ("not" and "know" count as no); model-judged metrics (gpteval, …) are left
unscored (metric "unscored") and out of the denominator.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from bench.scoring import exact_score, extract_number, mra_score, normalize_text, unwrap
from bench.suites._core import Context, Rules, letter_score, option_text, read_parquet, suite_factory
from bench.suites._extract import boxed_letter, chain, clean, first_token_letter, single_letter, tag_letter
from bench.suites._specs import get
from bench.suites._video_mcq import first_mark
from claw.suite import AnswerFormat, Sample, Score, Video

SPEC = get("spatialtree")
MRA_METRICS = frozenset({"meanrelativeacc", "meanrelativeacc2", "angulardifference", "l2distance"})
EXACT_METRICS = frozenset({"accuracy", "exact_match", "successrate"})
UNSCORED = "unscored"


class ExtraInfo(msgspec.Struct, frozen=True, kw_only=True):
    """The JSON inside `extra_info`."""

    spatree0: str = ""
    spatree1: str = ""
    spatree2: str = ""
    metricfunc: str = "accuracy"


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One row of `annotations_plain.parquet`."""

    session_id: int | str
    question: str
    question_type: str
    answer: str | float | int
    extra_info: str = "{}"
    option: list[str | None] | None = None
    hint: str | None = None
    image: list[str] | None = None
    video: list[str] | None = None


def rows(data: Path) -> list[Row]:
    """All rows."""
    return read_parquet([data / "annotations_plain.parquet"], Row)


def _format(row: Row, metric: str) -> AnswerFormat:
    if row.question_type == "multiple-choice":
        return "letter"
    if row.question_type == "judge":
        return "yes_no"
    return "number" if metric in MRA_METRICS else "text"


def _media(row: Row, ctx: Context) -> list[Video]:
    videos = [ctx.media.video(ctx.data / v) for v in row.video or []]
    if row.image:
        videos.append(ctx.media.image_set("images", [ctx.data / p for p in row.image]))
    return videos


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample over its images and/or videos."""
    info = msgspec.json.decode(row.extra_info or "{}", type=ExtraInfo)
    return ctx.sample(
        str(row.session_id), row.question, _format(row, info.metricfunc), str(row.answer), _media(row, ctx),
        category=info.spatree1 or "default", options=[option_text(o) for o in row.option or [] if o],
        metadata={"metricfunc": info.metricfunc, "level": info.spatree0, "subcategory": info.spatree2,
                  "hint": row.hint or ""},
    )  # fmt: skip


def judge(reply: str) -> str | None:
    """Whichever of yes / no (or "not" / "know") occurs last as a substring."""
    found = re.findall(r"yes|no", reply.lower())
    return found[-1] if found else None


_MCQ = chain(boxed_letter, tag_letter, first_mark, first_token_letter, single_letter)


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """Score by the row's metric."""
    reply, metric = clean(answer), str(sample.metadata.get("metricfunc", "accuracy"))
    if sample.answer_format == "letter":
        return letter_score(_MCQ(reply, "ABCDEFGHIJK"), sample)
    if sample.answer_format == "yes_no":
        return exact_score(judge(reply), normalize_text(sample.ground_truth))
    if metric in MRA_METRICS:
        return mra_score(extract_number(reply, words="ordered"), float(sample.ground_truth), zero="fail")
    if metric in EXACT_METRICS:
        return exact_score(normalize_text(unwrap(reply)), normalize_text(sample.ground_truth))
    return Score(value=0.0, metric=UNSCORED, extracted=None)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
