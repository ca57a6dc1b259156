"""The dynamic batcher: gathers concurrent requests for one model operation into batches.

A `DynamicBatcher` owns a queue and one dispatch loop (`run`). A batch starts once the previous one
finished and either `max_batch` requests are queued, or `max_delay_ms` passed since the model became free
(or since the first request arrived, if later), or as many requests are queued as the previous batch
held (so a lone client pays no delay, while a crowd fills whole batches). Batches run one at a time,
as on one GPU. A batch that fails fails only its own requests, with `PerceptionBatchFailed`; requests
whose caller went away (cancelled) are dropped before dispatch. `close()` stops intake; `run` returns
once every queued request was answered.

`SerialDispatcher` is the one-at-a-time lock the reference uses, kept for comparison benchmarks.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio
import msgspec
import structlog
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from claw.errors import PerceptionBatchFailed, PerceptionError, PerceptionUnavailable

__all__ = ["BatcherStatistics", "Dispatcher", "DynamicBatcher", "SerialDispatcher"]

logger = structlog.get_logger("claw.perception.batcher")

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Handler = Callable[[list[Req]], Awaitable[list[Resp]]]
_LATENCY_WINDOW = 2048


class BatcherStatistics(msgspec.Struct, frozen=True, kw_only=True):
    """A snapshot of one dispatcher, served on `/metrics`."""

    name: str
    mode: str
    """`batch` (dynamic batcher) or `lock` (one request at a time)."""
    max_batch: int
    max_delay_ms: float
    queue_depth: int
    """Requests waiting for a batch."""
    in_flight: int
    """Requests in the batch that is running now."""
    requests: int
    completed: int
    failed: int
    dropped: int
    """Requests whose caller went away before dispatch."""
    batches: int
    batch_sizes: dict[int, int]
    """Histogram: batch size -> number of batches."""
    mean_batch_size: float
    latency_ms_mean: float
    latency_ms_p50: float
    latency_ms_p95: float
    """Over the most recent requests (submit to answer)."""


@dataclass(eq=False)
class _Pending(Generic[Req, Resp]):
    request: Req
    enqueued: float
    done: anyio.Event = field(default_factory=anyio.Event)
    result: Resp | None = None
    error: PerceptionError | None = None
    abandoned: bool = False


@dataclass
class _Counters:
    requests: int = 0
    completed: int = 0
    failed: int = 0
    dropped: int = 0
    in_flight: int = 0
    sizes: Counter[int] = field(default_factory=Counter)
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=_LATENCY_WINDOW))

    def snapshot(
        self, name: str, mode: str, max_batch: int, max_delay_s: float, depth: int
    ) -> BatcherStatistics:
        batches = sum(self.sizes.values())
        items = sum(size * n for size, n in self.sizes.items())
        lat = sorted(self.latencies)
        return BatcherStatistics(
            name=name,
            mode=mode,
            max_batch=max_batch,
            max_delay_ms=max_delay_s * 1000.0,
            queue_depth=depth,
            in_flight=self.in_flight,
            requests=self.requests,
            completed=self.completed,
            failed=self.failed,
            dropped=self.dropped,
            batches=batches,
            batch_sizes=dict(sorted(self.sizes.items())),
            mean_batch_size=items / batches if batches else 0.0,
            latency_ms_mean=1000.0 * sum(lat) / len(lat) if lat else 0.0,
            latency_ms_p50=1000.0 * _quantile(lat, 0.5),
            latency_ms_p95=1000.0 * _quantile(lat, 0.95),
        )


def _quantile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


async def _call_handler(name: str, handler: Handler[Req, Resp], requests: list[Req]) -> list[Resp]:
    """Run `handler` on one batch; any failure becomes `PerceptionBatchFailed` for this batch only."""
    try:
        results = await handler(requests)
    except PerceptionError as exc:
        raise PerceptionBatchFailed(f"{name} batch of {len(requests)} failed: {exc.message}") from exc
    except Exception as exc:  # a backend is foreign code: whatever it raises fails only its batch
        logger.exception("perception batch failed", op=name, size=len(requests))
        raise PerceptionBatchFailed(
            f"{name} batch of {len(requests)} failed: {exc.__class__.__name__}: {exc}"
        ) from exc
    if len(results) != len(requests):
        raise PerceptionBatchFailed(f"{name} backend answered {len(results)} of {len(requests)} requests")
    return results


class DynamicBatcher(Generic[Req, Resp]):
    """Batches concurrent `submit` calls for one operation of one backend."""

    mode = "batch"

    def __init__(
        self,
        name: str,
        handler: Handler[Req, Resp],
        *,
        max_batch: int,
        max_delay_ms: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_batch < 1 or max_delay_ms < 0:
            raise ValueError(f"max_batch must be >= 1 and max_delay_ms >= 0, got {max_batch}, {max_delay_ms}")
        self.name = name
        self._handler = handler
        self._max_batch = max_batch
        self._max_delay_s = max_delay_ms / 1000.0
        self._clock = clock
        self._send: MemoryObjectSendStream[_Pending[Req, Resp]]
        self._receive: MemoryObjectReceiveStream[_Pending[Req, Resp]]
        self._send, self._receive = anyio.create_memory_object_stream(math.inf)
        self._counters = _Counters()
        self._last_size = 1
        self._closed = False

    def __repr__(self) -> str:
        s = self.statistics()
        return (
            f"<DynamicBatcher {self.name} max_batch={s.max_batch} max_delay_ms={s.max_delay_ms:g} "
            f"queued={s.queue_depth} in_flight={s.in_flight} batches={s.batches}>"
        )

    def statistics(self) -> BatcherStatistics:
        """Counters, batch-size histogram and recent latency quantiles."""
        depth = self._receive.statistics().current_buffer_used
        return self._counters.snapshot(self.name, self.mode, self._max_batch, self._max_delay_s, depth)

    async def submit(self, request: Req) -> Resp:
        """Queue `request`, wait for its batch, and return its answer.

        Raises:
            PerceptionUnavailable: the batcher is closed (server shutting down).
            PerceptionBatchFailed: the batch this request was in failed.
        """
        if self._closed:
            raise PerceptionUnavailable(f"{self.name}: the perception server is shutting down")
        pending: _Pending[Req, Resp] = _Pending(request, self._clock())
        self._counters.requests += 1
        self._send.send_nowait(pending)
        try:
            await pending.done.wait()
        except anyio.get_cancelled_exc_class():
            pending.abandoned = True
            raise
        return _outcome(pending)

    def close(self) -> None:
        """Stop accepting requests; `run` finishes the queued ones and returns."""
        self._closed = True
        self._send.close()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Dispatch batches until `close()` was called and the queue is empty."""
        task_status.started()
        async with self._receive:
            while batch := await self._next_batch():
                await self._dispatch(batch)

    async def _next_batch(self) -> list[_Pending[Req, Resp]]:
        free_at = self._clock()
        try:
            first = await self._receive.receive()
        except anyio.EndOfStream:
            return []
        batch = [first]
        target = min(self._max_batch, self._last_size)
        # Measured from when the model became free, not from enqueue: a request that queued behind a
        # running batch still gets the chance to be joined by the callers that batch just answered.
        deadline = max(first.enqueued, free_at) + self._max_delay_s
        self._take_ready(batch)
        while len(batch) < target and await self._wait_for_one(batch, deadline):
            self._take_ready(batch)
        self._last_size = max(1, len(batch))
        return batch

    def _take_ready(self, batch: list[_Pending[Req, Resp]]) -> None:
        while len(batch) < self._max_batch:
            try:
                batch.append(self._receive.receive_nowait())
            except (anyio.WouldBlock, anyio.EndOfStream):
                return

    async def _wait_for_one(self, batch: list[_Pending[Req, Resp]], deadline: float) -> bool:
        remaining = deadline - self._clock()
        if remaining <= 0:
            return False
        with anyio.move_on_after(remaining):
            try:
                batch.append(await self._receive.receive())
            except anyio.EndOfStream:
                return False
            return True
        return False

    async def _dispatch(self, batch: list[_Pending[Req, Resp]]) -> None:
        live = [p for p in batch if not p.abandoned]
        self._counters.dropped += len(batch) - len(live)
        if not live:
            return
        self._counters.sizes[len(live)] += 1
        self._counters.in_flight = len(live)
        try:
            results = await _call_handler(self.name, self._handler, [p.request for p in live])
        except PerceptionBatchFailed as exc:
            self._settle(live, None, exc)
        else:
            self._settle(live, results, None)
        finally:
            self._counters.in_flight = 0

    def _settle(
        self, live: list[_Pending[Req, Resp]], results: list[Resp] | None, error: PerceptionError | None
    ) -> None:
        now = self._clock()
        for i, pending in enumerate(live):
            pending.result = None if results is None else results[i]
            pending.error = error
            self._counters.latencies.append(now - pending.enqueued)
            self._counters.failed += error is not None
            self._counters.completed += error is None
            pending.done.set()


