"""MindCube: multi-view MCQs about unseen space (around / among / rotation / translation settings).

Reads `data/raw/MindCube.jsonl` when present, else `MindCube_tinybench.jsonl` (the published system's
order). Extraction is the authors' `extract_answer` (`_official.mindcube_letter`) under both rule sets
(the published system follows it). The authors' overall leaves the translation setting out (their
`base_metrics.py`; lmms-eval's overall counts every row), and so does the published system's.
`type` is a string or an integer in the released files; both load.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench.suites._core import Context, Rules, letter_score, read_jsonl, split_inline_options, suite_factory
from bench.suites._official import mindcube_letter
from bench.suites._specs import get
from claw.suite import Sample, Score

SPEC = get("mindcube")


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the MindCube jsonl."""

    id: str
    question: str
    images: list[str]
    gt_answer: str
    type: str | int = ""
    category: list[str] = msgspec.field(default_factory=list)


def rows(data: Path) -> list[Row | None]:
    """The full jsonl if present, else the tiny set."""
    raw = data / "data" / "raw"
    full = raw / "MindCube.jsonl"
    return read_jsonl(full if full.is_file() else raw / "MindCube_tinybench.jsonl", Row)


def setting(sample_id: str) -> str:
    """The setting named in an id, in the official order of tests."""
    for name in ("around", "rotation", "translation", "among"):
        if name in sample_id.lower():
            return name
    return "other"


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample; image paths are relative to `data/`."""
    question, options = split_inline_options(row.question)
    paths = [ctx.data / "data" / p for p in row.images]
    return ctx.sample(
        row.id, question, "letter", row.gt_answer.strip(), [ctx.media.image_set("views", paths)],
        category=setting(row.id), options=options, metadata={"type": str(row.type)},
    )  # fmt: skip


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """The authors' extraction (both rule sets), compared exactly with `gt_answer`."""
    return letter_score(mindcube_letter((answer or "").strip()), sample)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
