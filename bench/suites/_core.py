"""The shared core every benchmark loader is built on: the `BenchSuite` that turns a benchmark module's
three functions (`rows`, `build`, `score`) into a `claw.suite.Suite`, subsampling (whole groups where a
benchmark scores groups), counted skips of unusable records, and the sample context. The readers
(`_readers`) and option helpers (`_options`) are re-exported here for the loaders.

A benchmark module only parses: it declares a msgspec Struct per official record, reads rows, and
builds `Sample`s; the generic parts (data directory, media store, subsampling, rules) live here.
"""

from __future__ import annotations

import builtins
import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Generic, Literal, TypeVar

import msgspec

from bench.scoring import exact_score, letter_of
from claw.errors import SuiteError
from claw.suite import DEFAULT_KEY_FRAMES, AnswerFormat, Frame, MetaValue, Sample, Score, SuiteOptions, Video

from ._instructions import instruction_for
from ._media import MediaStore, VideoSampling
from ._options import letters, option_list, option_text, split_inline_options
from ._readers import data_files, read_csv, read_json, read_json_records, read_jsonl, read_parquet
from ._skips import RecordSkipped, Skip, collecting, skip
from ._specs import BenchSpec

__all__ = [
    "BenchSuite",
    "Context",
    "HFImage",
    "Rules",
    "data_files",
    "image_video",
    "letter_score",
    "letters",
    "option_list",
    "option_text",
    "read_csv",
    "read_json",
    "read_json_records",
    "read_jsonl",
    "read_parquet",
    "run_sampling",
    "split_inline_options",
    "suite_factory",
]

R = TypeVar("R")
T = TypeVar("T")
Rules = Literal["official", "sc"]
"""Which scoring rule a suite applies: the benchmark's own (default) or the published system's."""


class Context:
    """What `build` needs besides the row: the data directory, the media store and the spec."""

    def __init__(
        self, spec: BenchSpec, data: Path, media: MediaStore, key_frames: int = DEFAULT_KEY_FRAMES
    ) -> None:
        self.spec = spec
        self.data = data
        self.media = media
        self.key_frames = key_frames
        """Key frames per video the published system showed for this benchmark."""

    def __repr__(self) -> str:
        return f"Context(suite={self.spec.name!r}, data={str(self.data)!r})"

    def find(self, relative: str, *folders: str) -> Path:
        """The first existing of `data/<folder>/relative` (folders in order: the documented one first)
        and `data/relative`; when none exists, the documented location, so errors name it."""
        candidates = [*(self.data / f / relative for f in folders), self.data / relative]
        return next((c for c in candidates if c.exists()), candidates[0])

    def sample(
        self,
        sample_id: str,
        question: str,
        answer_format: AnswerFormat,
        ground_truth: str,
        videos: Sequence[Video],
        *,
        category: str = "default",
        options: Sequence[str] = (),
        metadata: dict[str, MetaValue] | None = None,
    ) -> Sample:
        """A `Sample` of this suite, with the benchmark's instruction sentences attached."""
        made = Sample(
            id=sample_id, suite=self.spec.name, question=question.strip(), answer_format=answer_format,
            ground_truth=ground_truth, videos=tuple(videos), category=category, options=tuple(options),
            metadata=metadata or {}, key_frames=self.key_frames,
        )  # fmt: skip
        return msgspec.structs.replace(made, instruction=instruction_for(made))


class HFImage(msgspec.Struct, frozen=True, kw_only=True):
    """A Hugging Face `Image` feature as stored in parquet: embedded bytes, or a path, or both."""

    bytes: builtins.bytes | None = None
    path: str | None = None

    def frame(self, ctx: Context, index: int) -> Frame:
        """This image as a frame: the bytes written to the media store, else the file under the data dir.

        Raises:
            SuiteError: the row carries neither bytes nor an existing path.
        """
        if self.bytes:
            return ctx.media.image_bytes(self.bytes, index)
        if self.path:
            return ctx.media.image_file(ctx.data / self.path, index)
        raise SuiteError(f"{ctx.spec.title}: an image cell has neither bytes nor a path")


def image_video(ctx: Context, name: str, images: Sequence[HFImage | bytes]) -> Video:
    """Embedded images (HF structs or raw bytes) as one image-set `Video`."""
    frames = tuple(
        ctx.media.image_bytes(im, i) if isinstance(im, bytes) else im.frame(ctx, i)
        for i, im in enumerate(images)
    )
    return Video(name=name, frames=frames)


def letter_score(letter: str | None, sample: Sample) -> Score:
    """Exact match of an extracted letter with the sample's ground-truth letter."""
    return exact_score(letter, letter_of(sample.ground_truth))


# --- the suite -------------------------------------------------------------------------------------


