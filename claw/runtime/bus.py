"""The in-process event bus: one bounded memory stream per sink, each drained by its own task.

`emit` stamps nothing and blocks only when a sink's buffer is full (back-pressure instead of unbounded
memory). Sinks run concurrently, so a slow disk never delays the progress display, and closing the bus
drains every buffer before returning: nothing emitted is lost on a clean exit or a cancellation.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import NamedTuple, Protocol, Self

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from claw.events import Event

__all__ = ["Bus", "BusStats", "Sink"]


class Sink(Protocol):
    """Receives every event, in order."""

    name: str

    async def handle(self, events: Sequence[Event]) -> None:
        """Consume a batch of events (everything that was queued, in order)."""
        ...

    async def aclose(self) -> None:
        """Flush and release resources."""
        ...


class BusStats(NamedTuple):
    """Queued events per sink, in sink order."""

    queued: tuple[int, ...]
    emitted: int


class Bus:
    """Fan events out to sinks. Use as `async with Bus(sinks) as bus: await bus.emit(event)`."""

    def __init__(self, sinks: Sequence[Sink], *, buffer: int = 4096) -> None:
        self._sinks = list(sinks)
        self._buffer = buffer
        self._senders: list[MemoryObjectSendStream[Event]] = []
        self._group: TaskGroup | None = None
        self._emitted = 0

    def __repr__(self) -> str:
        names = ",".join(s.name for s in self._sinks)
        return f"<Bus sinks=[{names}] emitted={self._emitted} queued={sum(self.statistics().queued)}>"

    def statistics(self) -> BusStats:
        """How many events wait in each sink's buffer."""
        queued = tuple(s.statistics().current_buffer_used for s in self._senders)
        return BusStats(queued=queued, emitted=self._emitted)

    async def __aenter__(self) -> Self:
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        for sink in self._sinks:
            send, receive = anyio.create_memory_object_stream[Event](self._buffer)
            self._senders.append(send)
            self._group.start_soon(_drain, sink, receive, name=f"sink:{sink.name}")
        return self

    async def emit(self, event: Event) -> None:
        """Queue `event` for every sink."""
        self._emitted += 1
        for send in self._senders:
            await send.send(event)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        for send in self._senders:
            send.close()
        assert self._group is not None
        return await self._group.__aexit__(exc_type, exc, tb)


async def _drain(sink: Sink, receive: MemoryObjectReceiveStream[Event]) -> None:
    try:
        async with receive:
            async for first in receive:
                batch = [first]
                while True:
                    try:
                        batch.append(receive.receive_nowait())
                    except (anyio.WouldBlock, anyio.EndOfStream):
                        break
                await sink.handle(batch)
    finally:
        with anyio.CancelScope(shield=True):
            await sink.aclose()
