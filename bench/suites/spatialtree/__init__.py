"""SpatialTree-Bench: 6,300 questions over images or videos: MCQs with up to 11 options (A–K), open
numeric answers, and yes/no judgements, each naming its metric in `extra_info.metricfunc`.

Official scoring (`_official`, after lmms-eval's spatialtreebench task): `multichoiceeval` by the
authors' pattern list, "Answer:", bracket/space/dot candidates and option text (a random pick scored
at its expected value 1/K); `meanrelativeacc` on the first number outside coordinate pairs; `judge` by
the last "yes"/"no" substring; LLM- or simulator-judged metrics are left unscored; an unknown metric
scores 0. The headline is the authors' weighted hierarchy over leaf means (`_official.HIERARCHY`; the
category of a result is its leaf), leaving leaves without scored results out (the authors count them
0). The published system: letters exactly; the MRA family by MRA on the first number (number words
first); judge like the authors; micro over scored samples.
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
from bench.suites.spatialtree import _official as official
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
    spatree3: str = ""
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


def rows(data: Path) -> list[Row | None]:
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


def _leaf(info: ExtraInfo) -> str:
    """The deepest `spatree*` tag: the leaf of the authors' hierarchy this sample scores under."""
    return info.spatree3 or info.spatree2 or info.spatree1 or info.spatree0 or "default"


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample over its images and/or videos."""
    info = msgspec.json.decode(row.extra_info or "{}", type=ExtraInfo)
    return ctx.sample(
        str(row.session_id), row.question, _format(row, info.metricfunc), str(row.answer), _media(row, ctx),
        category=_leaf(info), options=[option_text(o) for o in row.option or [] if o],
        metadata={"metricfunc": info.metricfunc, "level": info.spatree0, "subcategory": info.spatree2,
                  "hint": row.hint or "", "question_type": row.question_type,
                  "raw_options": msgspec.json.encode(row.option or []).decode()},
    )  # fmt: skip


def judge(reply: str) -> str | None:
    """Whichever of yes / no (or "not" / "know") occurs last as a substring."""
    found = re.findall(r"yes|no", reply.lower())
    return found[-1] if found else None


_MCQ = chain(boxed_letter, tag_letter, first_mark, first_token_letter, single_letter)


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """Score by the row's metric."""
    if rules == "official" and answer is not None:  # no reply at all is never given a random pick's 1/K
        return _official_score(sample, answer)
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


NOT_REPRODUCED = frozenset(
    {"gpteval", "cogmapeval", "affmask", "manipulateeval", "agenticnaveval", "gravityeval"}
)
"""Official metrics that need an LLM judge or a simulator: claw leaves them unscored."""


def _official_score(sample: Sample, reply: str) -> Score:
    metric, truth = str(sample.metadata.get("metricfunc", "")), sample.ground_truth
    if metric == "multichoiceeval" and sample.metadata.get("question_type") != "open":
        raw = msgspec.json.decode(str(sample.metadata.get("raw_options") or "[]"), type=list[str | None])
        got = official.multichoice(reply, raw)
        if isinstance(got, float):
            return Score(value=got, metric="exact", extracted=None)
        return Score(value=float(got == truth), metric="exact", extracted=got)
    if metric in {"multichoiceeval", "meanrelativeacc"}:
        return Score(value=official.mean_relative(reply, float(truth)), metric="mra", extracted=None)
    if metric == "judge":
        got = official.judge(reply)
        return Score(value=float(got == truth.lower()), metric="exact", extracted=got)
    if metric in NOT_REPRODUCED:
        return Score(value=0.0, metric=UNSCORED, extracted=None)
    return Score(value=0.0, metric="exact", extracted=None)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
