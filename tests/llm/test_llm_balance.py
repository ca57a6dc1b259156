"""The balancer's waiting and hand-over rules, without HTTP."""

from __future__ import annotations

import anyio

from claw.config import EndpointConfig
from claw.llm._balance import Balancer, Slot


def _balancer(*limits: int) -> Balancer:
    slots = [Slot(EndpointConfig(url=f"http://e{i}/v1", model="m"), limit) for i, limit in enumerate(limits)]
    return Balancer(slots, clock=lambda: 0.0)


async def _wait_until_queued(balancer: Balancer, n: int) -> None:
    with anyio.fail_after(5):
        while balancer.waiting() < n:
            await anyio.sleep(0)


async def test_free_slots_are_taken_at_once() -> None:
    balancer = _balancer(1, 1)
    assert await balancer.acquire(None, 1.0) == 0
    assert await balancer.acquire(None, 1.0) == 1
    assert [s.outstanding for s in balancer.slots] == [1, 1]


async def test_a_release_serves_its_own_queue_then_the_shared_queue() -> None:
    balancer = _balancer(1, 1)
    await balancer.acquire(None, 1.0)
    await balancer.acquire(None, 1.0)
    got: dict[str, int | None] = {}

    async def wait(name: str, preferred: int | None) -> None:
        got[name] = await balancer.acquire(preferred, 5.0)

    async with anyio.create_task_group() as group:
        group.start_soon(wait, "sticky", 1)
        await _wait_until_queued(balancer, 1)
        group.start_soon(wait, "shared", None)
        await _wait_until_queued(balancer, 2)
        balancer.release(0)  # endpoint 0 frees first: the shared waiter takes it, the sticky one waits for 1
        balancer.release(1)
    assert got == {"shared": 0, "sticky": 1}
    assert [s.outstanding for s in balancer.slots] == [1, 1]


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
