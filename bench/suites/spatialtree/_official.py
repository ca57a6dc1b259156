"""SpatialTree-Bench's official rules (lmms-eval spatialtreebench/utils.py and metrics/rule_metrics.py, the
task code the benchmark's card points to): per-sample scores by `metricfunc` and the weighted hierarchy
that turns leaf means into the headline.

Deterministic parts only: where `multichoiceeval` would pick a random letter, the expected value 1/K is
scored; metrics that need an LLM judge or a simulator (gpteval, cogmapeval, affmask, manipulateeval,
agenticnaveval, gravityeval) are not reproduced and come back as None ("unscored").
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

__all__ = ["HIERARCHY", "judge", "mean_relative", "multichoice", "tree_score"]

Node = tuple[str, float, tuple["Node", ...]]

HIERARCHY: Node = ("SpaTree", 1.0, (
    ("L1", 0.25, (
        ("Geometry", 0.5, (("Distance", 0.65, ()), ("Shape", 0.1, ()), ("Size", 0.25, ()))),
        ("Localization", 0.2, (("3D Detection", 0.65, ()), ("3D Grounding", 0.35, ()))),
        ("Motion", 0.05, (("Allo", 0.5, ()), ("Ego", 0.5, ()))),
        ("Orientation", 0.1, (("Gravity", 0.4, ()), ("Object Orientation", 0.6, ()))),
        ("Relation", 0.15, (("Correspondence", 0.5, ()), ("Relative Direction", 0.5, ()))),
    )),
    ("L2", 0.25, (
        ("Memory", 1.0, (("Cognitive Map", 0.7, ()), ("Memory Retrieval", 0.3, ()))),
        ("Underst.", 1.0, (
            ("Affordance", 0.25, ()), ("Motion Understanding", 0.25, ()), ("Perspective Taking", 0.05, ()),
            ("Relation Understanding", 0.35, ()), ("Spatial Caption", 0.1, ()),
        )),
    )),
    ("L3", 0.25, (
        ("Caus. Reas.", 0.65, (
            ("Dynamics", 0.3, ()), ("Geometry Puzzles", 0.55, ()), ("Relation", 0.15, ()),
        )),
        ("Seq. Plan.", 0.35, (("Operation", 0.6, ()), ("Route", 0.4, ()))),
    )),
    ("L4", 0.25, (
        ("Goal-Driven Execution", 0.5, (("Agentic Navigation", 0.5, ()), ("Robotic Arm", 0.5, ()))),
        ("Open-world Exploration", 0.5, (("Knowledge Acquisition", 0.7, ()), ("Self-Goaling", 0.3, ()))),
    )),
))  # fmt: skip
"""The authors' `spatree_hierarchy.json`: (name, weight, children). A leaf is matched by its name with
spaces removed against the deepest `spatree*` tag of a sample (so the two "Relation" leaves share one
mean)."""


def tree_score(leaf_means: Mapping[str, float], *, missing: str = "zero") -> float:
    """The root of the weighted hierarchy: a node is the weight-normalised mean of its children.

    `missing="zero"` is the authors' rule (a leaf without results counts 0); `missing="skip"` leaves
    such leaves (and emptied nodes) out and renormalises the weights of the rest, for partial runs.
    """
    value = _node(HIERARCHY, leaf_means, missing)
    return 0.0 if value is None else value


def _node(node: Node, leaf_means: Mapping[str, float], missing: str) -> float | None:
    name, _, children = node
    if not children:
        found = leaf_means.get(name.replace(" ", ""))
        return found if found is not None or missing == "skip" else 0.0
    pairs = [(v, child[1]) for child in children if (v := _node(child, leaf_means, missing)) is not None]
    total = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / total if total > 0 else None


_PATTERNS = (
    r"The correct option is ([A-Z])", r"The answer is ([A-Z])", r"The correct answer is ([A-Z])",
    r"Option ([A-Z]) is correct", r"The right choice is ([A-Z])", r"Thus, the answer is ([A-Z])",
    r"Therefore, the correct option is ([A-Z])", r"The answer should be ([A-Z])",
    r"Hence, the correct answer is ([A-Z])", r"The correct choice is ([A-Z])",
    r"Accordingly, the answer is ([A-Z])",
    r"Consequently, the correct option is ([A-Z])The correct option is ([A-Z])",
    r"Answer: ([A-Z])", r"Answer ([A-Z])", r"Choice ([A-Z])", r"Select ([A-Z])", r"([A-Z]) is correct",
    r"([A-Z]) is the answer", r"([A-Z]) is the correct option", r"Correct: ([A-Z])", r"Right: ([A-Z])",
    r"<\|begin_of_box\|>([A-Z])<\|end_of_box\|>",
)  # fmt: skip
"""In the authors' order (two entries lack a comma in the source and are one joined pattern)."""


