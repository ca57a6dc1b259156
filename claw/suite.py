"""The contract between the runtime and whatever is evaluated: `Sample`, `Score`, the `Suite` protocol
and the suite registry.

`claw.runtime` only ever sees these types. Benchmarks live in `bench/suites/` and register themselves by
name through the `claw.suites` entry-point group (or `register_suite` at import time), so the runtime
never imports `bench`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import entry_points
from typing import Literal, NamedTuple, Protocol, runtime_checkable

import msgspec

from claw._config_rules import did_you_mean
from claw.errors import SuiteError

__all__ = [
    "DEFAULT_KEY_FRAMES",
    "AnswerFormat",
    "CountedSuite",
    "Frame",
    "FrameSampling",
    "ImagePolicy",
    "KeyFrame",
    "Sample",
    "Score",
    "Suite",
    "SuiteOptions",
    "Video",
    "evenly_spaced",
    "get_suite",
    "key_frames",
    "register_suite",
    "suite_factory",
    "suite_names",
]

AnswerFormat = Literal["letter", "number", "yes_no", "text"]
"""What `ReturnAnswer` accepts: an option letter, a number (units allowed), yes/no, or free text."""

FrameSampling = Literal["benchmark", "uniform"]
"""How a suite samples videos: as the published system did for that benchmark (every native frame, or
the benchmark's fps cap), or a small fixed number of evenly spaced frames (fast, for smoke runs)."""

ImagePolicy = Literal["original", "fit", "crop"]
"""How input images are prepared: as the dataset ships them (video frames still fit `max_side`); long
side at most `max_side` with the aspect kept; or the published system's centre crop to the nearest of six
aspect ratios followed by a resize to `max_side` on the long side."""

DEFAULT_KEY_FRAMES = 32
"""Key frames shown to the model per video unless the suite says otherwise (the published default)."""

MetaValue = str | int | float | bool | None | list[str | int | float]


class Frame(msgspec.Struct, frozen=True, kw_only=True):
    """One image the agent can see."""

    path: str
    """Image file on disk (PNG/JPEG); the kernel opens it read-only."""
    index: int
    """Absolute frame index in its video (0..n-1 for image sets)."""
    timestamp_s: float | None = None
    """Seconds from the video start, when the source is a video."""


class Video(msgspec.Struct, frozen=True, kw_only=True):
    """An ordered set of frames: a sampled video, a multi-view set or a single image."""

    name: str
    frames: tuple[Frame, ...]
    fps: float | None = None
    """Native fps of the source video; None for image sets."""
    total_frames: int | None = None
    """Frames in the source video before sampling."""
    duration_s: float | None = None


class Sample(msgspec.Struct, frozen=True, kw_only=True):
    """One question. Identity is stable: (suite, id) names the same question in every run."""

    id: str
    suite: str
    question: str
    answer_format: AnswerFormat
    ground_truth: str
    videos: tuple[Video, ...]
    category: str = "default"
    options: tuple[str, ...] = ()
    """Option texts in order; option i is letter chr(65 + i)."""
    metadata: dict[str, MetaValue] = msgspec.field(default_factory=dict)
    """Dataset-provided facts exposed to the kernel as `Metadata.extra` (never the ground truth)."""
    key_frames: int = DEFAULT_KEY_FRAMES
    """Evenly spaced frames of each video shown to the model up front (all frames stay in the kernel)."""
    instruction: str = ""
    """The benchmark's own instruction sentence(s): answer format and input conventions, shown after
    the question."""


class KeyFrame(NamedTuple):
    """One frame shown to the model up front, and where the kernel holds it."""

    video: int
    """0-based number of the video in `Sample.videos`."""
    position: int
    """Position in that video's frame list: `InputImages[position]` (`InputImages_<video+1>` for
    several videos)."""
    frame: Frame


def evenly_spaced(n: int, k: int) -> list[int]:
    """`k` evenly spaced positions in 0..n-1, round(i·(n−1)/(k−1)), first and last included; all of
    them when k ≥ n, [0] when k is 1."""
    if n <= 0 or k <= 0:
        return []
    if k >= n:
        return list(range(n))
    if k == 1:
        return [0]
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})


