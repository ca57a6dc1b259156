"""Answer extraction and scoring shared by every suite: MCQ letters, yes/no, numbers (with units), free
text, Mean Relative Accuracy, and the aggregation of per-sample scores into benchmark figures.

The four `score_*` functions are claw's own strict rules (one answer after unwrapping `\\boxed{}`,
`<answer>` tags and "(X)"/"X." forms) and are what the synthetic suite uses. The benchmark suites in
`bench/suites/` compose the primitives here into each benchmark's official rule (and the published
system's rule where the two differ); this module knows no benchmark by name. Scorers never convert
units: they compare raw numbers, as every public benchmark does. Reading numbers and units from text
lives in `bench._numbers` (re-exported here).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

import numpy as np

from bench._numbers import Quantity, earliest_number, parse_float, parse_quantity, word_number
from claw.suite import Score

__all__ = [
    "MRA_THRESHOLDS",
    "UNPARSED",
    "UNSCORED",
    "Quantity",
    "ZeroRule",
    "boxed",
    "exact_score",
    "extract_letter",
    "extract_number",
    "extract_yes_no",
    "first_token",
    "group_mean",
    "letter_of",
    "macro_mean",
    "micro_mean",
    "mra",
    "mra_score",
    "normalize_text",
    "parse_float",
    "parse_quantity",
    "score_mcq",
    "score_numeric",
    "score_text",
    "score_yes_no",
    "strip_think",
    "tagged_answer",
    "unwrap",
]

UNSCORED = "unscored"
"""The metric of a result the benchmark's own scorer leaves out of every denominator."""
UNPARSED = "unparsed"
"""The metric of a reply the official extractor could not read where the benchmark still counts it
(Video-MME-v2 keeps such a question in its group with the value -1, which its group formula treats as
truthy)."""

MRA_THRESHOLDS: tuple[float, ...] = tuple(
    float(x) for x in np.linspace(0.5, 0.95, int((0.95 - 0.5) / 0.05 + 2))
)
"""θ ∈ {0.50, 0.55, …, 0.95}: the 10 confidence thresholds, as numpy builds them in the public scorers."""

ZeroRule = Literal["exact", "fail", "absolute"]
"""What MRA does when the ground truth is 0: 1 iff the prediction is 0 / always 0 / use |p − t|."""

_BOXED_RE = re.compile(r"\\boxed\s*\{")
_THINK_RE = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_ANSWER_TAG_RE = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
# --- text unwrapping -------------------------------------------------------------------------------


def strip_think(text: str) -> str:
    """Drop `<think>…</think>` blocks and anything before a dangling `</think>`."""
    text = _THINK_RE.sub("", text)
    return text.rsplit("</think>", 1)[-1]


def boxed(text: str, *, last: bool = True) -> str | None:
    """Content of the last (or first) `\\boxed{…}`, honouring nested braces; None when there is none."""
    starts = [m.end() for m in _BOXED_RE.finditer(text)]
    if not starts:
        return None
    start = starts[-1] if last else starts[0]
    depth = 1
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i].strip()
    return text[start:].strip()


def tagged_answer(text: str) -> str | None:
    """Content of the last `<answer>…</answer>` block, or None."""
    found = _ANSWER_TAG_RE.findall(text)
    return found[-1].strip() if found else None


def unwrap(text: str) -> str:
    """The answer part of a reply: think blocks dropped, then `\\boxed{}` or `<answer>` content if any."""
    text = strip_think(text).strip()
    inner = boxed(text)
    if inner is None:
        inner = tagged_answer(text)
    return text if inner is None else inner


def first_token(text: str) -> str:
    """The first whitespace-separated token with one trailing "." removed ("" for an empty reply)."""
    parts = text.strip().split()
    return parts[0].removesuffix(".") if parts else ""


def normalize_text(text: str) -> str:
    """Lowercase, strip quotes/markdown/trailing punctuation and collapse whitespace."""
    text = re.sub(r"[*`\"'“”‘’]", "", text.strip().lower())
    return " ".join(text.strip(" .,;:!?").split())


