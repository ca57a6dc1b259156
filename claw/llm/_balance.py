"""Which endpoint an attempt uses, and who waits for which endpoint: the pool's scheduling core.

`choose_endpoint` is a pure function of the endpoints' counts. `Balancer` adds the waiting: an attempt
that finds no acceptable free slot queues, either on its session's endpoint (to keep that endpoint's
prefix cache) or on the shared queue. A released slot is handed straight to a waiter, never left for a
newcomer to grab (so no slot idles while anyone waits). The waiter is the one that has waited longest
anywhere, except that the endpoint's own longest waiter wins if it has waited almost as long: within
`tolerance_s`, half the mean attempt duration. Pure per-endpoint FIFO lets endpoints drift apart and
costs ~13% of throughput in simulation; pure global FIFO loses half the prefix-cache hits; the tolerance
keeps ~99% of the hits within ~1.5% of the global-FIFO makespan (bench/perf/llm_pool.py measures both).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

import anyio

from claw.config import EndpointConfig

__all__ = ["Balancer", "Slot", "choose_endpoint", "overloaded"]


class Slot:
    """Mutable per-endpoint state and counters; touched only from the event loop."""

    __slots__ = (
        "cached",
        "completion",
        "config",
        "down_until",
        "failures",
        "limit",
        "outstanding",
        "prompt",
        "requests",
    )

    def __init__(self, config: EndpointConfig, limit: int) -> None:
        self.config = config
        self.limit = limit
        self.outstanding = 0
        self.down_until = 0.0
        self.requests = self.failures = self.prompt = self.completion = self.cached = 0

    def is_up(self, now: float) -> bool:
        """Whether the endpoint is out of its failure cool-down."""
        return now >= self.down_until


def overloaded(load: int, least: int) -> bool:
    """Whether an endpoint with `load` is busy enough, next to one with `least`, to give up stickiness."""
    return load > max(2 * least, least + 2)


def choose_endpoint(
    outstanding: Sequence[int],
    limits: Sequence[int],
    up: Sequence[bool],
    preferred: int | None,
    served: Sequence[int] | None = None,
) -> int | None:
    """Pick the endpoint for the next attempt, or None to wait.

    Up endpoints with a free slot are candidates (all endpoints with a free slot when none is up). A
    preferred (sticky) endpoint that is a candidate and not overloaded next to the least busy endpoint
    wins. Otherwise the least-outstanding candidate wins (work-conserving: a free slot elsewhere beats
    waiting for a full sticky endpoint), ties going to the one that has `served` fewer requests, then to
    the lowest index.
    """
    n = len(outstanding)
    free = [i for i in range(n) if outstanding[i] < limits[i]]
    candidates = [i for i in free if up[i]] or free
    if not candidates:
        return None
    if preferred in candidates and not overloaded(outstanding[preferred], min(outstanding)):
        return preferred
    return min(candidates, key=lambda i: (outstanding[i], served[i] if served else 0, i))


class _Waiter:
    __slots__ = ("event", "index", "since")

    def __init__(self, since: float) -> None:
        self.event = anyio.Event()
        self.index: int | None = None
        self.since = since


class Balancer:
    """Hands out endpoint slots: `acquire` (maybe waiting) and `release` (handing over to a waiter)."""

    def __init__(self, slots: Sequence[Slot], clock: Callable[[], float]) -> None:
        self.slots = list(slots)
        self._clock = clock
        self._queues: list[deque[_Waiter]] = [deque() for _ in self.slots]
        self._shared: deque[_Waiter] = deque()
        self._mean_s: float | None = None
        self.tolerance_s = 0.0
        """How much longer another endpoint's waiter must have waited to take a slot from the own queue."""

    def observe(self, duration_s: float) -> None:
        """Record one attempt's duration; the stickiness tolerance follows half their running mean."""
        self._mean_s = duration_s if self._mean_s is None else 0.95 * self._mean_s + 0.05 * duration_s
        self.tolerance_s = 0.5 * self._mean_s

    def __repr__(self) -> str:
        return f"<Balancer endpoints={len(self.slots)} waiting={self.waiting()}>"

    def waiting(self) -> int:
        """Attempts waiting for a slot."""
        return len(self._shared) + sum(len(q) for q in self._queues)

    def choose(self, preferred: int | None) -> int | None:
        """`choose_endpoint` over the current counts."""
        now = self._clock()
        return choose_endpoint(
            [slot.outstanding for slot in self.slots],
            [slot.limit for slot in self.slots],
            [slot.is_up(now) for slot in self.slots],
            preferred,
            [slot.requests for slot in self.slots],
        )

    async def acquire(self, preferred: int | None, timeout_s: float) -> int | None:
        """Take a slot (the preferred endpoint's when sensible); None if none came within `timeout_s`."""
        index = self.choose(preferred)
        if index is not None:
            self.slots[index].outstanding += 1
            return index
        waiter = _Waiter(self._clock())
        queue = self._queue_for(preferred)
        queue.append(waiter)
        try:
            with anyio.move_on_after(timeout_s):
                await waiter.event.wait()
        except BaseException:
            self._abandon(queue, waiter)
            raise
        if waiter.index is None:
            queue.remove(waiter)
        return waiter.index

    def _queue_for(self, preferred: int | None) -> deque[_Waiter]:
        if preferred is None or not self.slots[preferred].is_up(self._clock()):
            return self._shared
        least = min(slot.outstanding for slot in self.slots)
        return (
            self._shared if overloaded(self.slots[preferred].outstanding, least) else self._queues[preferred]
        )

    def _abandon(self, queue: deque[_Waiter], waiter: _Waiter) -> None:
        """A waiter is being cancelled: give back the slot it was just handed, or leave the queue."""
        if waiter.index is None:
            queue.remove(waiter)
        else:
            self.release(waiter.index)

    def release(self, index: int) -> None:
        """Give back a slot of endpoint `index`: to a waiter if one should have it, else free it."""
        waiter = self._next_waiter(index)
        if waiter is None:
            self.slots[index].outstanding -= 1
            return
        waiter.index = index
        waiter.event.set()

    def _next_waiter(self, index: int) -> _Waiter | None:
        heads = [queue for queue in (*self._queues, self._shared) if queue]
        if not heads:
            return None
        oldest = min(heads, key=lambda queue: queue[0].since)
        own = self._queues[index]
        if own and own[0].since <= oldest[0].since + self.tolerance_s:
            return own.popleft()
        return oldest.popleft()
