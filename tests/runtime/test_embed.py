"""Embedding: one `Runner` opens the services once and runs several evaluations on them, at once; caller
sinks, progress snapshots and an async stream of typed events; `vlm.ask` events find their run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anyio
import msgspec
import pytest

from claw.config import EvalConfig
from claw.events import EpisodeFinished, EpisodeStarted, Event, LLMRequested, RunFinished, RunStarted
from claw.runtime.embed import Runner, _Routes, _RouteSink
from claw.runtime.progress import ProgressSnapshot

pytestmark = pytest.mark.slow


class ListSink:
    name = "list"

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.closed = False

    async def handle(self, events: Sequence[Event]) -> None:
        self.events.extend(events)

    async def aclose(self) -> None:
        self.closed = True


def _config(run_dir: Path, seed: int) -> EvalConfig:
    base = EvalConfig(n=2, seed=seed, run_dir=str(run_dir))
    return msgspec.structs.replace(base, limits=msgspec.structs.replace(base.limits, kernels=4, episodes=4))


def _listing(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


async def test_two_runs_at_once_share_one_set_of_services(tmp_path: Path) -> None:
    sinks, snapshots = [ListSink(), ListSink()], []
    async with Runner(_config(tmp_path / "unused", 0), work_dir=tmp_path / "runner") as runner:
        async with anyio.create_task_group() as tg:
            for seed, sink in enumerate(sinks):
                tg.start_soon(lambda s=seed, k=sink: runner.run(_config(tmp_path / f"run{s}", s), sinks=[k],
                                                               progress=snapshots.append))  # fmt: skip
    for seed, sink in enumerate(sinks):
        assert (
            sink.closed
            and isinstance(sink.events[0], RunStarted)
            and isinstance(sink.events[-1], RunFinished)
        )
        finished = [e for e in sink.events if isinstance(e, EpisodeFinished)]
        assert len(finished) == 2 and all(
            e.episode_id and e.episode_id.endswith(f"/s{seed}") for e in finished
        )
        run_logs = await anyio.to_thread.run_sync(_listing, tmp_path / f"run{seed}" / "logs")
        assert "perception.log" not in run_logs, "a run started its own perception server"
    runner_logs = await anyio.to_thread.run_sync(_listing, tmp_path / "runner" / "logs")
    assert "perception.log" in runner_logs and "mockllm.log" in runner_logs
    assert any(isinstance(s, ProgressSnapshot) and s.finished for s in snapshots)


async def test_events_stream_yields_the_typed_events_of_a_run(tmp_path: Path) -> None:
    async with Runner(_config(tmp_path / "unused", 0), work_dir=tmp_path / "runner") as runner:
        config = msgspec.structs.replace(_config(tmp_path / "run", 3), samples=["syn-3-00001"])
        async with runner.events(config) as events:
            seen = [event async for event in events]
    assert isinstance(seen[-1], RunFinished) and seen[-1].status == "success"
    started = [e for e in seen if isinstance(e, EpisodeStarted)]
    assert [e.sample_id for e in started] == ["syn-3-00001"]


async def test_vlm_events_go_to_the_run_that_started_the_episode() -> None:
    routes, got = _Routes(), []

    async def collect(event: Event) -> None:
        got.append(event)

    sink = _RouteSink(routes, "run-b")
    sink.emit = collect
    await sink.handle([EpisodeStarted(run_id="run-b", episode_id="s/x/s0", sample_id="x", suite="s",
                                      category="c", question="q", answer_format="number")])  # fmt: skip
    await routes.emit(LLMRequested(run_id="runner", episode_id="s/x/s0", role="vlm_ask", n_messages=2))
    assert [e.run_id for e in got] == ["run-b"]
    await sink.aclose()
    await routes.emit(LLMRequested(run_id="runner", episode_id="s/x/s0", role="vlm_ask", n_messages=2))
    assert len(got) == 1, "an ended run still received events"