# --- letters ---------------------------------------------------------------------------------------


def letter_of(ground_truth: str) -> str:
    """The option letter of a ground truth written as `B`, `(B)`, `B.`, `B. right` or `B: right`."""
    m = re.match(r"\s*\(?([A-Za-z])(?:\)|\.|:|\s|$)", ground_truth)
    return m.group(1).upper() if m else ground_truth.strip().upper()


def _letters(n_options: int) -> str:
    return "".join(chr(65 + i) for i in range(max(1, min(n_options, 26))))


_MARKER_RE = (
    r"(?:final\s+answer|correct\s+answer|best\s+answer|answer|choice|option)"
    r"(?:\s+is|\s+would\s+be|\s+should\s+be)?\s*[:=]?\s*(?:option\s+)?"
)


def _bare_letter(text: str, letters: str) -> str | None:
    """`B`, `(B)`, `B.`, `B)`, `B:`, `**B**`, `[B]`, or `B. text` / `B) text` at the start."""
    cleaned = re.sub(r"[*_`\[\]]", "", text).strip()
    m = re.fullmatch(rf"\(?([{letters}])\)?[.:)]?", cleaned, re.IGNORECASE)
    if m is None:
        m = re.match(rf"\(?([{letters}])(?:\)|\.|:)\s", cleaned + " ")
        if m is not None and not m.group(1).isupper():
            m = None
    return m.group(1).upper() if m else None


def _marker_letter(text: str, letters: str) -> str | None:
    """The letter after the last answer marker ("Answer: B", "the answer is (C)", "option D")."""
    pattern = rf"{_MARKER_RE}[*(\[\s]*([{letters}])(?![A-Za-z])"
    found = re.findall(pattern, re.sub(r"[*_`]", "", text), re.IGNORECASE)
    return found[-1].upper() if found else None


def _parenthesised(text: str, letters: str) -> str | None:
    """The last "(X)" in the text."""
    found: list[str] = re.findall(rf"\(([{letters}])\)", text)
    return found[-1] if found else None


def extract_letter(answer: str | None, n_options: int) -> str | None:
    """claw's strict MCQ extraction: one option letter, or None.

    Order: unwrap `\\boxed{}`/`<answer>`; a bare letter in any common wrapping; the letter after the last
    answer marker; the last "(X)". Lowercase letters count only when they stand alone.
    """
    if not answer:
        return None
    letters = _letters(n_options)
    text = unwrap(answer)
    for rule in (_bare_letter, _marker_letter, _parenthesised):
        found = rule(text, letters)
        if found is not None:
            return found
    return None


# --- yes/no ----------------------------------------------------------------------------------------


def extract_yes_no(answer: str | None, *, last: bool = False) -> str | None:
    """The first (or last) whole word "yes"/"no" (case-insensitive) as "yes"/"no"; None when absent."""
    if not answer:
        return None
    found: list[str] = re.findall(r"\b(yes|no)\b", unwrap(answer), re.IGNORECASE)
    if not found:
        return None
    return (found[-1] if last else found[0]).lower()


# --- numbers ---------------------------------------------------------------------------------------


def extract_number(
    answer: str | None,
    *,
    position: Literal["first", "last", "first_token"] = "first",
    words: Literal["none", "first", "ordered"] = "none",
    unwrap_answer: bool = True,
) -> float | None:
    """A number read from a reply; None when there is none.

    Args:
        answer: the reply.
        position: "first"/"last" number anywhere (units allowed after it), or "first_token": the first
            whitespace token must itself be a number ("2.5 meters" -> 2.5, "About 2.5" -> None).
        words: "ordered": number words zero…twenty are tried first, the first word in list order winning
            (SC's SPBench/SpatialTree rule); "first": the earliest number word or digit in the text.
        unwrap_answer: read `\\boxed{}`/`<answer>` content first and take a reply that is one number whole.
    """
    if not answer:
        return None
    text = unwrap(answer) if unwrap_answer else answer
    whole = parse_float(text)
    if whole is not None and unwrap_answer:
        return whole
    if position == "first_token":
        return parse_float(first_token(text))
    if words == "ordered" and (value := word_number(text, ordered=True)) is not None:
        return value
    quantity = parse_quantity(text, position=position)
    if words == "first":
        return earliest_number(text, quantity)
    return quantity.value if quantity else None


