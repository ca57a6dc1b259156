"""Omni3D-Bench: 501 questions over 201 ARKitScenes images, answered by a float, an int or a string.

Official scoring (VADAR, also VLMEvalKit): floats by MRA with strict `<` (|p| when the truth is 0), ints
by rounding then exact match, strings case-insensitively (yes/no by substring, true/false accepted).
The published system's option: a float counts 1 when its relative error is below 0.1. Both extract with
`\\boxed{}` → the whole reply as a number → the last number → the lowercased text without quotes.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from bench.scoring import exact_score, extract_number, mra_score, normalize_text, unwrap
from bench.suites._core import Context, Rules, read_json, suite_factory
from bench.suites._extract import clean
from bench.suites._specs import get
from claw.suite import AnswerFormat, Sample, Score

SPEC = get("omni3d")


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of `annotations.json`'s `questions`."""

    question_index: int
    image_filename: str
    question: str
    answer: float | int | str
    answer_type: str


class _File(msgspec.Struct, frozen=True):
    questions: list[Row]


def rows(data: Path) -> list[Row]:
    """All questions of `annotations.json`."""
    return read_json(data / "annotations.json", _File).questions


def _format(row: Row) -> AnswerFormat:
    if row.answer_type in {"float", "int"}:
        return "number"
    return "yes_no" if str(row.answer).lower() in {"yes", "no"} else "text"


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample over one image under `images/`."""
    frame = ctx.media.image_file(ctx.data / "images" / row.image_filename)
    return ctx.sample(
        str(row.question_index), row.question, _format(row), str(row.answer),
        [ctx.media.image_set(row.image_filename, [Path(frame.path)])],
        category=row.answer_type, metadata={"answer_type": row.answer_type},
    )  # fmt: skip


def _extract_text(reply: str) -> str:
    return normalize_text(unwrap(reply).replace('"', "").replace("'", ""))


def _yes_no_substring(text: str) -> str | None:
    if re.search(r"yes|true", text):
        return "yes"
    return "no" if re.search(r"no|false", text) else None


def _float(sample: Sample, reply: str, rules: Rules) -> Score:
    value = extract_number(reply, position="last")
    truth = float(sample.ground_truth)
    if rules == "sc":
        rel = math_rel(value, truth)
        return Score(value=float(rel is not None and rel < 0.1), metric="exact", extracted=repr(value))
    return mra_score(value, truth, zero="absolute", strict=True)


def math_rel(value: float | None, truth: float) -> float | None:
    """Relative error (|p| when the truth is 0), None without a prediction."""
    if value is None:
        return None
    return abs(value - truth) / abs(truth) if truth else abs(value)


def _string(sample: Sample, reply: str, rules: Rules) -> Score:
    truth = sample.ground_truth.strip().lower()
    text = _extract_text(reply)
    if rules == "official" and truth in {"yes", "no"}:
        return exact_score(_yes_no_substring(text), truth)
    return exact_score(text, truth)


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """Score by the row's answer type."""
    reply = clean(answer)
    kind = sample.metadata.get("answer_type")
    if kind == "float":
        return _float(sample, reply, rules)
    if kind == "int":
        value = extract_number(reply, position="last")
        hit = value is not None and round(value) == int(float(sample.ground_truth))
        return Score(value=float(hit), metric="exact", extracted=None if value is None else repr(value))
    return _string(sample, reply, rules)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