def _outcome(pending: _Pending[Req, Resp]) -> Resp:
    if pending.error is not None:
        raise pending.error
    assert pending.result is not None  # settled without error means a result was stored
    return pending.result


class SerialDispatcher(Generic[Req, Resp]):
    """One request at a time under a FIFO lock (the reference's design), for comparison runs."""

    mode = "lock"

    def __init__(
        self, name: str, handler: Handler[Req, Resp], *, clock: Callable[[], float] = time.monotonic
    ):
        self.name = name
        self._handler = handler
        self._clock = clock
        self._lock = anyio.Lock()
        self._counters = _Counters()
        self._closed = False

    def __repr__(self) -> str:
        return f"<SerialDispatcher {self.name} requests={self._counters.requests}>"

    def statistics(self) -> BatcherStatistics:
        """Counters and recent latency quantiles (every batch has size 1)."""
        waiting = self._lock.statistics().tasks_waiting
        return self._counters.snapshot(self.name, self.mode, 1, 0.0, waiting)

    async def submit(self, request: Req) -> Resp:
        """Run `request` alone once the lock is free.

        Raises:
            PerceptionUnavailable: the dispatcher is closed.
            PerceptionBatchFailed: the backend failed on this request.
        """
        if self._closed:
            raise PerceptionUnavailable(f"{self.name}: the perception server is shutting down")
        pending: _Pending[Req, Resp] = _Pending(request, self._clock())
        self._counters.requests += 1
        async with self._lock:
            self._counters.sizes[1] += 1
            self._counters.in_flight = 1
            try:
                results = await _call_handler(self.name, self._handler, [request])
            except PerceptionBatchFailed as exc:
                pending.error = exc
            else:
                pending.result = results[0]
            finally:
                self._counters.in_flight = 0
        self._record(pending)
        return _outcome(pending)

    def _record(self, pending: _Pending[Req, Resp]) -> None:
        self._counters.latencies.append(self._clock() - pending.enqueued)
        self._counters.failed += pending.error is not None
        self._counters.completed += pending.error is None

    def close(self) -> None:
        """Stop accepting requests."""
        self._closed = True

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Nothing to dispatch in the background; returns at once (same shape as `DynamicBatcher`)."""
        task_status.started()


Dispatcher = DynamicBatcher[Req, Resp] | SerialDispatcher[Req, Resp]