def key_frames(sample: Sample, per_video: int | None = None) -> list[KeyFrame]:
    """The frames shown up front: `per_video` (default `sample.key_frames`) evenly spaced frames of
    each video, videos in order."""
    count = per_video if per_video is not None else sample.key_frames
    return [
        KeyFrame(v, pos, video.frames[pos])
        for v, video in enumerate(sample.videos)
        for pos in evenly_spaced(len(video.frames), count)
    ]


class Score(msgspec.Struct, frozen=True, kw_only=True):
    """How one answer scored."""

    value: float
    """0..1; 1/0 for exact match, the MRA value for numeric questions."""
    metric: str
    """`exact`, `mra`, … so aggregations can tell scores apart."""
    extracted: str | None = None
    """The answer after extraction (letter, number), or None when nothing could be extracted."""


class SuiteOptions(msgspec.Struct, frozen=True, kw_only=True):
    """What a suite factory receives from the command line / config."""

    n: int | None = None
    """At most this many samples (None: all)."""
    seed: int = 0
    data_dir: str | None = None
    """The benchmark's local data directory, in its official layout."""
    media_dir: str = "media"
    """Where a suite may write rendered or extracted frames."""
    noise: str = "none"
    """Synthetic perception noise model name (only the synthetic suite reads it)."""
    frames: FrameSampling = "benchmark"
    """Video frame sampling: per benchmark as published, or a few uniform frames."""
    uniform_frames: int = 32
    """Frames per video when `frames` is "uniform"."""
    images: ImagePolicy = "original"
    max_side: int = 768
    """Longest side of a prepared image or video frame, in pixels."""
    skip: frozenset[str] = frozenset()
    """Ids of samples whose results already exist (a resumed run). A suite that can tell a sample's id
    before building it should skip these without any per-sample work (render, decode, media); the runner
    skips them anyway."""


@runtime_checkable
class Suite(Protocol):
    """A named set of samples plus the rule that scores answers to them."""

    name: str

    def samples(self) -> Iterator[Sample]:
        """Yield samples in a stable order. May do blocking I/O: the runner calls it off the loop."""
        ...

    def score(self, sample: Sample, answer: str | None) -> Score:
        """Score `answer` (None when the agent gave none) against the sample's ground truth."""
        ...


@runtime_checkable
class CountedSuite(Suite, Protocol):
    """A suite that can tell how many samples `samples()` will yield before yielding them (the run's
    progress total; without it the runner shows `n`, which a composite suite applies per member)."""

    def planned_samples(self) -> int:
        """How many samples `samples()` will yield (records found unusable only while a sample is built
        are not known yet). May do blocking I/O: the runner calls it off the loop.

        Raises:
            SuiteError: the suite's data cannot be read.
        """
        ...


SuiteFactory = Callable[[SuiteOptions], Suite]

_REGISTRY: dict[str, SuiteFactory] = {}


def register_suite(name: str, factory: SuiteFactory) -> None:
    """Register `factory` under `name`, replacing any earlier registration."""
    _REGISTRY[name] = factory


def _lazy_factory(target: str) -> SuiteFactory:
    def factory(options: SuiteOptions) -> Suite:
        module_name, attr = target.split(":")
        made: Suite = getattr(importlib.import_module(module_name), attr)(options)
        return made

    return factory


def _load_entry_points() -> None:
    # An entry point is either one factory, or a mapping of names to "module:factory" strings so that a
    # package with many suites can list them without importing any of them.
    for ep in entry_points(group="claw.suites"):
        loaded = ep.load()
        if isinstance(loaded, Mapping):
            for name, target in loaded.items():
                _REGISTRY.setdefault(name, _lazy_factory(target))
        else:
            _REGISTRY.setdefault(ep.name, loaded)


def suite_names() -> list[str]:
    """Names of every registered suite, sorted."""
    _load_entry_points()
    return sorted(_REGISTRY)


def suite_factory(name: str) -> SuiteFactory:
    """The factory registered as `name` (nothing is built or read yet).

    Raises:
        SuiteError: no suite has that name.
    """
    _load_entry_points()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        hint = did_you_mean(name, _REGISTRY)
        raise SuiteError(f"unknown suite {name!r}{hint}; known suites: {known} (see `claw suites`)") from None


def get_suite(name: str, options: SuiteOptions) -> Suite:
    """Build the suite registered as `name`.

    Raises:
        SuiteError: no suite has that name, or its data cannot be read.
    """
    return suite_factory(name)(options)
