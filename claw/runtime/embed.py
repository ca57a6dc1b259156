"""Embedding claw in an async application: a `Runner` owns one set of services (perception server, model
transport, `vlm.ask` bridge, kernel pool and its kernel template) and runs any number of evaluations on
them, one after another or at once, each with its own run directory.

    async with Runner(EvalConfig()) as runner:
        summary = await runner.run(EvalConfig(n=5), sinks=[my_sink], progress=on_progress)
        async with runner.events(EvalConfig(samples=["syn-0-00003"])) as events:
            async for event in events:
                ...

Services are shaped by the config the Runner was opened with (perception backend, models, sandbox,
`limits.kernels`); a run's own config decides the suite, samples, agent settings and run directory.
Two runs at once must not run the same episode (same suite, sample and seed): `vlm.ask` events are routed
to the run that started the episode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

import anyio
import msgspec
import structlog
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from claw._files import temporary_directory
from claw.config import EvalConfig
from claw.events import EpisodeFailed, EpisodeFinished, EpisodeStarted, Event
from claw.runtime.bus import Sink
from claw.runtime.episode_task import RunServices
from claw.runtime.progress import ProgressSnapshot
from claw.runtime.sinks import Summary

__all__ = ["EventStreamSink", "Runner"]

_log = structlog.get_logger("claw.runtime.embed")

Emit = Callable[[Event], Awaitable[None]]


class _Routes:
    """Which run's bus gets the events of each episode in flight (for `vlm.ask` calls)."""

    def __init__(self) -> None:
        self.by_episode: dict[str, tuple[str, Emit]] = {}

    async def emit(self, event: Event) -> None:
        route = self.by_episode.get(event.episode_id or "")
        if route is None:
            _log.warning("vlm.ask event of an episode no run claims; dropped", episode_id=event.episode_id)
            return
        run_id, emit = route
        await emit(msgspec.structs.replace(event, run_id=run_id))


class _RouteSink:
    """Claims each episode its run starts, and gives it up when it ends."""

    name = "vlm-routes"

    def __init__(self, routes: _Routes, run_id: str) -> None:
        self.routes, self.run_id = routes, run_id
        self.emit: Emit | None = None

    async def handle(self, events: Sequence[Event]) -> None:
        """Update the routes."""
        for event in events:
            if isinstance(event, EpisodeStarted) and event.episode_id and self.emit is not None:
                self.routes.by_episode[event.episode_id] = (self.run_id, self.emit)
            elif isinstance(event, EpisodeFinished | EpisodeFailed):
                self.routes.by_episode.pop(event.episode_id or "", None)

    async def aclose(self) -> None:
        """Give up every episode of this run."""
        for episode, (run_id, _) in list(self.routes.by_episode.items()):
            if run_id == self.run_id:
                del self.routes.by_episode[episode]


class SharedServices(msgspec.Struct, kw_only=True):
    """What `run_eval` borrows from a `Runner` instead of opening its own services."""

    services: RunServices
    routes: _Routes

    def route_sink(self, run_id: str) -> _RouteSink:
        """A sink for the run's bus that routes its episodes' `vlm.ask` events back to it."""
        return _RouteSink(self.routes, run_id)


class EventStreamSink:
    """A sink that forwards every event into a memory stream (the consumer's pace limits the run's)."""

    name = "event-stream"

    def __init__(self, send: MemoryObjectSendStream[Event]) -> None:
        self._send = send
        self._consumer_gone = False

    async def handle(self, events: Sequence[Event]) -> None:
        """Forward the batch (nothing, once the consumer has closed its end)."""
        for event in events:
            if self._consumer_gone:
                return
            try:
                await self._send.send(event)
            except anyio.BrokenResourceError:
                self._consumer_gone = True  # the consumer left the `events()` block; the run is ending

    async def aclose(self) -> None:
        """End the stream: the consumer's `async for` finishes."""
        await self._send.aclose()


class Runner:
    """Shared services for many runs in one process. Use as `async with Runner(config) as runner`."""

    def __init__(self, config: EvalConfig, *, work_dir: Path | None = None) -> None:
        self.config = config
        self._work_dir = work_dir
        self._stack = AsyncExitStack()
        self._shared: SharedServices | None = None

    def __repr__(self) -> str:
        state = "open" if self._shared else "closed"
        return f"<Runner {state} kernels={self.config.limits.kernels} suite={self.config.suite}>"

    async def __aenter__(self) -> Self:
        from claw.runtime.runner import RunLayout, open_services  # the runner module imports this one

        work: Path
        if self._work_dir is not None:
            work = self._work_dir
        else:
            work = await self._stack.enter_async_context(temporary_directory(prefix="claw-runner-"))
        await anyio.Path(work / "logs").mkdir(parents=True, exist_ok=True)
        layout = RunLayout(run_id="runner", run_dir=work, config=self.config)
        routes = _Routes()
        services = await self._stack.enter_async_context(open_services(layout, routes.emit))
        self._shared = SharedServices(services=services, routes=routes)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._shared = None
        await self._stack.aclose()

    def _borrow(self) -> SharedServices:
        if self._shared is None:
            raise RuntimeError("open the Runner first: `async with Runner(config) as runner`")
        return self._shared

    async def run(
        self,
        config: EvalConfig | None = None,
        *,
        sinks: Sequence[Sink] = (),
        progress: Callable[[ProgressSnapshot], None] | None = None,
        report: Callable[[str], None] = lambda _line: None,
        stop: anyio.Event | None = None,
    ) -> Summary:
        """Run `config` (default: the Runner's own) on the shared services; return its summary.

        Raises:
            ClawError: the suite cannot be read, or the run directory belongs to another suite.
        """
        from claw.runtime.runner import run_eval

        return await run_eval(config or self.config, sinks=sinks, progress=progress, report=report,
                              stop=stop, shared=self._borrow())  # fmt: skip

    @asynccontextmanager
    async def events(
        self, config: EvalConfig | None = None, *, buffer: int = 1024
    ) -> AsyncIterator[MemoryObjectReceiveStream[Event]]:
        """Run `config` in the background and yield a stream of its typed events, ending with
        `RunFinished`; leaving the block early cancels the run (a resumed run redoes its open episodes)."""
        send, receive = anyio.create_memory_object_stream[Event](buffer)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._run_quietly, config, EventStreamSink(send))
            async with receive:
                yield receive
            tg.cancel_scope.cancel()

    async def _run_quietly(self, config: EvalConfig | None, sink: EventStreamSink) -> None:
        try:
            await self.run(config, sinks=[sink])
        finally:
            await sink.aclose()
