"""The shared core every benchmark loader is built on: typed readers for the official file formats
(parquet through pyarrow, JSON, JSON lines, CSV), the `BenchSuite` that turns a benchmark module's
three functions (`rows`, `build`, `score`) into a `claw.suite.Suite`, subsampling, and small helpers
for option lists.

A benchmark module only parses: it declares a msgspec Struct per official record, reads rows, and
builds `Sample`s; the generic parts (data directory, media store, subsampling, rules) live here.
"""

from __future__ import annotations

import builtins
import csv
import random
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Generic, Literal, TypeVar

import msgspec

from bench.scoring import exact_score, letter_of
from claw.errors import SuiteError
from claw.suite import DEFAULT_KEY_FRAMES, AnswerFormat, Frame, MetaValue, Sample, Score, SuiteOptions, Video

from ._instructions import instruction_for
from ._media import MediaStore, VideoSampling
from ._skips import RecordSkipped, Skip, collecting, convert_records, skip
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


# --- readers ---------------------------------------------------------------------------------------


def read_parquet(paths: Sequence[Path], row_type: type[T]) -> list[T | None]:
    """Rows of one or more parquet files (in order) as `row_type` records; a row that does not match
    is None in its place, skipped and counted (`_skips`).

    Raises:
        SuiteError: a file cannot be read.
    """
    import pyarrow.parquet as pq  # heavy: only loaders that read parquet pay for it

    rows: list[T | None] = []
    for path in paths:
        try:
            records = pq.read_table(path).to_pylist()
        except (OSError, ValueError) as exc:
            raise SuiteError(f"cannot read parquet {path}: {exc}") from exc
        rows.extend(convert_records(records, row_type, path))
    return rows


def _load_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"cannot read {path}: {exc}; run `claw data check` for the expected layout") from exc


def read_json(path: Path, row_type: type[T], *, lenient: bool = False) -> T:
    """A JSON file as `row_type`; `lenient` first drops trailing commas (Video-MME's template has them).

    Raises:
        SuiteError: the file is missing, not JSON, or does not match `row_type`.
    """
    text = _load_text(path)
    if lenient:
        text = re.sub(r",(\s*[\]}])", r"\1", text)
    try:
        return msgspec.json.decode(text, type=row_type, strict=False)
    except msgspec.DecodeError as exc:
        raise SuiteError(f"{path}: not in the official format ({exc})") from exc


def read_jsonl(path: Path, row_type: type[T]) -> list[T | None]:
    """A JSON-lines file as `row_type` records (blank lines ignored); a line that is not JSON or does not
    match is None in its place, skipped and counted.

    Raises:
        SuiteError: the file is missing.
    """
    records: list[object] = []
    for n, line in enumerate(_load_text(path).splitlines(), 1):
        if line.strip():
            try:
                records.append(msgspec.json.decode(line))
            except msgspec.DecodeError as exc:
                records.append({"id": f"line {n}", "_error": str(exc)})
    return convert_records(records, row_type, path)


def read_json_records(path: Path, row_type: type[T], *, key: str | None = None) -> list[T | None]:
    """A JSON file holding a list of records (or an object with the list under `key`) as `row_type`
    records, converted one by one (a record that does not match is None in its place, counted).

    Raises:
        SuiteError: the file is missing, not JSON, or holds no such list.
    """
    document = read_json(path, object)
    records = document.get(key) if key is not None and isinstance(document, dict) else document
    if not isinstance(records, list):
        where = f'a list under "{key}"' if key else "a list of records"
        raise SuiteError(f"{path}: expected {where}; is this the official file?")
    return convert_records(records, row_type, path)


def read_csv(path: Path, row_type: type[T]) -> list[T | None]:
    """A CSV file with a header row as `row_type` records (values stay strings unless the type says); a
    row that does not match is None in its place, skipped and counted.

    Raises:
        SuiteError: the file is missing.
    """
    records: list[object] = list(csv.DictReader(_load_text(path).splitlines()))
    return convert_records(records, row_type, path)


def data_files(data: Path, pattern: str) -> list[Path]:
    """Files under `data` matching `pattern` (a glob; "a|b" tries alternatives in order), sorted.

    Raises:
        SuiteError: nothing matches.
    """
    for alternative in pattern.split("|"):
        found = sorted(p for p in data.glob(alternative) if p.is_file())
        if found:
            return found
    raise SuiteError(f"{data} has no {pattern}; run `claw data check` to see what is missing")


# --- options ---------------------------------------------------------------------------------------


def letters(n: int) -> str:
    """The first `n` option letters, "ABCD…"."""
    return "".join(chr(65 + i) for i in range(n))


def option_text(option: str) -> str:
    """An option without its own "A. " / "A: " / "(A) " prefix."""
    return re.sub(r"^\s*\(?[A-Za-z][.:)]\s*", "", option).strip()


def split_inline_options(question: str, marker: str = "") -> tuple[str, list[str]]:
    """Split "… A. x B. y C. z" (or "A: x, B: y" / "(A) x") into the question and option texts.

    Options must run A, B, C, … in order; when they do not, the question comes back whole with no options.
    """
    start = question.find(marker) if marker else -1
    head, tail = (question[:start], question[start + len(marker) :]) if start >= 0 else ("", question)
    hits = list(re.finditer(r"(?:(?<=\s)|^)\(?([A-K])[.:)]\s", tail))
    chosen = _abc_run(hits)
    if len(chosen) < 2:
        return question, []
    cut = [m.start() for m in chosen] + [len(tail)]
    options = [tail[cut[i] : cut[i + 1]] for i in range(len(chosen))]
    text = (head + tail[: chosen[0].start()]).strip()
    return text, [option_text(o).rstrip(",;").strip() for o in options]


def option_list(value: str | Sequence[str] | None) -> list[str]:
    """Option texts from any released shape: a list of "A. x" entries, one string with one option per
    line, or all options packed into one string (CV-Bench's record 996) — prefixes removed."""
    if value is None:
        return []
    if isinstance(value, str):
        packed = [value]
    else:
        packed = [v for v in value if v is not None]
    if len(packed) == 1:
        lines = [line for line in packed[0].splitlines() if line.strip()]
        if len(lines) > 1:
            return [option_text(line) for line in lines]
        _, inline = split_inline_options(packed[0])
        if inline:
            return inline
    return [option_text(v) for v in packed]


def _abc_run(hits: Sequence[re.Match[str]]) -> list[re.Match[str]]:
    """The last run of matches whose letters go A, B, C, … in order."""
    best: list[re.Match[str]] = []
    for i, m in enumerate(hits):
        if m.group(1) != "A":
            continue
        run = [m]
        for later in hits[i + 1 :]:
            if later.group(1) == chr(ord(run[-1].group(1)) + 1):
                run.append(later)
        best = run if len(run) >= 2 else best
    return best


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
        if not self.data_dir.is_dir():
            raise SuiteError(
                f"{self.spec.title} data not found at {self.data_dir}; pass --data DIR "
                f"(official copy: {self.spec.source})"
            )
        ctx = Context(self.spec, self.data_dir, self._media, self.key_frames)
        for index, row in self._select(self._read()):
            sample = self._try_build(row, index, ctx)
            if sample is not None:
                yield sample

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
