"""ViewSpatial-Bench: 5,712 camera- and person-perspective MCQs over one COCO image or 1–32 ScanNet
frames; the sample id is the 0-based list index and the answer reads "B. left".

Official scoring (`evaluate.py`): the reply's last line, then the first standalone A–D in it
(case-insensitive, so the article "a" counts). The published system: `\\boxed{}` → `<answer>` → the
last answer marker → the last "(X)"/"X."/"X:" → a single letter → the last capital A–D in the final
400 characters. The official prompt shows the question without its choices; claw always passes them
as `options`.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from bench.suites._core import Context, Rules, letter_score, option_list, read_json_records, suite_factory
from bench.suites._extract import (
    answer_marker,
    boxed_letter,
    chain,
    clean,
    last_letter_mark,
    single_letter,
    tag_letter,
)
from bench.suites._official import viewspatial_letter
from bench.suites._specs import get
from claw.suite import Sample, Score

SPEC = get("viewspatial")
PREFIX = "ViewSpatial-Bench/"


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of `ViewSpatial-Bench.json`."""

    question_type: str
    image_path: list[str]
    question: str
    answer: str
    choices: str | list[str]


def rows(data: Path) -> list[Row | None]:
    """All entries, in file order (the index is the id)."""
    return read_json_records(data / "ViewSpatial-Bench.json", Row)


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample; record paths lose their `ViewSpatial-Bench/` prefix."""
    paths = [ctx.data / p.removeprefix(PREFIX) for p in row.image_path]
    options = option_list(row.choices)
    return ctx.sample(
        str(index), row.question, "letter", row.answer.strip(), [ctx.media.image_set("images", paths)],
        category=row.question_type, options=options,
    )  # fmt: skip


def _tail_capital(text: str, allowed: str) -> str | None:
    found = re.findall(rf"[{allowed}]", text[-400:])
    return found[-1] if found else None


_SC = chain(boxed_letter, tag_letter, answer_marker, last_letter_mark, single_letter, _tail_capital)


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """Official last-line rule, or the published system's chain."""
    if rules == "sc":
        return letter_score(_SC(clean(answer), "ABCD"), sample)
    letter = viewspatial_letter((answer or "").split("\n")[-1])
    return Score(value=float(letter is not None and letter == viewspatial_letter(sample.ground_truth)),
                 metric="exact", extracted=letter)  # fmt: skip


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
