"""Video-MME-v2: 800 videos × 4 MCQs (A–H), scored per video group with a non-linear credit that
depends on how many of the 4 are right (relevance groups) or on how far the chain of right answers
reaches (logic groups, by `group_structure`).

Per sample, an answer scores 0/1; `group_score` turns one video's four 0/1 scores (in question order)
into its credit, and `bench.report` averages credits over videos (grouping by `video_id`, never by
consecutive rows). The category is "<group_type> <group_structure>" so the report can do that from
`results.jsonl` alone. Official extraction (MME-Benchmarks/Video-MME-v2 evaluation/test_video_mme_v2.py):
delete answer prefixes, "" if over 10 words with no A–H, else the first capital A–H; a reply it cannot
read keeps its place in the group with the value -1, which the official group formula counts as right
(it tests truthiness) — claw reproduces that through the "unparsed" metric. The published system reads
`\\boxed{X}` first. `--n` samples whole videos. Videos are sampled at most 1 frame per second.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import msgspec

from bench.scoring import UNPARSED, boxed
from bench.suites._core import Context, Rules, letter_score, option_list, read_parquet, suite_factory
from bench.suites._extract import boxed_letter, clean, first_capital
from bench.suites._media import VideoSampling
from bench.suites._official import videommev2_letter
from bench.suites._specs import get
from claw.suite import Sample, Score

SPEC = get("videommev2")
SAMPLING = VideoSampling(max_fps=1.0)
"""Published: at most 1 frame per second of video in the kernel."""
LETTERS = "ABCDEFGH"
_RELEVANCE = (0.0, 6.25, 25.0, 56.25, 100.0)
_CHAIN_MAPS = {
    "[1,2,3,4]": _RELEVANCE,
    "[1,[2,3],4]": (0.0, 8.33, 33.33, 58.33, 100.0),
    "[[1,2],3,4]": (0.0, 10.0, 20.0, 50.0, 100.0),
}


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One row of `test.parquet`."""

    video_id: str
    question_id: str
    question: str
    options: str | list[str]
    answer: str
    group_type: str
    group_structure: str | list[object]
    level: int | str | None = None
    second_head: str | None = None
    third_head: str | None = None


def rows(data: Path) -> list[Row | None]:
    """All rows."""
    return read_parquet([data / "test.parquet"], Row)


def _structure(value: str | list[object]) -> str:
    """`group_structure` as the compact string ("[1,[2,3],4]") whether stored as text or as a list."""
    return (value if isinstance(value, str) else msgspec.json.encode(value).decode()).replace(" ", "")


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample over `videos/<video_id>.mp4` (or `data/`)."""
    video = ctx.media.video(ctx.find(f"{row.video_id}.mp4", "videos", "data"), row.video_id)
    options = option_list(row.options)
    return ctx.sample(
        row.question_id, row.question, "letter", row.answer.strip(), [video],
        category=f"{row.group_type} {_structure(row.group_structure)}", options=options,
        metadata={"video_id": row.video_id, "level": row.level, "second_head": row.second_head,
                  "third_head": row.third_head},
    )  # fmt: skip


def _chain_length(correct: Sequence[bool], structure: str) -> int:
    k = 0
    while k < len(correct) and correct[k]:
        k += 1
    if structure == "[1,[2,3],4]" and k == 1 and len(correct) > 2 and correct[2]:
        return 2
    if structure == "[[1,2],3,4]" and k == 0 and len(correct) > 1 and correct[1]:
        return 1
    return k


def group_score(category: str, scores: Sequence[float]) -> float:
    """One video's credit in 0..1 from its four per-question values in question order: 1 right, 0
    wrong, -1 unreadable (as the official code: -1 is truthy in a chain and subtracts from a count)."""
    group_type, _, structure = category.partition(" ")
    correct = [s != 0 for s in scores]
    if group_type == "logic" and structure in _CHAIN_MAPS:
        return _CHAIN_MAPS[structure][min(_chain_length(correct, structure), 4)] / 100
    count = round(sum(scores))
    return _RELEVANCE[count] / 100 if 0 <= count <= 4 else 0.0


def extract(reply: str) -> str | None:
    """The official chain with `\\boxed{X}` first."""
    if boxed(reply) is not None:
        return boxed_letter(reply, LETTERS)
    return first_capital(reply, LETTERS)


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """0/1 per question ("unparsed" where the official extractor reads nothing); the group credit is
    applied at aggregation."""
    if rules == "sc":
        return letter_score(extract(clean(answer)), sample)
    letter = videommev2_letter(answer or "")
    if not letter:
        return Score(value=0.0, metric=UNPARSED, extracted=None)
    return Score(value=float(letter == sample.ground_truth.strip()), metric="exact", extracted=letter)


def video_of(row: Row) -> str:
    """The group a row belongs to (its video), so `--n` samples whole groups."""
    return row.video_id


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score, sampling=SAMPLING, group_of=video_of)
