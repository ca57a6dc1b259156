"""Event sink benchmark: events per second through the real sinks (the JSONL event log and the results
file, synced per finished episode) while `claw tail -f` follows the log live.

`python -m bench.perf.sink --json OUT` replays a recorded mix of real episode events (from a
`bench.perf.runtime` level, or a built-in mix of one episode's events) `--events` times over through a
`Bus`, with a follower reading the same file through `claw.runtime.tail`. `events_per_s` counts from the
first emit until the follower has rendered the last event; `tail_lag_ms_p50/p95` is how long after its
emit the follower saw an event.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import anyio
import msgspec

from bench.perf._cli import say, write_figures
from claw._files import temporary_directory
from claw.events import Event, RunFinished, stamp
from claw.runtime.bus import Bus, Sink
from claw.runtime.sinks import JsonlSink, ResultsSink
from claw.runtime.tail import tail_events

__all__ = ["measure_sink"]


def _restamped(event: Event, index: int) -> Event:
    # A fresh episode id per copy, so that the results stay distinct.
    episode = f"{event.episode_id}-{index}" if event.episode_id else None
    return msgspec.structs.replace(event, episode_id=episode, t_wall=time.time())


async def measure_sink(events: list[Event], copies: int) -> dict[str, object]:
    """Emit `copies` rounds of `events` through the real sinks with a live follower; the figures."""
    emitted: list[float] = []
    seen: list[float] = []
    total = len(events) * copies
    async with temporary_directory(prefix="claw-sink-") as folder:
        sinks: list[Sink] = [
            JsonlSink(folder / "events.jsonl"),
            ResultsSink(folder / "results.jsonl", "bench"),
        ]
        started = time.perf_counter()
        cpu = time.process_time()
        async with Bus(sinks) as bus, anyio.create_task_group() as tg:
            emitted.append(time.perf_counter())
            await bus.emit(events[0])
            tg.start_soon(_follow, folder, seen)
            for index in range(copies):
                for event in events:
                    emitted.append(time.perf_counter())
                    await bus.emit(_restamped(event, index))
            finished = RunFinished(
                **stamp("bench"),
                status="success",
                episodes=copies,
                failed=0,
                accuracy=1.0,
                duration_s=0.0,
            )
            emitted.append(time.perf_counter())
            await bus.emit(finished)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
    # The follower renders the lines in the order they were emitted: the i-th seen is the i-th emitted.
    lags = sorted(max(0.0, s - e) for s, e in zip(seen, emitted, strict=False))
    figures: dict[str, object] = {
        "events": total,
        "events_per_s": round(total / wall, 1),
        "sink_cpu_us_per_event": round(1e6 * cpu / total, 1),
        "tail_lag_ms_p50": round(1000 * lags[len(lags) // 2], 2) if lags else None,
        "tail_lag_ms_p95": round(1000 * lags[int(0.95 * len(lags))], 2) if lags else None,
    }
    say(
        f"sink: {figures['events_per_s']} events/s through the event log and results file with a live "
        f"tail (lag p50 {figures['tail_lag_ms_p50']} ms)"
    )
    return figures


async def _follow(folder: Path, seen: list[float]) -> None:
    seen.extend([time.perf_counter() async for _line in tail_events(folder, follow=True)])


def read_events(path: Path) -> list[Event]:
    """The events of one recorded log, without its run-level events."""
    from claw.events import EpisodeFinished, decode_event

    events = [decode_event(line) for line in path.read_bytes().splitlines() if line.strip()]
    episodes = [e for e in events if e.episode_id is not None]
    first = next(e.episode_id for e in episodes if isinstance(e, EpisodeFinished))
    return [e for e in episodes if e.episode_id == first]


def main(argv: list[str] | None = None) -> int:
    """Replay `--log`'s first episode's events `--copies` times; print and write the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf.sink", description=__doc__)
    parser.add_argument("--log", type=Path, required=True, help="an events.jsonl to take one episode from")
    parser.add_argument("--copies", type=int, default=2000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    events = read_events(args.log)
    figures = anyio.run(measure_sink, events, args.copies)
    write_figures(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
