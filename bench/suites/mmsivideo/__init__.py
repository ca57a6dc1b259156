"""MMSI-Video-Bench: 1,106 MCQs (A–F) over one or more videos shipped as pre-extracted frames, plus
optional reference images.

Each video's pre-extracted frames become one `Video` (all of them, as published; with uniform sampling
at most that many per video); the model is shown 64 key frames per video up front (the published
count for this benchmark); reference images form a last `Video` named "reference". Official scoring
(`evaluation.py`): drop `<answer>` tags, then the `boxed{…}` content, the text after `"answer":`, after
"answer is", after "Answer: ", or the text before the first "." if it is one letter; anything outside
A–F is wrong. The published system uses its generic extractor.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench.suites._core import Context, Rules, letter_score, read_json_records, suite_factory
from bench.suites._extract import clean, sc_generic
from bench.suites._official import mmsivideo_letter
from bench.suites._specs import get
from claw.suite import Sample, Score, Video

SPEC = get("mmsivideo")
KEY_FRAMES = 64
"""Published: 64 key frames for MMSI-Video (32 for the other benchmarks)."""


class VideoRef(msgspec.Struct, frozen=True, kw_only=True):
    """One source video of a question."""

    path: str
    start: float | None = None
    end: float | None = None
    base_fps: float | None = None


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of `mmsivideo.json`."""

    id: str
    type: str
    frames_list: list[list[str]]
    ori_question: str
    options: list[str]
    ground_truth: str
    video_list: list[VideoRef] = msgspec.field(default_factory=list)
    ref_images: list[str] = msgspec.field(default_factory=list)
    hint: str = ""


def rows(data: Path) -> list[Row | None]:
    """All entries."""
    return read_json_records(data / "mmsivideo.json", Row)


def _videos(row: Row, ctx: Context) -> list[Video]:
    per_video = ctx.media.sampling.uniform
    videos = []
    for i, frames in enumerate(row.frames_list):
        video = ctx.media.image_set(f"video_{i + 1}", [ctx.find(f, "frames") for f in frames], per_video)
        fps = row.video_list[i].base_fps if i < len(row.video_list) else None
        videos.append(msgspec.structs.replace(video, fps=fps, total_frames=len(frames)))
    if row.ref_images:
        videos.append(ctx.media.image_set("reference", [ctx.find(p, "ref_images") for p in row.ref_images]))
    return videos


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample with one frame group per video (and the reference images last)."""
    return ctx.sample(
        row.id, row.ori_question, "letter", row.ground_truth.strip(), _videos(row, ctx), category=row.type,
        options=row.options, metadata={"hint": row.hint, "n_reference_images": len(row.ref_images)},
    )  # fmt: skip


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """Official A–F extractor ('O' on failure) or the published system's generic extractor."""
    if rules == "sc":
        return letter_score(sc_generic(clean(answer), "ABCDEF"), sample)
    return letter_score(mmsivideo_letter(answer or ""), sample)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score, key_frames=KEY_FRAMES)
