"""Helpers for the fault tests: small run configs, reading a finished run's files back, and the pieces of
the hand-written HTTP stand-ins that misbehave on purpose."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import anyio.abc
import msgspec

from claw.config import AgentConfig, EvalConfig, Limits, ModelsConfig
from claw.events import EpisodeFailed, EpisodeFinished, Event, RunFinished, decode_event
from claw.runtime.sinks import read_results

HARD_DEADLINE_S = 300.0
"""Every fault test's run must finish within this, however loaded the machine (a hang fails the test)."""


def small_config(run_dir: Path, *, policy: str = "scripted", n: int = 4, **agent: object) -> EvalConfig:
    """A short synthetic run into `run_dir` with the mock server's `policy`."""
    return EvalConfig(
        n=n,
        run_dir=str(run_dir),
        limits=Limits(episodes=n, kernels=2),
        models=ModelsConfig(policy=policy),
        agent=msgspec.structs.replace(AgentConfig(max_steps=3), **agent),
    )


class RunRecord(msgspec.Struct, kw_only=True):
    """What a run left: its events, the last record per episode, and how each episode ended."""

    events: list[Event]
    finished: dict[str, EpisodeFinished]
    failed: dict[str, EpisodeFailed]

    def ended(self) -> set[str]:
        """Episodes that ended one way or the other."""
        return set(self.finished) | set(self.failed)

    def run_finished(self) -> list[RunFinished]:
        """Every `RunFinished` in the log (one per invocation)."""
        return [e for e in self.events if isinstance(e, RunFinished)]


def _read(run_dir: Path) -> RunRecord:
    events = [decode_event(line) for line in (run_dir / "events.jsonl").read_bytes().splitlines()]
    finished = {e.episode_id or "": e for e in events if isinstance(e, EpisodeFinished)}
    failed = {e.episode_id or "": e for e in events if isinstance(e, EpisodeFailed)}
    return RunRecord(events=events, finished=finished, failed=failed)


async def read_run(run_dir: Path) -> RunRecord:
    """The run's record, read in a worker thread."""
    return await anyio.to_thread.run_sync(_read, run_dir)


async def results_of(run_dir: Path) -> dict[str, str]:
    """Episode id -> reason of the last result line of each episode."""
    results = await anyio.to_thread.run_sync(read_results, run_dir / "results.jsonl")
    return {r.episode_id: r.reason for r in results}


async def read_request_head(stream: anyio.abc.SocketStream) -> bytes | None:
    """The request line and headers read from `stream`, or None when the client went away first."""
    head = b""
    while b"\r\n\r\n" not in head:
        try:
            head += await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            return None
    return head


async def serve_each(
    listener: anyio.abc.SocketListener,
    serve: Callable[[anyio.abc.SocketStream], Awaitable[None]],
    tg: anyio.abc.TaskGroup,
) -> None:
    """Hand each accepted connection to `serve` in `tg` until the listener is closed (a stand-in that
    dies on purpose closes it) or the group is cancelled."""
    async with listener:
        while True:
            try:
                stream = await listener.accept()
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                return
            tg.start_soon(serve, stream)
