"""An episode that ended in `error` is an infrastructure failure, not an answer: it is left out of the
accuracy and the categories, counted in `errors`, and a resume runs it again. A crash mid-write leaves a
partial last line in `events.jsonl` or `results.jsonl`; the next run cuts it before appending."""

from __future__ import annotations

from pathlib import Path

import anyio
import msgspec
import pytest

from claw.events import EpisodeFailed, EpisodeResult, stamp
from claw.runtime.sinks import ResultsSink, read_results, repair_tail, scored_episodes, summarize


def _result(episode: str, reason: str, score: float, category: str = "distance") -> EpisodeResult:
    return EpisodeResult(
        run_id="r",
        episode_id=episode,
        sample_id=episode,
        suite="synthetic",
        category=category,
        answer=None if reason == "error" else "1",
        ground_truth="1",
        score=score,
        metric="exact",
        reason=reason,
        steps=1,
        duration_s=0.1,
    )


def test_errors_are_not_scores() -> None:
    results = [
        _result("a", "answered", 1.0),
        _result("b", "forced", 0.0),
        _result("c", "error", 0.0),
        _result("d", "error", 0.0, category="count"),
    ]
    timed_out = msgspec.structs.replace(_result("e", "error", 0.0), error_type="EpisodeTimeout")
    summary = summarize("r", "synthetic", [*results, timed_out])
    assert (summary.n, summary.accuracy, summary.errors, summary.failed) == (2, 0.5, 2, 1)
    assert list(summary.per_category) == ["distance"]
    assert summary.per_category["distance"].n == 2


def test_a_run_of_only_errors_scores_nothing() -> None:
    summary = summarize("r", "synthetic", [_result("a", "error", 0.0)])
    assert (summary.n, summary.accuracy, summary.errors) == (0, 0.0, 1)


def test_resume_skips_scored_episodes_only() -> None:
    results = [_result("a", "answered", 1.0), _result("b", "error", 0.0)]
    assert scored_episodes(results) == {"a"}


@pytest.mark.parametrize("chunk", [3, 1 << 16])
def test_a_partial_tail_is_cut_to_the_last_whole_line(tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"a":1}\n{"b":2}\n{"c":')
    repair_tail(path, chunk=chunk)
    assert path.read_bytes() == b'{"a":1}\n{"b":2}\n'
    repair_tail(path, chunk=chunk)
    assert path.read_bytes() == b'{"a":1}\n{"b":2}\n'


def test_a_file_without_any_whole_line_is_emptied(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"half')
    repair_tail(path)
    assert path.read_bytes() == b""


async def test_an_episode_the_runtime_could_not_end_is_one_typed_error_line(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    sink = await anyio.to_thread.run_sync(ResultsSink, path, "synthetic")
    failed = EpisodeFailed(
        **stamp("r", episode_id="synthetic/a/s0"),
        sample_id="a",
        error_type="EpisodeTimeout",
        message="ran past agent.episode_timeout_s",
        category="distance",
        ground_truth="1",
        duration_s=3.5,
    )
    await sink.handle([failed])
    await sink.aclose()
    [result] = await anyio.to_thread.run_sync(read_results, path)
    assert (result.episode_id, result.reason, result.error_type, result.score) == (
        "synthetic/a/s0",
        "error",
        "EpisodeTimeout",
        0.0,
    )
    assert (result.suite, result.category, result.ground_truth, result.duration_s) == (
        "synthetic",
        "distance",
        "1",
        3.5,
    )
    summary = summarize("r", "synthetic", [result])
    assert (summary.n, summary.errors, summary.failed) == (0, 0, 1)
    assert scored_episodes([result]) == set()
