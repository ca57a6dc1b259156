"""Where events go: the JSONL event log (the source of truth), the results file (one line per ended
episode, flushed and synced as it ends: a score, or an `error` when its infrastructure failed or the
runtime could not end it), a progress reporter, and the run summary.

Each file has exactly one writer: the sink task that owns it. Writes run in a worker thread so the event
loop never blocks on disk.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import anyio
import msgspec

from claw.errors import ClawError
from claw.events import (
    EpisodeFailed,
    EpisodeFinished,
    EpisodeResult,
    Event,
    decode_result,
    encode_line,
)

__all__ = [
    "CategoryScore",
    "JsonlSink",
    "ResultsSink",
    "Summary",
    "read_results",
    "repair_results",
    "repair_tail",
    "scored_episodes",
    "summarize",
    "write_summary",
]


def _append_and_sync(handle: IO[bytes], data: bytes, *, sync: bool) -> None:
    handle.write(data)
    handle.flush()
    if sync:
        os.fsync(handle.fileno())


class JsonlSink:
    """Appends every event to `events.jsonl`, one JSON object per line."""

    name = "events"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] = path.open("ab")

    async def handle(self, events: Sequence[Event]) -> None:
        """Write the batch and flush."""
        data = b"".join(encode_line(e) for e in events)
        await anyio.to_thread.run_sync(lambda: _append_and_sync(self._handle, data, sync=False))

    async def aclose(self) -> None:
        """Sync and close the file."""
        await anyio.to_thread.run_sync(lambda: _append_and_sync(self._handle, b"", sync=True))
        self._handle.close()


class ResultsSink:
    """Appends one `EpisodeResult` per ended episode to `results.jsonl` (`EpisodeFinished`, or
    `EpisodeFailed` as an `error` with its `error_type`), synced to disk each time."""

    name = "results"

    def __init__(self, path: Path, suite: str) -> None:
        self.path = path
        self.suite = suite
        self._handle: IO[bytes] = path.open("ab")

    async def handle(self, events: Sequence[Event]) -> None:
        """Record the episodes that ended in the batch."""
        lines = [
            encode_line(
                _result_of(e, self.suite) if isinstance(e, EpisodeFinished) else _failure_of(e, self.suite)
            )
            for e in events
            if isinstance(e, EpisodeFinished | EpisodeFailed)
        ]
        if lines:
            data = b"".join(lines)
            await anyio.to_thread.run_sync(lambda: _append_and_sync(self._handle, data, sync=True))

    async def aclose(self) -> None:
        """Close the file (every line is already synced)."""
        self._handle.close()


def _result_of(event: EpisodeFinished, suite: str) -> EpisodeResult:
    return EpisodeResult(
        run_id=event.run_id,
        episode_id=event.episode_id or "",
        sample_id=event.sample_id,
        suite=event.suite or suite,
        category=event.category,
        answer=event.answer,
        ground_truth=event.ground_truth,
        score=event.score,
        metric=event.metric,
        reason=event.reason,
        steps=event.steps,
        duration_s=event.duration_s,
        prompt_tokens=event.prompt_tokens,
        completion_tokens=event.completion_tokens,
    )


def _failure_of(event: EpisodeFailed, suite: str) -> EpisodeResult:
    return EpisodeResult(
        run_id=event.run_id,
        episode_id=event.episode_id or "",
        sample_id=event.sample_id,
        suite=event.suite or suite,
        category=event.category,
        answer=None,
        ground_truth=event.ground_truth,
        score=0.0,
        metric="",
        reason="error",
        steps=event.step,
        duration_s=event.duration_s,
        error_type=event.error_type,
    )


class CategoryScore(msgspec.Struct, frozen=True, kw_only=True):
    """Mean score of one category."""

    n: int
    accuracy: float


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    """`summary.json`: the overall score (0–1) and per-category scores. Other tools read these names."""

    run_id: str
    suite: str
    n: int
    accuracy: float
    per_category: dict[str, CategoryScore]
    answered: int
    forced: int
    errors: int
    """Episodes that ran to their end in `error` (model or tool infrastructure failed); not in `n` or the
    accuracy."""
    failed: int = 0
    """Episodes the runtime could not end normally (`EpisodeFailed`: wall-clock limit, kernel restarts
    spent, a runtime bug), recorded as `error` with their `error_type`; not in `n`, the accuracy or
    `errors`."""
    status: str = ""
    """`complete`, or `incomplete: …` saying why (cancelled, crashed, error)."""
    target_n: int | None = None
    """The `n` the run was asked for (None: every sample)."""
    duration_s: float = 0.0
    """Wall time over every segment of the run (resumes included)."""
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    kernel_deaths: int = 0
    failures: dict[str, int] = msgspec.field(default_factory=dict)
    """Failures by kind: failed model calls by error type, runtime failures by exception type."""


def summarize(run_id: str, suite: str, results: Sequence[EpisodeResult]) -> Summary:
    """Micro-average over scored episodes, plus a per-category table.

    An episode that ended in `error` is not a score: it is counted in `errors` (its model or tool
    infrastructure failed) or `failed` (the runtime could not end it: it has an `error_type`), and left out
    of `n`, the accuracy and the categories (a resume retries it unless told to keep errors).
    """
    scored = [r for r in results if r.reason != "error"]
    by_category: dict[str, list[float]] = {}
    for r in scored:
        by_category.setdefault(r.category, []).append(r.score)
    per_category = {
        name: CategoryScore(n=len(scores), accuracy=sum(scores) / len(scores))
        for name, scores in sorted(by_category.items())
    }
    total = sum(r.score for r in scored)
    return Summary(
        run_id=run_id,
        suite=suite,
        n=len(scored),
        accuracy=total / len(scored) if scored else 0.0,
        per_category=per_category,
        answered=sum(r.reason == "answered" for r in scored),
        forced=sum(r.reason == "forced" for r in scored),
        errors=sum(not r.error_type for r in results) - len(scored),
        failed=sum(bool(r.error_type) for r in results),
    )


def write_summary(path: Path, summary: Summary) -> None:
    """Write `summary.json` atomically (write a temporary file, then rename)."""
    tmp = path.with_suffix(".json.tmp")
    tmp.write_bytes(msgspec.json.format(msgspec.json.encode(summary), indent=2) + b"\n")
    tmp.replace(path)


def repair_tail(path: Path, *, chunk: int = 1 << 16) -> None:
    """Cut a partial last line (a crash mid-write) off a JSONL file (`results.jsonl`, `events.jsonl`), so
    that appending resumes on a line boundary. Reads only the file's tail, however long the file is.

    Only the process about to append may call this; readers skip a partial tail instead.
    """
    if not path.exists():
        return
    with path.open("r+b") as handle:
        end = handle.seek(0, os.SEEK_END)
        position = end
        while position > 0:
            start = max(0, position - chunk)
            handle.seek(start)
            block = handle.read(position - start)
            newline = block.rfind(b"\n")
            if newline >= 0:
                cut = start + newline + 1
                break
            position = start
        else:
            cut = 0
        if cut != end:
            handle.truncate(cut)


repair_results = repair_tail
"""`results.jsonl`'s repair (the same cut)."""


def scored_episodes(results: Sequence[EpisodeResult]) -> set[str]:
    """Ids of the episodes whose last result is a score (not `error`): what a resume skips by default."""
    return {r.episode_id for r in results if r.reason != "error"}


def read_results(path: Path) -> list[EpisodeResult]:
    """Every finished episode recorded in `results.jsonl`, last record per episode winning.

    The file is only read: a partial last line (a crash, or a run still writing) is skipped, since it
    never recorded a finished episode.

    Raises:
        ClawError: a line in the middle of the file is corrupt (the message names the line).
    """
    if not path.exists():
        return []
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    results: dict[str, EpisodeResult] = {}
    for number, line in enumerate(complete.splitlines(), start=1):
        try:
            result = decode_result(line)
        except msgspec.DecodeError as exc:
            raise ClawError(
                f"{path}:{number} is not a result record ({exc}); fix or remove that line, then resume"
            ) from None
        results[result.episode_id] = result
    return list(results.values())
