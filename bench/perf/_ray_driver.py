"""The Ray driver's own cost per episode, without Ray or workers: a recorded episode's events, re-labelled
for many episode ids and encoded as workers send them (`EventBatch` bytes, built before timing), go
through the real `Dispatcher`, bus and sinks (`events.jsonl`, `results.jsonl`, progress) from in-process
stand-in workers. CPU time of this process per episode is what the driver spends decoding, recording and
writing one episode's events; a Ray call per batch comes on top (a few tenths of a millisecond)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import msgspec

from claw.distributed.dispatch import Dispatcher
from claw.events import EpisodeFinished, EpisodeStarted, Event, decode_event, encode_line
from claw.runtime.bus import Bus, Sink
from claw.runtime.episode_task import Tally
from claw.runtime.progress import ProgressSink
from claw.runtime.sinks import JsonlSink, ResultsSink
from claw.suite import Sample
from claw.wire.ray import EventBatch, decode_batch, encode_batch

__all__ = ["driver_only", "ray_call_cpu_ms"]


def _first_episode(events_path: Path) -> list[Event]:
    events = [decode_event(line) for line in events_path.read_bytes().splitlines()]
    first = next(e.episode_id for e in events if isinstance(e, EpisodeStarted))
    return [e for e in events if e.episode_id == first]


def _relabelled(template: list[Event], index: int) -> bytes:
    episode_id, sample_id = f"synthetic/replay-{index}/s0", f"replay-{index}"
    lines = []
    for event in template:
        event = msgspec.structs.replace(event, episode_id=episode_id)
        if isinstance(event, EpisodeStarted | EpisodeFinished):
            event = msgspec.structs.replace(event, sample_id=sample_id)
        lines.append(encode_line(event))
    return encode_batch(EventBatch(lines=b"".join(lines)))


class _ReplayWorker:
    def __init__(self, name: str, batches: dict[str, bytes]) -> None:
        self.name, self._batches = name, batches
        self._queue: deque[Sample] = deque()
        self._closed = False
        self._ready = anyio.Event()

    async def submit(self, samples: Sequence[Sample]) -> None:
        self._queue.extend(samples)
        self._ready.set()

    async def take(self) -> tuple[list[Event], bool, str]:
        await self._ready.wait()
        self._ready = anyio.Event()
        if not self._queue:
            return [], self._closed, ""
        _batch, events = decode_batch(self._batches[self._queue.popleft().id])
        if self._queue or self._closed:
            self._ready.set()
        return events, False, ""

    async def close(self) -> None:
        self._closed = True
        self._ready.set()


async def _samples(count: int) -> AsyncIterator[Sample]:
    for index in range(count):
        yield Sample(
            id=f"replay-{index}",
            suite="synthetic",
            question="q",
            answer_format="text",
            ground_truth="",
            videos=(),
        )


async def driver_only(
    events_path: Path, folder: Path, episodes: int = 1000, workers: int = 64
) -> dict[str, float]:
    """Figures of the driver's own path (see the module docstring)."""
    template = _first_episode(events_path)
    batches = {f"replay-{i}": _relabelled(template, i) for i in range(episodes)}
    handles = [_ReplayWorker(f"w{i}", batches) for i in range(workers)]
    sinks: list[Sink] = [
        JsonlSink(folder / "events.jsonl"),
        ResultsSink(folder / "results.jsonl", "synthetic"),
        ProgressSink(episodes, lambda _snapshot: None),
    ]
    cpu, wall = time.process_time(), time.perf_counter()
    async with Bus(sinks) as bus:
        dispatcher = Dispatcher(handles, bus, capacity=16, episode_id=lambda s: f"synthetic/{s.id}/s0")
        await dispatcher.run(_samples(episodes), Tally())
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "driver_only_episodes": episodes,
        "driver_only_events_per_episode": len(template),
        "driver_only_bytes_per_episode": round(sum(map(len, batches.values())) / episodes),
        "driver_only_cpu_ms_per_episode": round(1000 * cpu / episodes, 3),
        "driver_only_episodes_per_s": round(episodes / wall, 1),
    }


class Echo:
    """A Ray actor body that answers at once: what one driver-to-worker call costs the driver."""

    async def echo(self, data: bytes) -> bytes:
        """`data`, back."""
        return data


async def ray_call_cpu_ms(ray: Any, calls: int = 500) -> float:
    """This process's CPU per awaited call of a 1 kB round trip to an async actor."""
    actor = ray.remote(Echo).options(num_cpus=0).remote()
    payload = b"x" * 1024
    await actor.echo.remote(payload)
    cpu = time.process_time()
    for _ in range(calls):
        await actor.echo.remote(payload)
    spent = time.process_time() - cpu
    ray.kill(actor)
    return round(1000 * spent / calls, 3)
