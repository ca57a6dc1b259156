"""Video-MME: 2,700 MCQs (A–D) over 900 videos of short, medium and long duration (subtitles unused).

Official scoring: delete answer prefixes; a reply over 10 words with no A–D is empty; else the first
A–D anywhere, compared case-insensitively. The published system uses its generic extractor. Videos
are sampled at most 1 frame per second. Micro, with task-type categories.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench.scoring import UNSCORED
from bench.suites._core import (
    Context,
    Rules,
    data_files,
    letter_score,
    option_list,
    read_parquet,
    suite_factory,
)
from bench.suites._extract import clean, sc_generic
from bench.suites._media import VideoSampling
from bench.suites._official import videomme_letter
from bench.suites._specs import get
from claw.suite import Sample, Score

SPEC = get("videomme")
SAMPLING = VideoSampling(max_fps=1.0)
"""Published: at most 1 frame per second of video in the kernel."""


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One row of `videomme/test-*.parquet`."""

    video_id: str | int
    videoID: str
    question_id: str
    question: str
    options: list[str] | str
    answer: str
    task_type: str = ""
    duration: str = ""
    domain: str = ""
    sub_category: str = ""


def rows(data: Path) -> list[Row | None]:
    """All rows."""
    return read_parquet(data_files(data, SPEC.files[0]), Row)


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample over `data/<videoID>.mp4`."""
    video = ctx.media.video(ctx.find(f"{row.videoID}.mp4", "data", "videos"), row.videoID)
    return ctx.sample(
        row.question_id, row.question, "letter", row.answer.strip(), [video],
        category=row.task_type or "default", options=option_list(row.options),
        metadata={"duration": row.duration, "domain": row.domain, "sub_category": row.sub_category},
    )  # fmt: skip


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """Official first-capital rule, or the published system's generic extractor."""
    if rules == "sc":
        return letter_score(sc_generic(clean(answer), "ABCD"), sample)
    letter = videomme_letter(answer or "")
    if not letter:
        return Score(value=0.0, metric=UNSCORED, extracted=None)
    return Score(value=float(letter == sample.ground_truth.strip()), metric="exact", extracted=letter)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score, sampling=SAMPLING)
