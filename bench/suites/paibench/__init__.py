"""PAI-Bench (understanding): 1,214 video MCQs with 2–4 options (null options dropped), in two
categories and 16 subcategories; the sample id is the 0-based row index.

Scoring (both rule sets): backticks → `\\boxed{}` → "X." / "(X)" / "X:" → a lone letter not followed by
a word → a single letter after removing punctuation; then exact match. Micro.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench.suites._core import Context, Rules, data_files, letter_score, read_parquet, suite_factory
from bench.suites._extract import boxed_letter, chain, clean, narrowed_first_letter, single_letter
from bench.suites._specs import get
from bench.suites._video_mcq import first_mark
from claw.suite import Sample, Score

SPEC = get("paibench")


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One row of `data/test-*.parquet`."""

    question: str
    index2ans: dict[str, str | None]
    answer: str
    video_path: str
    category: str = ""
    subcategory: str = ""


def rows(data: Path) -> list[Row]:
    """All rows."""
    return read_parquet(data_files(data, SPEC.files[0]), Row)


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample over one video."""
    options = [row.index2ans[k] or "" for k in sorted(row.index2ans) if row.index2ans[k] is not None]
    return ctx.sample(
        str(index), row.question, "letter", row.answer.strip(), [ctx.media.video(ctx.data / row.video_path)],
        category=row.category or "default", options=options, metadata={"subcategory": row.subcategory},
    )  # fmt: skip


def _backticks(text: str, allowed: str) -> str | None:
    return narrowed_first_letter(text, allowed) if "`" in text else None


_CHAIN = chain(_backticks, boxed_letter, first_mark, narrowed_first_letter, single_letter)


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """The MMSI-style chain over the sample's letters."""
    allowed = "".join(chr(65 + i) for i in range(len(sample.options) or 4))
    return letter_score(_CHAIN(clean(answer), allowed), sample)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
