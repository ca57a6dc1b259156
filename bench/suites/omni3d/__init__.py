"""Omni3D-Bench: 501 questions over 201 ARKitScenes images, answered by a float, an int or a string.

Official scoring (VLMEvalKit vlmeval/dataset/utils/omni3dbench.py, the VADAR authors' rule): the text
inside `<ans>…</ans>`, else the whole reply; ints by `int(text)` (no rounding: "3.0" and "three" fail);
yes/no by substring ("true"/"false" accepted); other strings by exact equality with the lower-cased
reply (no stripping); floats by `float(text)` and, per sample, the share of the literal thresholds
0.50, 0.45, …, 0.05 that |t − p| / t is strictly below. The authors report four separate numbers —
yes/no accuracy, multiple-choice accuracy, count accuracy, other-numeric MRA — which are claw's four
categories; the overall is their sample-weighted mean (the published system's overall).
The published system: `\\boxed{}` → the whole reply as a number → the last number → the lowercased
text without quotes; ints rounded; floats by the same strict MRA (|p| when the truth is 0), which is what
its overall averages (its page's per-sample ✓, rel < 0.1, is display only).
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from bench.scoring import exact_score, extract_number, normalize_text, unwrap
from bench.suites._core import Context, Rules, read_json_records, suite_factory
from bench.suites._extract import clean
from bench.suites._official_numeric import float_or_none
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


def rows(data: Path) -> list[Row | None]:
    """All questions of `annotations.json`."""
    return read_json_records(data / "annotations.json", Row, key="questions")


def _format(row: Row) -> AnswerFormat:
    if row.answer_type in {"float", "int"}:
        return "number"
    return "yes_no" if str(row.answer).lower() in {"yes", "no"} else "text"


def _category(row: Row) -> str:
    """The authors' four reported groups."""
    if row.answer_type == "int":
        return "count"
    if row.answer_type == "float":
        return "other numeric"
    return "yes/no" if str(row.answer) in {"yes", "no"} else "multiple choice"


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample over one image under `images/`."""
    frame = ctx.media.image_file(ctx.data / "images" / row.image_filename)
    return ctx.sample(
        str(row.question_index), row.question, _format(row), str(row.answer),
        [ctx.media.image_set(row.image_filename, [Path(frame.path)])],
        category=_category(row), metadata={"answer_type": row.answer_type},
    )  # fmt: skip


def _extract_text(reply: str) -> str:
    return normalize_text(unwrap(reply).replace('"', "").replace("'", ""))


def _yes_no_substring(text: str) -> str | None:
    if re.search(r"yes|true", text):
        return "yes"
    return "no" if re.search(r"no|false", text) else None


def _float(sample: Sample, reply: str, rules: Rules) -> Score:
    """The published system's float score: the VADAR MRA its overall uses (strict `<` over the literal
    thresholds, |p| when the truth is 0). Its page shows a ✓ for rel < 0.1 per sample, which is not what
    it averages."""
    value = extract_number(reply, position="last")
    rel = math_rel(value, float(sample.ground_truth))
    hits = 0 if rel is None else sum(rel < t for t in OFFICIAL_THRESHOLDS)
    return Score(value=hits / len(OFFICIAL_THRESHOLDS), metric="mra", extracted=repr(value))


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
    if rules == "official":
        return _official(sample, answer or "")
    reply = clean(answer)
    kind = sample.metadata.get("answer_type")
    if kind == "float":
        return _float(sample, reply, rules)
    if kind == "int":
        value = extract_number(reply, position="last")
        hit = value is not None and round(value) == int(float(sample.ground_truth))
        return Score(value=float(hit), metric="exact", extracted=None if value is None else repr(value))
    return _string(sample, reply, rules)


OFFICIAL_THRESHOLDS = (0.5, 0.45, 0.40, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05)
"""Written out as in the official file (not 1 − θ), so 5%-step boundaries fall where the authors' do."""


def _official(sample: Sample, reply: str) -> Score:
    text = reply.split("<ans>")[1].split("</ans>")[0] if "<ans>" in reply else reply
    kind, truth = sample.metadata.get("answer_type"), sample.ground_truth
    if kind == "int":
        value = _int_or_none(text)
        return Score(value=float(value is not None and value == int(float(truth))), metric="exact",
                     extracted=text.strip() or None)  # fmt: skip
    if kind == "float":
        pred, gt = float_or_none(text.strip()), float(truth)
        hits = 0 if pred is None or gt == 0 else sum(abs(gt - pred) / gt < t for t in OFFICIAL_THRESHOLDS)
        return Score(value=hits / len(OFFICIAL_THRESHOLDS), metric="mra", extracted=text.strip() or None)
    lowered = text.lower()
    if truth in {"yes", "no"}:
        hit = truth in lowered or ("true" if truth == "yes" else "false") in lowered
    else:
        hit = truth == lowered
    return Score(value=float(hit), metric="exact", extracted=text.strip() or None)


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
