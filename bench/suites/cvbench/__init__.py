"""CVBench (cross-video; not Cambrian's CV-Bench): 1,000 questions over 2–4 videos in 15 task types,
answered by a letter or by Yes/No.

Videos are sampled at most 1 frame per second (32 per video). Official (the authors' Video-R1
`eval_bench.py`): the first `<answer>…</answer>` content (else the whole reply), stripped, equal to the
truth ("A" or "Yes") exactly, case included. The published system: an item is yes/no when all its
options are, scored by the first whole-word yes/no; MCQs `\\boxed{}` → "X." / "(X)" / "X:" / a leading
letter → a single letter → the option text. Micro.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench.scoring import exact_score, extract_yes_no
from bench.suites._core import (
    Context,
    Rules,
    data_files,
    letter_score,
    letters,
    option_list,
    read_parquet,
    suite_factory,
)
from bench.suites._extract import boxed_letter, chain, clean, leading_letter, option_match, single_letter
from bench.suites._media import VideoSampling
from bench.suites._official import cvbench_answer
from bench.suites._skips import RecordSkipped
from bench.suites._specs import get
from bench.suites._video_mcq import first_mark
from claw.suite import Sample, Score

SPEC = get("cvbench")
SAMPLING = VideoSampling(max_fps=1.0)
"""Published: at most 1 frame per second of video in the kernel."""


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One row of `data/test-*.parquet`."""

    id: int | str
    task_type: str
    question: str
    options: list[str] | str
    answer: str
    video_1: str | None = None
    video_2: str | None = None
    video_3: str | None = None
    video_4: str | None = None


def rows(data: Path) -> list[Row | None]:
    """All rows."""
    return read_parquet(data_files(data, SPEC.files[0]), Row)


def is_yes_no(options: list[str]) -> bool:
    """All options read yes or no (a trailing "." ignored)."""
    return bool(options) and all(o.strip().rstrip(".").lower() in {"yes", "no"} for o in options)


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample with one frame group per video (`videos/<path>`)."""
    paths = [p for p in (row.video_1, row.video_2, row.video_3, row.video_4) if p]
    videos = [ctx.media.video(ctx.find(p, "videos"), f"video_{i + 1}") for i, p in enumerate(paths)]
    options = option_list(row.options)
    yes_no = is_yes_no(options)
    if not yes_no and row.answer.strip() not in letters(len(options)):
        raise RecordSkipped(str(row.id), f"answer {row.answer!r} names none of its {len(options)} options")
    return ctx.sample(
        str(row.id), row.question, "yes_no" if yes_no else "letter", row.answer.strip(), videos,
        category=row.task_type, options=options,
    )  # fmt: skip


_MCQ = chain(boxed_letter, first_mark, leading_letter, single_letter)


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """Official exact match of the `<answer>` content; SC: yes/no or letter extraction."""
    if rules == "official":
        got = cvbench_answer(answer or "")
        return Score(value=float(got == sample.ground_truth.strip()), metric="exact", extracted=got or None)
    reply = clean(answer)
    if sample.answer_format == "yes_no":
        return exact_score(extract_yes_no(reply), sample.ground_truth.strip().rstrip(".").lower())
    allowed = "".join(chr(65 + i) for i in range(len(sample.options) or 4))
    return letter_score(_MCQ(reply, allowed) or option_match(reply, sample.options), sample)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score, sampling=SAMPLING)
