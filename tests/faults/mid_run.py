"""Killing a helper server mid-run however fast the machine is. `KillMidRun` is both a sink (it notes the
run's first executed cell) and a model-transport wrapper: the first model call that starts after that
cell runs the kill before it is sent, so the server always dies while the run still has model calls to
make. Polling `events.jsonl` for a cell instead could see it only after a fast machine had finished every
episode (the run then ended with nothing killed, or the killer waited for a server that was gone)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import anyio

from claw.events import CellExecuted, Event
from claw.llm.types import ChatRequest, ChatResponse, ChatTransport

__all__ = ["KillMidRun"]


class KillMidRun:
    """Pass it to `run_eval` as a sink and as `wrap_llm`; `killed` says whether `kill` ran."""

    name = "kill-mid-run"

    def __init__(self, kill: Callable[[], Awaitable[None]]) -> None:
        self._kill = kill
        self._cell_ran = False
        self._lock = anyio.Lock()
        self.killed = False

    async def handle(self, events: Sequence[Event]) -> None:
        """Note the first executed cell."""
        self._cell_ran = self._cell_ran or any(isinstance(e, CellExecuted) for e in events)

    async def aclose(self) -> None:
        """Nothing to release."""

    def wrap(self, transport: ChatTransport) -> ChatTransport:
        """The run's model transport, killing first when a call follows the first cell."""
        return _KillingTransport(transport, self)

    async def before_call(self) -> None:
        """Kill (once) if a cell has run."""
        async with self._lock:
            if self._cell_ran and not self.killed:
                self.killed = True  # before the kill: a kill that fails or is cancelled is never repeated
                await self._kill()


class _KillingTransport:
    def __init__(self, inner: ChatTransport, killer: KillMidRun) -> None:
        self._inner, self._killer = inner, killer

    async def complete(self, request: ChatRequest) -> ChatResponse:
        await self._killer.before_call()
        return await self._inner.complete(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
