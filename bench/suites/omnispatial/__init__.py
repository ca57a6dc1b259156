"""OmniSpatial: 1,533 single-image MCQs (4 options, ground truth an int index) in 4 tasks / 10 sub-tasks.

Official "re" scoring: the last "Answer: X"; when nothing matches the prediction is "A" (so an empty
reply scores as A). The published system tries its generic letter heuristics first and keeps the "A"
fallback. (The official script pools 5 repeats; claw runs each item once, like the published system.)
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from bench.scoring import extract_letter
from bench.suites._core import Context, Rules, letter_score, read_json, suite_factory
from bench.suites._extract import clean
from bench.suites._specs import get
from claw.suite import Sample, Score

SPEC = get("omnispatial")


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of `OmniSpatial-test/data.json`."""

    id: str
    question: str
    options: list[str]
    answer: int
    task_type: str
    sub_task_type: str


def rows(data: Path) -> list[Row]:
    """All entries of `data.json`."""
    return read_json(data / "OmniSpatial-test" / "data.json", list[Row])


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample; the image is `<task_type>/<id before "_">.png`."""
    image = ctx.data / "OmniSpatial-test" / row.task_type / f"{row.id.split('_')[0]}.png"
    return ctx.sample(
        f"{row.task_type}_{row.sub_task_type}_{row.id}", row.question, "letter", chr(65 + row.answer),
        [ctx.media.image_set("image", [image])], category=row.task_type, options=row.options,
        metadata={"sub_task_type": row.sub_task_type},
    )  # fmt: skip


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """Official: the last "Answer: X", else "A"; SC: claw's strict chain, else "A"."""
    reply = clean(answer)
    if rules == "sc":
        letter = extract_letter(reply, 4)
    else:
        found = re.findall(r"Answer\s*:\s*\(?([A-D])", reply, re.IGNORECASE)
        letter = found[-1].upper() if found else None
    return letter_score(letter or "A", sample)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