class BenchSuite(Generic[R]):
    """A public benchmark as a `claw.suite.Suite`: rows are read, subsampled, then built lazily."""

    def __init__(
        self,
        spec: BenchSpec,
        options: SuiteOptions,
        *,
        rows: Callable[[Path], Sequence[R | None]],
        build: Callable[[R, int, Context], Sample],
        score: Callable[[Sample, str | None, Rules], Score],
        rules: Rules = "official",
        sampling: VideoSampling | None = None,
        group_of: Callable[[R], str] | None = None,
        key_frames: int = DEFAULT_KEY_FRAMES,
    ) -> None:
        self.name = spec.name
        self.spec = spec
        self.options = options
        self.rules: Rules = rules
        self.key_frames = key_frames
        self._rows, self._build, self._score = rows, build, score
        self._group_of = group_of
        self._selection: list[tuple[int, R]] | None = None
        self.skipped: list[Skip] = []
        """Records of the last read that could not be used (id and reason); `claw data check` counts them."""
        self._media = MediaStore(Path(options.media_dir), spec.name, run_sampling(sampling, options))

    def __repr__(self) -> str:
        return f"BenchSuite({self.name!r}, data={str(self.data_dir)!r}, rules={self.rules!r})"

    @property
    def data_dir(self) -> Path:
        """The local copy: `options.data_dir`, else `data/<name>`."""
        return Path(self.options.data_dir or Path("data") / self.name)

    def samples(self) -> Iterator[Sample]:
        """Samples in file order, or `options.n` of them shuffled with `random.Random(options.seed)`.

        Raises:
            SuiteError: the data directory or a file in it is missing or malformed.
        """
        self._require_data()
        ctx = Context(self.spec, self.data_dir, self._media, self.key_frames)
        for index, row in self._selected():
            sample = self._try_build(row, index, ctx)
            if sample is not None:
                yield sample

    def planned_samples(self) -> int:
        """How many samples `samples()` will yield (rows found unusable while building are not counted
        out yet); the next `samples()` builds from the rows read here instead of reading them again.

        Raises:
            SuiteError: the data directory or a file in it is missing or malformed.
        """
        self._require_data()  # the runner asks before it starts any service: a missing folder ends at once
        self._selection = self._selected()
        return len(self._selection)

    def _require_data(self) -> None:
        if not self.data_dir.is_dir():
            raise SuiteError(
                f"{self.spec.title} data not found at {self.data_dir}; pass --data DIR "
                f"(official copy: {self.spec.source})"
            )

    def _selected(self) -> list[tuple[int, R]]:
        """The rows to build: those `planned_samples` read, handed over once, else a fresh read."""
        selection, self._selection = self._selection, None
        return selection if selection is not None else self._select(self._read())

    def _read(self) -> list[tuple[int, R]]:
        """(position in the files, row) for every usable record; the rest are counted in `skipped`."""
        with collecting() as skips:
            rows = self._rows(self.data_dir)
        self.skipped = list(skips)
        return [(i, r) for i, r in enumerate(rows) if r is not None]

    def _try_build(self, row: R, index: int, ctx: Context) -> Sample | None:
        try:
            return self._build(row, index, ctx)
        except RecordSkipped as exc:
            entry = Skip(record=exc.record, reason=exc.reason, where=str(self.data_dir))
            skip(entry)
            self.skipped.append(entry)
            return None

    def _select(self, indexed: list[tuple[int, R]]) -> list[tuple[int, R]]:
        if self.options.n is None:
            return indexed
        if self._group_of is not None:
            return self._select_groups(indexed, self._group_of, self.options.n)
        random.Random(self.options.seed).shuffle(indexed)
        return indexed[: self.options.n]

    def _select_groups(
        self, indexed: list[tuple[int, R]], group_of: Callable[[R], str], n: int
    ) -> list[tuple[int, R]]:
        """Whole groups in shuffled order until at least `n` rows (a benchmark scored per group)."""
        groups: dict[str, list[tuple[int, R]]] = {}
        for item in indexed:
            groups.setdefault(group_of(item[1]), []).append(item)
        order = list(groups)
        random.Random(self.options.seed).shuffle(order)
        chosen: list[tuple[int, R]] = []
        for key in order:
            if len(chosen) >= n:
                break
            chosen += groups[key]
        return chosen

    def missing_media(self) -> list[Path]:
        """Media files the rows reference that are not on disk (decodes and writes nothing).

        Raises:
            SuiteError: an annotation file is missing or malformed.
        """
        store = MediaStore(Path(self.options.media_dir), self.name, check_only=True)
        ctx = Context(self.spec, self.data_dir, store)
        for index, row in self._read():
            self._try_build(row, index, ctx)
        return store.missing

    def score(self, sample: Sample, answer: str | None) -> Score:
        """Score `answer` under this suite's rules."""
        return self._score(sample, answer, self.rules)


def run_sampling(benchmark: VideoSampling | None, options: SuiteOptions) -> VideoSampling:
    """The benchmark's published sampling with the run's choices applied (uniform frames, image policy,
    longest side)."""
    base = benchmark or VideoSampling()
    uniform = options.uniform_frames if options.frames == "uniform" else None
    return msgspec.structs.replace(base, uniform=uniform, images=options.images, max_side=options.max_side)


def suite_factory(
    spec: BenchSpec,
    rows: Callable[[Path], Sequence[R | None]],
    build: Callable[[R, int, Context], Sample],
    score: Callable[[Sample, str | None, Rules], Score],
    *,
    sampling: VideoSampling | None = None,
    group_of: Callable[[R], str] | None = None,
    key_frames: int = DEFAULT_KEY_FRAMES,
) -> tuple[Callable[[SuiteOptions], BenchSuite[R]], Callable[[SuiteOptions], BenchSuite[R]]]:
    """The (official, published-system) pair of factories for a benchmark module; `group_of` makes
    `--n` sample whole groups (Video-MME-v2's videos); `sampling` and `key_frames` are the benchmark's
    published input settings."""

    def make(options: SuiteOptions, rules: Rules) -> BenchSuite[R]:
        return BenchSuite(
            spec, options, rows=rows, build=build, score=score, rules=rules, sampling=sampling,
            group_of=group_of, key_frames=key_frames,
        )  # fmt: skip

    def official(options: SuiteOptions) -> BenchSuite[R]:
        return make(options, "official")

    def sc(options: SuiteOptions) -> BenchSuite[R]:
        return make(options, "sc")

    return official, sc
