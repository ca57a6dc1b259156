"""The synthetic spatial suite: samples drawn from seeded scenes, frames written as PNG, answers scored
with the shared rules in `bench.scoring` (exact match for options and yes/no, MRA for numbers).

Sample `i` of seed `s` has id `syn-<s>-<i:05d>` and task type `TASKS[i % len(TASKS)]`, so every task
type is equally represented in any prefix of the suite. Frames go to `<media_dir>/<sample_id>/`, named by
scene key and frame index; a file already there is left alone (rendering is deterministic and the key
names the scene exactly, so it is the same image). Each sample is drawn and rendered once per run: its
record is kept beside its frames (`sample.json`), so a resumed run reads unfinished samples back instead
of rendering them again, and never builds the finished ones it is told to skip (`SuiteOptions.skip`).
Beside the frames, but in the media folder's own `ground-truth` folder that is never staged for a kernel,
each frame's rendered depth, instance ids and camera are kept (`synthscene.truth`) so the synthetic
perception backend reads them instead of ray-casting the same view again.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import msgspec
import numpy as np
from PIL import Image

from bench import scoring
from bench.suites.synthetic._questions import GENERATORS, Question, Views
from claw.errors import SuiteError
from claw.suite import Frame as SampleFrame
from claw.suite import Sample, Score, SuiteOptions, Video
from claw.wire.names import GROUND_TRUTH_FOLDER
from synthscene.render import Frame, render
from synthscene.truth import write_truth
from synthscene.world import TASKS, World, WorldKey, build_world

__all__ = ["DEFAULT_N", "SyntheticSuite", "draw_sample", "make_suite", "png_bytes"]

DEFAULT_N = 500
"""Samples when the options do not say (the suite itself is unbounded)."""
MAX_ATTEMPTS = 40
WIDTH = HEIGHT = 256
_SAMPLE_FILE = "sample.json"


def png_bytes(rgb: np.ndarray) -> bytes:
    """Lossless PNG encoding of an (H, W, 3) uint8 image (deterministic bytes)."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def sample_id(seed: int, index: int) -> str:
    """The id of sample `index` of seed `seed` (known without drawing the sample)."""
    return f"syn-{seed}-{index:05d}"


def draw_sample(seed: int, index: int) -> tuple[World, list[Frame], Question]:
    """The world, rendered frames and question of sample `index` (redrawing ambiguous draws).

    Raises:
        SuiteError: no unambiguous question after `MAX_ATTEMPTS` draws (a generator bug).
    """
    for attempt in range(MAX_ATTEMPTS):
        world = build_world(WorldKey(seed, index, attempt))
        frames = [render(world.scene, cam, WIDTH, HEIGHT) for cam in world.rig.cameras]
        rng = np.random.default_rng([seed, index, attempt, 1])
        question = GENERATORS[world.key.task](Views(world, frames), rng)
        if question is not None:
            return world, frames, question
    raise SuiteError(f"synthetic sample {index} (seed {seed}) found no unambiguous question; report this")


def _write_frames(directory: Path, world: World, frames: list[Frame], truth: Path) -> list[SampleFrame]:
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for frame_index, frame in zip(world.rig.frame_indices, frames, strict=True):
        write_truth(truth, world.key.text, frame_index, frame)
        path = directory / f"{world.key.text}-frame{frame_index:04d}.png"
        if not _whole(path):
            _write_atomically(path, png_bytes(frame.rgb))
        stamp = None if world.rig.fps is None else frame_index / world.rig.fps
        out.append(SampleFrame(path=str(path.resolve()), index=frame_index, timestamp_s=stamp))
    return out


def _cached_sample(directory: Path) -> Sample | None:
    """The sample record written when `directory` was built, if it and all its frames are there."""
    try:
        sample = msgspec.json.decode((directory / _SAMPLE_FILE).read_bytes(), type=Sample)
    except (OSError, msgspec.DecodeError):
        return None
    frames = [frame for video in sample.videos for frame in video.frames]
    return sample if all(_whole(Path(frame.path)) for frame in frames) else None


def _whole(path: Path) -> bool:
    """The file is there and not empty (a crash or a full disk can leave an empty frame behind)."""
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


def _video(world: World, frames: tuple[SampleFrame, ...]) -> Video:
    fps = world.rig.fps
    if fps is None:
        return Video(name="images", frames=frames)
    total = world.rig.frame_indices[-1] + 1
    return Video(name="video", frames=frames, fps=fps, total_frames=total, duration_s=total / fps)


class SyntheticSuite:
    """Seeded synthetic spatial questions (see the module docstring)."""

    name = "synthetic"

    def __init__(self, options: SuiteOptions) -> None:
        self.options = options
        self.n = DEFAULT_N if options.n is None else options.n

    def __repr__(self) -> str:
        return f"SyntheticSuite(seed={self.options.seed}, n={self.n}, media_dir={self.options.media_dir!r})"

    def sample(self, index: int) -> Sample:
        """Sample `index`: read from its media directory when this run built it before (a resumed run),
        else drawn, rendered and written there (frames, then the sample record)."""
        directory = Path(self.options.media_dir) / sample_id(self.options.seed, index)
        cached = _cached_sample(directory)
        if cached is not None:
            return cached
        sample = self._draw(index, directory)
        _write_atomically(directory / _SAMPLE_FILE, msgspec.json.encode(sample))
        return sample

    def _draw(self, index: int, directory: Path) -> Sample:
        seed = self.options.seed
        world, frames, question = draw_sample(seed, index)
        truth = Path(self.options.media_dir) / GROUND_TRUTH_FOLDER
        written = _write_frames(directory, world, frames, truth)
        return Sample(
            id=sample_id(seed, index),
            suite=self.name,
            question=question.text,
            answer_format=question.answer_format,
            ground_truth=question.ground_truth,
            videos=(_video(world, tuple(written)),),
            category=world.key.task,
            options=question.options,
            metadata={"scene": world.key.text, "rig": world.rig.kind},
        )

    def samples(self) -> Iterator[Sample]:
        """Samples 0..n-1 in order, less those in `options.skip` (blocking: renders and writes PNGs)."""
        for index in range(self.n):
            if sample_id(self.options.seed, index) not in self.options.skip:
                yield self.sample(index)

    def score(self, sample: Sample, answer: str | None) -> Score:
        """Exact match for letters and yes/no, MRA for numbers."""
        match sample.answer_format:
            case "letter":
                return scoring.score_mcq(answer, sample.ground_truth, len(sample.options))
            case "yes_no":
                return scoring.score_yes_no(answer, sample.ground_truth)
            case "number":
                return scoring.score_numeric(answer, float(sample.ground_truth))
            case _:
                return scoring.score_text(answer, sample.ground_truth)


def make_suite(options: SuiteOptions) -> SyntheticSuite:
    """The suite factory registered as `synthetic`."""
    return SyntheticSuite(options)


assert len(TASKS) == len(GENERATORS), "every task type needs a generator"
