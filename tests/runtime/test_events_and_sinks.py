"""Event codec round trips, the sinks' files, resume reading and the summary."""

from __future__ import annotations

from pathlib import Path

import anyio
import msgspec
import pytest

from claw import events as ev
from claw.errors import ClawError
from claw.runtime.bus import Bus
from claw.runtime.sinks import JsonlSink, ResultsSink, read_results, repair_results, summarize

ALL_EVENTS: list[ev.Event] = [
    ev.RunStarted(run_id="r", suite="s", claw_version="0", config={"n": 3}),
    ev.EpisodeStarted(
        run_id="r",
        episode_id="e",
        sample_id="1",
        suite="s",
        category="c",
        question="q",
        answer_format="letter",
    ),
    ev.KeyFramesChosen(
        run_id="r", episode_id="e", frames=[ev.RecordedImage(path="media/a.png", sha256="ab")]
    ),
    ev.LLMRequested(
        run_id="r",
        episode_id="e",
        role="agent",
        n_messages=2,
        n_images=1,
        thread="agent",
        base=1,
        appended=[
            ev.RecordedMessage(
                role="user",
                content=[ev.RecordedText(text="look"), ev.RecordedImage(path="m.png", sha256="cd")],
            ),
            ev.RecordedMessage(
                role="assistant",
                content="",
                tool_calls=[ev.RecordedToolCall(id="c1", name="SAM3", arguments="{}")],
            ),
        ],
    ),
    ev.LLMResponded(
        run_id="r",
        episode_id="e",
        role="agent",
        endpoint="u",
        prompt_tokens=5,
        completion_tokens=6,
        latency_s=0.5,
    ),
    ev.LLMFailed(run_id="r", episode_id="e", role="agent", error_type="LLMTimeout", message="slow"),
    ev.PlanMade(run_id="r", episode_id="e", plan="1. look"),
    ev.CellProposed(
        run_id="r", episode_id="e", step=1, purpose="p", reasoning="r", next_goal="g", code="x=1"
    ),
    ev.ResponseMalformed(run_id="r", episode_id="e", reason="no code", raw_chars=3),
    ev.CellChecked(run_id="r", episode_id="e", ok=False, rule="import", lineno=1, message="no os"),
    ev.CellExecuted(run_id="r", episode_id="e", status="error", duration_s=0.1, error_type="NameError"),
    ev.KernelFailed(run_id="r", episode_id="e", kernel_id="k1", message="died"),
    ev.ObservationMade(run_id="r", episode_id="e", text="## Observation", n_images=2),
    ev.AnswerSubmitted(run_id="r", episode_id="e", answer="B", valid=True),
    ev.EpisodeFinished(
        run_id="r",
        episode_id="e",
        sample_id="1",
        category="c",
        answer="B",
        ground_truth="B",
        score=1.0,
        metric="exact",
        reason="answered",
        steps=3,
        duration_s=1.0,
    ),
    ev.EpisodeFailed(run_id="r", episode_id="f", sample_id="2", error_type="X", message="m"),
    ev.RunFinished(run_id="r", status="success", episodes=1, failed=0, accuracy=1.0, duration_s=2.0),
]


def test_every_event_type_is_covered_here() -> None:
    assert {type(e) for e in ALL_EVENTS} == set(ev.Event.__args__)  # type: ignore[attr-defined]


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: type(e).__name__)
def test_event_round_trip(event: ev.Event) -> None:
    line = ev.encode_line(event)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert ev.decode_event(line) == event
    assert msgspec.json.decode(line)["format_version"] == ev.FORMAT_VERSION


def test_unknown_event_tag_is_rejected() -> None:
    with pytest.raises(msgspec.ValidationError):
        ev.decode_event(b'{"event": "mystery", "run_id": "r"}')


async def test_bus_writes_events_and_synced_results(tmp_path: Path) -> None:
    events_path, results_path = tmp_path / "events.jsonl", tmp_path / "results.jsonl"
    async with Bus([JsonlSink(events_path), ResultsSink(results_path, "s")]) as bus:
        for event in ALL_EVENTS:
            await bus.emit(event)
    lines = (await anyio.Path(events_path).read_bytes()).splitlines()
    assert [ev.decode_event(line) for line in lines] == ALL_EVENTS
    results = await anyio.to_thread.run_sync(read_results, results_path)
    assert [(r.episode_id, r.score, r.suite, r.reason, r.error_type) for r in results] == [
        ("e", 1.0, "s", "answered", ""),
        ("f", 0.0, "s", "error", "X"),
    ]


def _result(episode: str, category: str, score: float) -> ev.EpisodeResult:
    return ev.EpisodeResult(
        run_id="r",
        episode_id=episode,
        sample_id=episode,
        suite="s",
        category=category,
        answer="a",
        ground_truth="a",
        score=score,
        metric="exact",
        reason="answered",
        steps=1,
        duration_s=0.1,
    )


def test_partial_last_line_is_skipped_by_readers_and_cut_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_bytes(ev.encode_line(_result("e1", "c", 1.0)) + b'{"run_id": "r", "epis')
    partial = path.read_bytes()
    assert [r.episode_id for r in read_results(path)] == ["e1"]
    assert path.read_bytes() == partial, "reading must never change the file a run may be writing"
    repair_results(path)
    path.write_bytes(path.read_bytes() + ev.encode_line(_result("e2", "c", 0.0)))
    assert [r.episode_id for r in read_results(path)] == ["e1", "e2"]


def test_read_results_refuses_a_corrupt_middle_line(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_bytes(b"not json\n" + ev.encode_line(_result("e1", "c", 1.0)))
    with pytest.raises(ClawError, match=r"results\.jsonl:1"):
        read_results(path)


def test_summary_is_micro_average_with_categories() -> None:
    results = [_result("1", "count", 1.0), _result("2", "count", 0.0), _result("3", "size", 0.5)]
    summary = summarize("r", "s", results)
    assert summary.accuracy == pytest.approx(0.5)
    assert summary.per_category["count"].accuracy == pytest.approx(0.5)
    assert summary.per_category["size"].n == 1