def multichoice(reply: str, options: Sequence[str | None]) -> str | float:
    """`multichoiceeval`'s parse: the letter it picks, or (where it would pick at random) the expected
    score 1/K as a float. `options` are the row's raw option strings ("A: p0", …)."""
    letters = [chr(65 + i) for i in range(len(options))]
    for pattern in _PATTERNS:
        m = re.search(pattern, reply)
        if m and m.group(1) in letters:
            return m.group(1)
    if (at := reply.rfind("Answer:")) != -1:
        tail = reply[at + len("Answer:") :].strip()
        hits = [c for c in letters if c in tail]
        if len(hits) == 1:
            return hits[0]
    return _candidates(reply, letters, options)


def _candidates(reply: str, letters: list[str], options: Sequence[str | None]) -> str | float:
    for mark in ",.!?;:'":  # one mark at a time, as the authors strip: "A,." keeps its ","
        reply = reply.strip(mark)
    text = " " + reply + " "
    bracketed = [c for c in letters if f"({c})" in text]
    found = bracketed or [c for c in letters if f"{c} " in text] or [c for c in letters if f"{c}." in text]
    by_text = False
    if not found and len(text.split()) > 5:
        if any(o is None for o in options):
            return 0.0  # the authors' code raises on a null option here, and the sample scores 0
        found = [c for c, o in zip(letters, options, strict=True) if str(o).lower() in text.lower()]
        by_text = True
    if not found:
        return 1.0 / len(letters) if letters else 0.0
    if len(found) == 1:
        return found[0]
    if by_text:
        at = [text.lower().rfind(str(options[letters.index(c)]).lower()) for c in found]
    elif bracketed:
        at = [text.rfind(f"({c})") for c in found]
    else:
        at = [text.rfind(f" {c} ") for c in found]
    return found[at.index(max(at))]


_PAIR = r"\s*-?\d+\.?\d*\s*,\s*-?\d+\.?\d*\s*"
_PAIRS = (rf"\({_PAIR}\)", rf"\[{_PAIR}\]", rf"\{{{_PAIR}\}}", r"\b-?\d+\.?\d*\s*,\s*-?\d+\.?\d*\b")
"""Coordinate pairs — (x, y), [x, y], {x, y}, bare x, y — which the number search ignores."""


def _find_number(reply: str) -> str:
    text = reply.replace(",", "")
    stripped = text
    for pattern in _PAIRS:
        stripped = re.sub(pattern, "", stripped)
    if m := re.search(r"-?\d+\.?\d*", stripped):
        return m.group()
    found = list(re.finditer(r"-?\d+\.?\d*", text))
    for i, m in enumerate(found):
        if i == len(found) - 1 or not re.match(r"^,\s*", text[m.end() :].strip()):
            return m.group()
    return ""


def mean_relative(reply: str, truth: float) -> float:
    """`meanrelativeacc`: commas dropped, coordinate pairs ignored, the first number; MRA (`≤`) with
    `abs(p - t) / t`; no number (or a truth of 0) scores 0."""
    from bench.scoring import MRA_THRESHOLDS

    text = _find_number(reply)
    try:
        pred = float(text)
    except ValueError:
        return 0.0
    if truth == 0 or math.isnan(pred):
        return 0.0
    error = abs(pred - truth) / truth
    return sum(error <= 1 - t for t in MRA_THRESHOLDS) / len(MRA_THRESHOLDS)


def judge(reply: str) -> str:
    """`judgemodel`: whichever of "yes" / "no" occurs last as a substring ("know" and "not" count), else
    "other"."""
    lowered = reply.lower()
    yes, no = lowered.rfind("yes"), lowered.rfind("no")
    if yes == -1 and no == -1:
        return "other"
    return "yes" if yes > no else "no"
