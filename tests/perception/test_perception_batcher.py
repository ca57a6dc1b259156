"""The dynamic batcher and the serial dispatcher, driven by in-test handlers (no server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import pytest

from claw.errors import PerceptionBatchFailed, PerceptionUnavailable
from servers.perception._batcher import DynamicBatcher, SerialDispatcher


@dataclass
class GatedHandler:
    """Records batches; the first `held` batches wait for `gate` so later requests pile up."""

    held: int = 1
    gate: anyio.Event = field(default_factory=anyio.Event)
    batches: list[list[int]] = field(default_factory=list)
    fail_on: int | None = None
    active: int = 0
    max_active: int = 0

    async def __call__(self, batch: list[int]) -> list[str]:
        self.batches.append(list(batch))
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if len(self.batches) <= self.held:
                await self.gate.wait()
            if self.fail_on is not None and self.fail_on in batch:
                raise RuntimeError("model exploded")
            return [f"r{x}" for x in batch]
        finally:
            self.active -= 1


@asynccontextmanager
async def running(batcher: DynamicBatcher[int, str]) -> AsyncIterator[anyio.abc.TaskGroup]:
    async with anyio.create_task_group() as tg:
        await tg.start(batcher.run)
        yield tg
        batcher.close()


async def collect(
    batcher: DynamicBatcher[int, str] | SerialDispatcher[int, str], x: int, out: dict[int, object]
) -> None:
    try:
        out[x] = await batcher.submit(x)
    except PerceptionBatchFailed as exc:
        out[x] = exc


async def submit_behind_first(
    tg: anyio.abc.TaskGroup, batcher: DynamicBatcher[int, str], n: int, out: dict[int, object]
) -> None:
    """Submit request 0 (held by the handler), then 1..n-1, and wait until they are all queued."""
    tg.start_soon(collect, batcher, 0, out)
    await anyio.wait_all_tasks_blocked()
    for x in range(1, n):
        tg.start_soon(collect, batcher, x, out)
    await anyio.wait_all_tasks_blocked()


async def test_requests_queued_during_a_batch_form_the_next_batch() -> None:
    handler = GatedHandler()
    batcher = DynamicBatcher("op", handler, max_batch=16, max_delay_ms=1000)
    results: dict[int, object] = {}
    async with running(batcher) as tg:
        await submit_behind_first(tg, batcher, 11, results)
        handler.gate.set()
    assert handler.batches == [[0], list(range(1, 11))]
    assert results == {x: f"r{x}" for x in range(11)}
    stats = batcher.statistics()
    assert stats.batch_sizes == {1: 1, 10: 1}
    assert (stats.requests, stats.completed, stats.failed, stats.queue_depth) == (11, 11, 0, 0)


async def test_max_batch_caps_every_batch() -> None:
    handler = GatedHandler()
    batcher = DynamicBatcher("op", handler, max_batch=8, max_delay_ms=0)
    results: dict[int, object] = {}
    async with running(batcher) as tg:
        await submit_behind_first(tg, batcher, 21, results)
        assert batcher.statistics().queue_depth == 20
        handler.gate.set()
    assert [len(b) for b in handler.batches] == [1, 8, 8, 4]
    assert len(results) == 21
    assert handler.max_active == 1


async def test_a_lone_request_after_a_crowd_waits_at_most_max_delay() -> None:
    handler = GatedHandler()
    batcher = DynamicBatcher("op", handler, max_batch=8, max_delay_ms=20)
    results: dict[int, object] = {}
    async with running(batcher) as tg:
        await submit_behind_first(tg, batcher, 5, results)
        handler.gate.set()
        await anyio.wait_all_tasks_blocked()
        assert len(results) == 5
        with anyio.fail_after(5):
            assert await batcher.submit(99) == "r99"
    assert [len(b) for b in handler.batches] == [1, 4, 1]


async def test_a_failing_batch_fails_only_its_own_requests() -> None:
    handler = GatedHandler(fail_on=3)
    batcher = DynamicBatcher("op", handler, max_batch=3, max_delay_ms=0)
    results: dict[int, object] = {}
    async with running(batcher) as tg:
        await submit_behind_first(tg, batcher, 7, results)
        handler.gate.set()
    failed_batch = next(b for b in handler.batches if 3 in b)
    for x in range(7):
        if x in failed_batch:
            assert isinstance(results[x], PerceptionBatchFailed)
            assert "model exploded" in str(results[x])
        else:
            assert results[x] == f"r{x}"
    assert batcher.statistics().failed == len(failed_batch)


async def test_a_wrong_number_of_answers_fails_the_batch() -> None:
    async def short(batch: list[int]) -> list[str]:
        return []

    batcher = DynamicBatcher("op", short, max_batch=4, max_delay_ms=0)
    async with running(batcher):
        with pytest.raises(PerceptionBatchFailed, match="answered 0 of 1"):
            await batcher.submit(1)


async def test_requests_whose_caller_left_are_dropped_before_dispatch() -> None:
    handler = GatedHandler()
    batcher = DynamicBatcher("op", handler, max_batch=8, max_delay_ms=0)
    results: dict[int, object] = {}
    async with running(batcher) as tg:
        tg.start_soon(collect, batcher, 0, results)
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(collect, batcher, 1, results)
        async with anyio.create_task_group() as leaving:
            leaving.start_soon(collect, batcher, 2, results)
            await anyio.wait_all_tasks_blocked()
            leaving.cancel_scope.cancel()
        tg.start_soon(collect, batcher, 3, results)
        await anyio.wait_all_tasks_blocked()
        handler.gate.set()
    assert 2 not in results
    assert handler.batches == [[0], [1, 3]]
    assert batcher.statistics().dropped == 1


async def test_close_finishes_queued_requests_and_refuses_new_ones() -> None:
    handler = GatedHandler()
    batcher = DynamicBatcher("op", handler, max_batch=4, max_delay_ms=0)
    results: dict[int, object] = {}
    async with anyio.create_task_group() as tg:
        await tg.start(batcher.run)
        for x in range(6):
            tg.start_soon(collect, batcher, x, results)
        await anyio.wait_all_tasks_blocked()
        batcher.close()
        handler.gate.set()
    assert results == {x: f"r{x}" for x in range(6)}
    with pytest.raises(PerceptionUnavailable, match="shutting down"):
        await batcher.submit(7)


async def test_serial_dispatcher_runs_one_request_at_a_time() -> None:
    handler = GatedHandler(held=0)
    serial: SerialDispatcher[int, str] = SerialDispatcher("op", handler)
    results: dict[int, object] = {}
    async with anyio.create_task_group() as tg:
        for x in range(5):
            tg.start_soon(collect, serial, x, results)
    assert handler.batches == [[x] for x in range(5)]
    assert handler.max_active == 1
    assert serial.statistics().batch_sizes == {1: 5}
    assert "SerialDispatcher" in repr(serial)


def test_bad_limits_are_rejected() -> None:
    async def echo(batch: list[int]) -> list[str]:
        return [str(x) for x in batch]

    with pytest.raises(ValueError, match="max_batch"):
        DynamicBatcher("op", echo, max_batch=0, max_delay_ms=1)


async def test_repr_and_statistics_name_the_limits() -> None:
    handler = GatedHandler(held=0)
    batcher = DynamicBatcher("segment", handler, max_batch=5, max_delay_ms=2.5)
    async with running(batcher):
        assert await batcher.submit(1) == "r1"
    text = repr(batcher)
    assert "segment" in text and "max_batch=5" in text and "max_delay_ms=2.5" in text
    stats = batcher.statistics()
    assert stats.latency_ms_p95 >= stats.latency_ms_p50 > 0
