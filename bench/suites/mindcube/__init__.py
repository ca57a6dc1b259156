"""MindCube: multi-view MCQs about unseen space (around / among / rotation / translation settings).

Reads `data/raw/MindCube.jsonl` when present, else `MindCube_tinybench.jsonl` (the published system's
order). Extraction follows the official chain, last match winning at each step. The official overall
counts every row; the published system's overall leaves the translation setting out (an aggregation
option in `bench.report`).
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from bench.suites._core import Context, Rules, letter_score, read_jsonl, split_inline_options, suite_factory
from bench.suites._extract import boxed_letter, chain, clean, last_standalone
from bench.suites._specs import get
from claw.suite import Sample, Score

SPEC = get("mindcube")


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the MindCube jsonl."""

    id: str
    question: str
    images: list[str]
    gt_answer: str
    type: str = ""
    category: list[str] = msgspec.field(default_factory=list)


def rows(data: Path) -> list[Row]:
    """The full jsonl if present, else the tiny set."""
    raw = data / "data" / "raw"
    full = raw / "MindCube.jsonl"
    return read_jsonl(full if full.is_file() else raw / "MindCube_tinybench.jsonl", Row)


def setting(sample_id: str) -> str:
    """The setting named in an id, in the official order of tests."""
    for name in ("around", "rotation", "translation", "among"):
        if name in sample_id:
            return name
    return "other"


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample; image paths are relative to `data/`."""
    question, options = split_inline_options(row.question)
    paths = [ctx.data / "data" / p for p in row.images]
    return ctx.sample(
        row.id, question, "letter", row.gt_answer.strip(), [ctx.media.image_set("views", paths)],
        category=setting(row.id), options=options, metadata={"type": row.type},
    )  # fmt: skip


def _last_dot(text: str, allowed: str) -> str | None:
    found = re.findall(rf"(?<![A-Za-z])([{allowed}])\.", text)
    return found[-1] if found else None


def _answer_tag(text: str, allowed: str) -> str | None:
    found = re.findall(rf"<Answer>\s*\(?([{allowed}])", text, re.IGNORECASE)
    return found[-1].upper() if found else None


def _phrase(text: str, allowed: str) -> str | None:
    pattern = (
        rf"(?:my answer is|the answer is|answer:)\s*\(?([{allowed}])"
        rf"|(?<![A-Za-z])([{allowed}])[.:]\s+[A-Z]"
    )
    found = re.findall(pattern, text, re.IGNORECASE)
    return (found[-1][0] or found[-1][1]).upper() if found else None


_CHAIN = chain(boxed_letter, _last_dot, _answer_tag, _phrase, last_standalone)


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """The official extraction chain (both rule sets extract alike; they aggregate differently)."""
    return letter_score(_CHAIN(clean(answer), "ABCDE"), sample)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
