"""The official numeric rules of the benchmarks with number answers, reimplemented from their authors'
code (files named per function and in `bench/suites/RULES.md`): how a number is read from a reply
(first token, first or last number, number words) and the MRA variant each applies (`≤` or `<`, which
side divides, what a zero truth does).
"""

from __future__ import annotations

import math
import re

from bench.scoring import MRA_THRESHOLDS

__all__ = [
    "float_or_none",
    "mra_divided",
    "osi_last_number",
    "spar_number",
    "spar_view_change",
    "spbench_number",
    "vsi_number",
]

_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
    "thousand": 1000,
}  # fmt: skip


def float_or_none(text: str | None) -> float | None:
    """Python's `float(text)`, None where it raises (the official `to_float`)."""
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def mra_divided(prediction: float | None, truth: float, *, zero: str = "score0") -> float:
    """MRA as thinking-in-space writes it: `abs(p - t) / t` (t not made positive) against 1 − θ with
    `≤`. A truth of 0 divides by zero in the official code; here `zero` says what to do instead:
    "score0" (0), "absolute" (|p − t|, SPAR), "exact" (1 iff p == 0, OSI)."""
    if prediction is None or math.isnan(prediction):
        return 0.0
    if truth == 0:
        if zero == "exact":
            return float(prediction == 0)
        if zero != "absolute":
            return 0.0
        error = abs(prediction - truth)
    else:
        error = abs(prediction - truth) / truth
    return sum(error <= 1 - t for t in MRA_THRESHOLDS) / len(MRA_THRESHOLDS)


def vsi_number(reply: str) -> float | None:
    """VSI-Bench numeric answers (lmms-eval vsibench/utils.py `extract_number`, the current task code
    for the debiased set): the first number, or the first run of English number words ("twenty-one",
    "three hundred and five"), whichever starts first."""
    text = reply.strip().lower()
    if not text:
        return None
    digit = re.search(r"-?\d+(?:\.\d+)?", text)
    run: list[str] = []
    run_at: int | None = None
    for m in re.finditer(r"[a-z]+", text):
        word = m.group(0)
        if run_at is None:
            if word in _WORDS:
                run_at, run = m.start(), [word]
        elif word == "and":
            continue
        elif word in _WORDS:
            run.append(word)
        else:
            break
    if digit is not None and (run_at is None or digit.start() < run_at):
        return float(digit.group(0))
    return None if run_at is None else _words_value(run)


def _words_value(words: list[str]) -> float:
    total = current = 0
    for word in words:
        value = _WORDS[word]
        if value == 100:
            current = max(current, 1) * 100
        elif value == 1000:
            total += max(current, 1) * 1000
            current = 0
        else:
            current += value
    return float(total + current)


_SPBENCH_WORDS = (
    ("one", 1), ("two", 2), ("three", 3), ("four", 4), ("five", 5), ("six", 6), ("seven", 7),
    ("eight", 8), ("nine", 9), ("ten", 10), ("eleven", 11), ("twelve", 12), ("thirteen", 13),
    ("fourteen", 14), ("fifteen", 15), ("sixteen", 16), ("seventeen", 17), ("eighteen", 18),
    ("nineteen", 19), ("twenty", 20), ("thirty", 30), ("forty", 40), ("fifty", 50), ("sixty", 60),
    ("seventy", 70), ("eighty", 80), ("ninety", 90), ("zero", 0), ("a", 1), ("an", 1),
)  # fmt: skip
"""SpatialLadder's word table in its order: the first word (in this order) found as a whole word wins."""


def spbench_number(reply: str) -> float | None:
    """SPBench (ZJU-REAL/SpatialLadder eval_spld/data_utils/vsi_utils.py `fuzzy_matching_num`): the
    first table word present as a whole word (so "a"/"an" read as 1 and "twenty-one" as 1), else the first
    unsigned number."""
    text = reply.strip().lower()
    for word, value in _SPBENCH_WORDS:
        if re.search(rf"\b{word}\b", text):
            return float(value)
    m = re.search(r"(\d+(\.\d+)?)", text)
    return float(m.group(1)) if m else None


def spar_number(reply: str, multi_view: bool) -> float | None:
    """SPAR-Bench (LogosRoboticsGroup/SPAR sparbench/utils.py `process_na`): unsigned numbers not after
    "^"; the first for single-view tasks, the last for `_mv` tasks (-1 when an `_mv` reply has none)."""
    found = re.findall(r"(?<!\^)\d+\.\d+|(?<!\^)\d+", reply)
    if multi_view:
        return float(found[-1]) if found else -1.0
    return float(found[0]) if found else None


def osi_last_number(reply: str) -> float | None:
    """OSI-Bench (lmms-eval osi_bench/utils.py `extract_number_from_prediction`): commas removed, the
    last signed number."""
    found = re.findall(r"[+-]?\d+(?:\.\d+)?", reply.strip().replace(",", ""))
    return float(found[-1]) if found else None


_VCI_AXES = (
    ("move_right", "move_left"), ("move_up", "move_down"), ("move_forward", "move_backward"),
    ("rotate_right", "rotate_left"), ("rotate_up", "rotate_down"),
)  # fmt: skip


def _instruction(text: str) -> dict[str, float]:
    """`k:v,k:v` as the official `parse_instruction` reads it; raises ValueError on anything else."""
    pairs = [item.split(":") for item in text.split(",")]
    if any(len(p) != 2 for p in pairs):
        raise ValueError(text)
    return {k: float(v) for k, v in pairs}


def spar_view_change(reply: str, truth: str) -> float:
    """SPAR-Bench view_change_infer (`compute_vci_metric`): both strings parsed as "key:value" pairs
    split on "," (keys verbatim: a space before a key hides it); 5 axes, each the positive key minus the
    opposite one (`rotate_*`; `turn_*` keys do not count); per axis an MRA with the arguments swapped, so
    the error is measured against the prediction (|t − p| / p, |t − p| when p = 0); the mean of the 5.
    A reply that does not parse scores 0."""
    try:
        got, want = _instruction(reply), _instruction(truth)
    except ValueError:
        return 0.0
    values = []
    for pos, neg in _VCI_AXES:
        p = got.get(pos, 0.0) - got.get(neg, 0.0)
        t = want.get(pos, 0.0) - want.get(neg, 0.0)
        error = abs(t - p) if p == 0 else abs((t - p) / p)
        values.append(sum(error <= 1 - th for th in MRA_THRESHOLDS) / len(MRA_THRESHOLDS))
    return sum(values) / len(values)
