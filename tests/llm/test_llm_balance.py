"""The balancer's waiting and hand-over rules, without HTTP."""

from __future__ import annotations

import anyio
import pytest

from claw.config import EndpointConfig
from claw.llm._balance import Balancer, Slot


def _balancer(*limits: int, clock: list[float] | None = None) -> Balancer:
    now = clock if clock is not None else [0.0]
    slots = [Slot(EndpointConfig(url=f"http://e{i}/v1", model="m"), limit) for i, limit in enumerate(limits)]
    return Balancer(slots, clock=lambda: now[0])


async def _wait_until_queued(balancer: Balancer, n: int) -> None:
    with anyio.fail_after(5):
        while balancer.waiting() < n:
            await anyio.sleep(0)


async def test_free_slots_are_taken_at_once() -> None:
    balancer = _balancer(1, 1)
    assert await balancer.acquire(None, 1.0) == 0
    assert await balancer.acquire(None, 1.0) == 1
    assert [s.outstanding for s in balancer.slots] == [1, 1]


@pytest.mark.parametrize(("tolerance", "first"), [(1.0, "sticky0"), (0.1, "sticky1")])
async def test_own_waiter_wins_within_the_tolerance_else_the_oldest(tolerance: float, first: str) -> None:
    clock = [0.0]
    balancer = _balancer(1, 1, clock=clock)
    balancer.tolerance_s = tolerance
    await balancer.acquire(None, 1.0)
    await balancer.acquire(None, 1.0)
    got: dict[str, int | None] = {}

    async def wait(name: str, preferred: int) -> None:
        got[name] = await balancer.acquire(preferred, 5.0)

    async with anyio.create_task_group() as group:
        group.start_soon(wait, "sticky1", 1)  # waits since t=0
        await _wait_until_queued(balancer, 1)
        clock[0] = 0.5
        group.start_soon(wait, "sticky0", 0)  # waits since t=0.5
        await _wait_until_queued(balancer, 2)
        balancer.release(0)
        with anyio.fail_after(5):
            while not got:
                await anyio.sleep(0)
        assert list(got) == [first]
        balancer.release(1 if first == "sticky0" else 0)
    assert got["sticky0"] == 0 and got[first] == 0
    assert [s.outstanding for s in balancer.slots] == [1, 1]


def test_tolerance_follows_attempt_durations() -> None:
    balancer = _balancer(1)
    balancer.observe(2.0)
    assert balancer.tolerance_s == 1.0
    balancer.observe(4.0)
    assert 1.0 < balancer.tolerance_s < 2.0


async def test_shared_waiters_take_any_released_slot_in_order() -> None:
    balancer = _balancer(1, 1)
    await balancer.acquire(None, 1.0)
    await balancer.acquire(None, 1.0)
    got: list[tuple[str, int | None]] = []

    async def shared(name: str) -> None:
        got.append((name, await balancer.acquire(None, 5.0)))

    async with anyio.create_task_group() as group:
        group.start_soon(shared, "a")
        await _wait_until_queued(balancer, 1)
        group.start_soon(shared, "b")
        await _wait_until_queued(balancer, 2)
        balancer.release(1)
        balancer.release(0)
    assert got == [("a", 1), ("b", 0)]


async def test_an_endpoint_with_nobody_waiting_steals_from_another_queue() -> None:
    balancer = _balancer(2, 2)
    for preferred in (0, 0, 1, 1):
        assert await balancer.acquire(preferred, 1.0) == preferred
    got: list[int | None] = []

    async def sticky() -> None:
        got.append(await balancer.acquire(0, 5.0))

    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(sticky)
        await _wait_until_queued(balancer, 3)
        balancer.release(1)  # nobody waits for endpoint 1: a waiter of endpoint 0 gets it
        assert balancer.waiting() == 2
        balancer.release(0)
        balancer.release(0)
    assert sorted(got, key=str) == [0, 0, 1]
    assert [s.outstanding for s in balancer.slots] == [2, 2]


async def test_timeout_leaves_the_queue() -> None:
    balancer = _balancer(1)
    await balancer.acquire(None, 1.0)
    assert await balancer.acquire(0, 0.01) is None
    assert balancer.waiting() == 0 and balancer.slots[0].outstanding == 1


async def test_cancelled_waiter_does_not_leak_a_slot() -> None:
    balancer = _balancer(1)
    await balancer.acquire(None, 1.0)
    returned: list[int | None] = []

    async def waiter() -> None:
        returned.append(await balancer.acquire(0, 5.0))

    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:
            group.start_soon(waiter)
            await _wait_until_queued(balancer, 1)
            balancer.release(0)  # handed to the waiter...
            scope.cancel()  # ...which is cancelled before it runs
    assert balancer.waiting() == 0
    # either the waiter got the slot (and now owns it) or the cancellation gave it back
    assert balancer.slots[0].outstanding == len(returned)
