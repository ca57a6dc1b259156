"""PerceptionComp: 1,114 multi-step perception MCQs (A–E) over 273 videos, in 7 categories and 3
difficulties.

Reads the Hugging Face `questions.json` or the GitHub `1-1114.json` (same records). Scored on
`answer_id`, never on the answer text (10 records abbreviate it). Official extraction
(`_official.perceptioncomp_letter`, the authors' `api_evaluate.py`): the last `<answer>` content →
the first "Answer X" → the last standalone capital A–E → the reply; then its last standalone A–E after
upper-casing. The published system: `<answer>X</answer>` → `\\boxed{X}` → "answer(:) X" → the last
standalone A–E, any case → a single letter. Videos are sampled at most 1 frame per second. Micro.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from bench.suites._core import Context, Rules, data_files, letter_score, read_json_records, suite_factory
from bench.suites._extract import boxed_letter, chain, clean, single_letter, tag_letter
from bench.suites._media import VideoSampling
from bench.suites._official import perceptioncomp_letter
from bench.suites._skips import RecordSkipped
from bench.suites._specs import get
from claw.suite import Sample, Score

SPEC = get("perceptioncomp")
SAMPLING = VideoSampling(max_fps=1.0)
"""Published: at most 1 frame per second of video in the kernel."""


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One record of the annotation file."""

    key: str | int
    video_id: str | int
    question: str
    answer_id: int
    answer: str = ""
    category: str = ""
    difficulty: int | None = None
    answer_choice_0: str | None = None
    answer_choice_1: str | None = None
    answer_choice_2: str | None = None
    answer_choice_3: str | None = None
    answer_choice_4: str | None = None
    answer_choice_5: str | None = None

    def choices(self) -> list[str]:
        """The present answer choices in order (key 382 has a sixth)."""
        texts = (self.answer_choice_0, self.answer_choice_1, self.answer_choice_2, self.answer_choice_3,
                 self.answer_choice_4, self.answer_choice_5)  # fmt: skip
        return [t for t in texts if t is not None]


def rows(data: Path) -> list[Row | None]:
    """All records."""
    return read_json_records(data_files(data, SPEC.files[0])[0], Row)


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample over `data/<video_id>.mp4` (or `<video_id>.mp4`)."""
    if not 0 <= row.answer_id < len(row.choices()):
        raise RecordSkipped(
            str(row.key), f"answer_id {row.answer_id} is not one of its {len(row.choices())} choices"
        )
    video = ctx.media.video(ctx.find(f"{row.video_id}.mp4", "data", "videos"), str(row.video_id))
    return ctx.sample(
        str(row.key), row.question, "letter", chr(65 + row.answer_id), [video],
        category=row.category or "default", options=row.choices(), metadata={"difficulty": row.difficulty},
    )  # fmt: skip


def _marker(text: str, allowed: str) -> str | None:
    m = re.search(rf"answer\s*:?\s*\(?([{allowed}])\b", text, re.IGNORECASE)
    return m.group(1).upper() if m else None


def _last_any_case(text: str, allowed: str) -> str | None:
    found = re.findall(rf"\b([{allowed}])\b", text, re.IGNORECASE)
    return found[-1].upper() if found else None


_CHAIN = chain(tag_letter, boxed_letter, _marker, _last_any_case, single_letter)


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """The reference extraction chain over A–E."""
    if rules == "sc":
        return letter_score(_CHAIN(clean(answer), "ABCDE"), sample)
    return letter_score(perceptioncomp_letter(answer or ""), sample)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score, sampling=SAMPLING)
