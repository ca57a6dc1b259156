"""ERQA (embodied reasoning QA): 400 single- and multi-image MCQs from one parquet with embedded images.

Options stay inline in the question (the official text ends with its own format request). Scoring is the
official rule, which the published system copies: remove every ".", strip, compare with the letter.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench.suites._core import (
    Context,
    HFImage,
    Rules,
    data_files,
    image_video,
    read_parquet,
    suite_factory,
)
from bench.suites._official import erqa_matches
from bench.suites._specs import get
from claw.suite import Sample, Score

SPEC = get("erqa")


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One row of `data/test-*.parquet`."""

    question_id: str | int
    question: str
    answer: str
    question_type: str = ""
    visual_indices: list[int] = msgspec.field(default_factory=list)
    images: list[HFImage] = msgspec.field(default_factory=list)


def rows(data: Path) -> list[Row | None]:
    """All rows of the test parquet."""
    return read_parquet(data_files(data, SPEC.files[0]), Row)


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample; its images form one image set."""
    return ctx.sample(
        str(row.question_id), row.question, "letter", row.answer.strip(),
        [image_video(ctx, "images", row.images)],
        category=row.question_type or "default",
        metadata={"visual_indices": list(row.visual_indices), "n_options": 4},
    )  # fmt: skip


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """The official rule (both rule sets agree): dots removed, stripped, equal ignoring case."""
    hit = erqa_matches(answer or "", sample.ground_truth)
    return Score(value=float(hit), metric="exact", extracted=(answer or "").replace(".", "").strip() or None)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
