"""MMSI-Bench: 1,000 multi-image MCQs (A–D) with the images embedded in one parquet.

Options sit at the end of the question ("Options: A: x, B: y, …") and are split off. Official scoring
(`_official.mmsi_letter`, the authors' README): narrow the reply successively to the first ``…``, `…`
and {…}, then the first capital A–D with word boundaries not followed by a space and a letter; the
published system tries `\\boxed{}` and "X." / "(X)" / "X:" first.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench.suites._core import (
    Context,
    Rules,
    data_files,
    image_video,
    letter_score,
    read_parquet,
    split_inline_options,
    suite_factory,
)
from bench.suites._extract import boxed_letter, chain, clean, last_letter_mark, narrowed_first_letter
from bench.suites._official import mmsi_letter
from bench.suites._specs import get
from claw.suite import Sample, Score

SPEC = get("mmsi")


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One row of `MMSI_Bench.parquet`."""

    id: int | str
    images: list[bytes]
    question_type: str
    question: str
    answer: str
    difficulty: str | None = None


def rows(data: Path) -> list[Row | None]:
    """All rows."""
    return read_parquet(data_files(data, SPEC.files[0]), Row)


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample; the images form one multi-view set."""
    question, options = split_inline_options(row.question, "Options:")
    return ctx.sample(
        str(row.id), question, "letter", row.answer.strip(), [image_video(ctx, "views", row.images)],
        category=row.question_type, options=options,
    )  # fmt: skip


_SC = chain(boxed_letter, last_letter_mark, narrowed_first_letter)


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """Official narrowing rule, or the published system's longer chain."""
    if rules == "sc":
        return letter_score(_SC(clean(answer), "ABCD"), sample)
    return letter_score(mmsi_letter(answer or ""), sample)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