# --- MRA -------------------------------------------------------------------------------------------


def mra(prediction: float | None, truth: float, *, zero: ZeroRule = "exact", strict: bool = False) -> float:
    """Mean Relative Accuracy: the share of θ in `MRA_THRESHOLDS` with |p − t|/|t| ≤ 1 − θ.

    Args:
        prediction: the extracted number; None (nothing parseable) scores 0.
        truth: the ground truth.
        zero: the rule when `truth` is 0 (see `ZeroRule`).
        strict: use `<` instead of `≤` (VADAR's Omni3D rule).
    """
    if prediction is None or not math.isfinite(prediction):
        return 0.0
    if truth == 0:
        if zero == "exact":
            return float(prediction == 0)
        if zero == "fail":
            return 0.0
        rel = abs(prediction - truth)
    else:
        rel = abs(prediction - truth) / abs(truth)
    hits = sum((rel < 1 - t) if strict else (rel <= 1 - t) for t in MRA_THRESHOLDS)
    return hits / len(MRA_THRESHOLDS)


def mra_score(
    prediction: float | None, truth: float, *, zero: ZeroRule = "exact", strict: bool = False
) -> Score:
    """`mra` wrapped as a `Score` (metric "mra")."""
    value = mra(prediction, truth, zero=zero, strict=strict)
    return Score(value=value, metric="mra", extracted=None if prediction is None else repr(prediction))


def exact_score(extracted: str | None, truth: str, *, metric: str = "exact") -> Score:
    """1 when `extracted` equals `truth` case-insensitively, else 0."""
    hit = extracted is not None and extracted.strip().lower() == truth.strip().lower()
    return Score(value=float(hit), metric=metric, extracted=extracted)


# --- claw's own strict scorers (stable signatures: the synthetic suite calls these) -----------------


def score_mcq(answer: str | None, ground_truth_letter: str, n_options: int) -> Score:
    """Exact match of the extracted option letter against the ground truth letter."""
    return exact_score(extract_letter(answer, n_options), letter_of(ground_truth_letter))


def score_numeric(answer: str | None, ground_truth: float) -> Score:
    """MRA (θ = 0.50…0.95, `≤`) of the number in `answer`; ground truth 0 scores 1 iff the answer is 0."""
    return mra_score(extract_number(answer), ground_truth)


def score_yes_no(answer: str | None, ground_truth: str) -> Score:
    """Exact match of the first yes/no word in `answer` against "yes"/"no" (any case, trailing ".")."""
    return exact_score(extract_yes_no(answer), normalize_text(ground_truth))


def score_text(answer: str | None, ground_truth: str) -> Score:
    """Exact match after `normalize_text` on both sides (unwrapping `\\boxed{}`/`<answer>` first)."""
    extracted = None if not answer else normalize_text(unwrap(answer))
    return exact_score(extracted, normalize_text(ground_truth))


# --- aggregation -----------------------------------------------------------------------------------


def micro_mean(scores: Iterable[float]) -> float:
    """Mean over samples; NaN when there are none."""
    values = list(scores)
    return sum(values) / len(values) if values else math.nan


def macro_mean(pairs: Iterable[tuple[str, float]]) -> float:
    """Unweighted mean of per-group means over (group, score) pairs; NaN when there are none."""
    groups: dict[str, list[float]] = {}
    for group, score in pairs:
        groups.setdefault(group, []).append(score)
    return micro_mean(micro_mean(v) for v in groups.values())


def group_mean(
    rows: Iterable[tuple[str, float]], group_score: Callable[[str, Sequence[float]], float]
) -> float:
    """Mean over groups of `group_score(group, scores in row order)`; NaN when there are none."""
    groups: dict[str, list[float]] = {}
    for group, score in rows:
        groups.setdefault(group, []).append(score)
    return micro_mean(group_score(k, v) for k, v in groups.items())
