"""PAI-Bench (understanding): 1,214 video MCQs with 2–4 options (null options dropped), in two
categories and 16 subcategories; the sample id is the 0-based row index.

Official scoring (`_official.pai_answer`, lmms-eval's `physical_ai_understanding` task on this dataset):
`<answer>` content, punctuation removed, a leading capital letter, else the first option text, else the
cleaned reply; equal ignoring case and punctuation. (The other public task, `paibench_u`, picks a random
letter when parsing fails, which cannot be reproduced.) The published system: backticks → `\\boxed{}` →
"X." / "(X)" / "X:" → a lone letter not followed by a word → a single letter. Micro.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench.suites._core import Context, Rules, data_files, letter_score, read_parquet, suite_factory
from bench.suites._extract import boxed_letter, chain, clean, narrowed_first_letter, single_letter
from bench.suites._official import pai_answer, pai_matches
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


def rows(data: Path) -> list[Row | None]:
    """All rows."""
    return read_parquet(data_files(data, SPEC.files[0]), Row)


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample over one video."""
    options = [row.index2ans[k] or "" for k in sorted(row.index2ans) if row.index2ans[k] is not None]
    return ctx.sample(
        str(index), row.question, "letter", row.answer.strip(), [ctx.media.video(ctx.data / row.video_path)],
        category=row.category or "default", options=options, metadata={"subcategory": row.subcategory,
                                                          "keys": "".join(sorted(row.index2ans))},
    )  # fmt: skip


def _backticks(text: str, allowed: str) -> str | None:
    return narrowed_first_letter(text, allowed) if "`" in text else None


_CHAIN = chain(_backticks, boxed_letter, first_mark, narrowed_first_letter, single_letter)


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """Official: lmms-eval's filter and exact match; SC: the MMSI-style chain over the sample's letters."""
    allowed = "".join(chr(65 + i) for i in range(len(sample.options) or 4))
    if rules == "sc":
        return letter_score(_CHAIN(clean(answer), allowed), sample)
    keys = str(sample.metadata.get("keys") or allowed)
    index2ans: dict[str, str | None] = dict.fromkeys(keys)
    index2ans.update({chr(65 + i): text for i, text in enumerate(sample.options)})
    got = pai_answer(answer or "", index2ans)
    return Score(value=float(pai_matches(got, sample.ground_truth)), metric="exact", extracted=got or None)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
