"""The driver's scheduler, independent of Ray: hands samples to workers, takes their events into the
run's bus, and keeps the run's promise that every episode is recorded exactly once.

Each worker holds at most `capacity` unfinished episodes (its `[limits] episodes` in flight plus as many
queued, so it never waits on the driver between episodes). A worker's episode is unfinished until its
`EpisodeFinished` or `EpisodeFailed` arrives; when a worker is lost (`WorkerLost`: its process or node
died), its unfinished episodes go back to the front of the queue for the other workers, and events of an
episode already recorded are never recorded again. Samples are drawn from the suite lazily, so the driver
builds only what the workers are about to run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Protocol

import anyio
import structlog

from claw._process import first_leaf
from claw.errors import ServiceError
from claw.events import EpisodeFailed, EpisodeFinished, Event
from claw.runtime.bus import Bus
from claw.runtime.episode_task import Tally
from claw.suite import Sample

__all__ = ["Dispatcher", "WorkerHandle", "WorkerLost"]

log = structlog.get_logger(__name__)


class WorkerLost(Exception):
    """The worker's process or node is gone; what it had not finished must run elsewhere."""


class WorkerHandle(Protocol):
    """The driver's end of one worker (a Ray actor, or an in-process fake in tests)."""

    name: str

    async def submit(self, samples: Sequence[Sample]) -> None:
        """Queue samples on the worker. Raises `WorkerLost`."""
        ...

    async def take(self) -> tuple[list[Event], bool, str]:
        """Events since the last call, whether the worker has ended, and its error if it stopped on its
        own. Raises `WorkerLost`."""
        ...

    async def close(self) -> None:
        """Ask the worker to finish what it holds and stop. Raises `WorkerLost`."""
        ...


class _Slot:
    def __init__(self, handle: WorkerHandle) -> None:
        self.handle = handle
        self.unfinished: dict[str, Sample] = {}
        self.alive = True
        self.closing = False


class Dispatcher:
    """Runs one invocation's episodes on `workers` (see the module docstring)."""

    def __init__(
        self,
        workers: Sequence[WorkerHandle],
        bus: Bus,
        *,
        capacity: int,
        episode_id: Callable[[Sample], str],
        report: Callable[[str], None] = lambda _line: None,
    ) -> None:
        self._slots = [_Slot(w) for w in workers]
        self._bus = bus
        self._capacity = capacity
        self._episode_id = episode_id
        self._report = report
        self._requeued: deque[Sample] = deque()
        self._recorded: set[str] = set()
        self._changed = anyio.Event()
        self._source_done = False
        self.lost: list[str] = []
        """The workers lost during the run, each as `name: why`."""
        self.requeued_total = 0
        """Unfinished episodes moved off lost workers."""
        self.batches = 0
        """Event batches taken from the workers (one worker call each)."""

    async def run(self, samples: AsyncIterator[Sample], tally: Tally) -> None:
        """Run every sample to an outcome, then close the workers.

        Raises:
            ServiceError: every worker was lost or stopped with work left (a resume goes on from here).
        """
        try:
            async with anyio.create_task_group() as tg:
                for slot in self._slots:
                    tg.start_soon(self._pump, slot, tally)
                await self._feed(samples)
                for slot in self._slots:
                    if slot.alive:
                        slot.closing = True
                        tg.start_soon(self._guard, slot, slot.handle.close())
        except BaseExceptionGroup as group:
            raise first_leaf(group) from None

    async def _feed(self, samples: AsyncIterator[Sample]) -> None:
        while True:
            self._changed = anyio.Event()
            await self._assign(samples)
            alive = [s for s in self._slots if s.alive]
            pending = bool(self._requeued) or any(s.unfinished for s in self._slots)
            if not pending and self._source_done:
                return
            if not alive:
                raise ServiceError(
                    f"every Ray worker was lost ({'; '.join(self.lost)}); the run directory holds every "
                    "finished episode: restart the workers and re-run the same command to resume"
                )
            await self._changed.wait()

    async def _assign(self, samples: AsyncIterator[Sample]) -> None:
        for slot in sorted((s for s in self._slots if s.alive), key=lambda s: len(s.unfinished)):
            batch: list[Sample] = []
            while len(slot.unfinished) + len(batch) < self._capacity:
                sample = await self._next_sample(samples)
                if sample is None:
                    break
                batch.append(sample)
            if batch:
                slot.unfinished.update((self._episode_id(s), s) for s in batch)
                if slot.alive:  # it may have been lost while the batch was drawn
                    await self._guard(slot, slot.handle.submit(batch))
                else:
                    self._lose(slot, "lost before its samples were sent")

    async def _next_sample(self, samples: AsyncIterator[Sample]) -> Sample | None:
        while self._requeued:
            sample = self._requeued.popleft()
            if self._episode_id(sample) not in self._recorded:
                return sample
        if self._source_done:
            return None
        async for sample in samples:
            return sample
        self._source_done = True
        return None

    async def _pump(self, slot: _Slot, tally: Tally) -> None:
        while slot.alive:
            try:
                events, ended, error = await slot.handle.take()
                self.batches += 1
            except WorkerLost as exc:
                self._lose(slot, str(exc))
                return
            holding = len(slot.unfinished)
            for event in events:
                await self._record(slot, event, tally)
            if ended:
                if slot.unfinished or not slot.closing:
                    self._lose(slot, error or "it stopped before finishing its episodes")
                slot.alive = False
                self._changed.set()
                return
            if len(slot.unfinished) < holding:  # room for more: only then is the feeder woken
                self._changed.set()

    async def _record(self, slot: _Slot, event: Event, tally: Tally) -> None:
        episode_id = event.episode_id
        outcome = event if isinstance(event, EpisodeFinished | EpisodeFailed) else None
        if outcome is not None and episode_id is not None:
            slot.unfinished.pop(episode_id, None)
        if episode_id is not None and episode_id in self._recorded:
            return  # a second attempt's events after the first was recorded: never counted twice
        if outcome is not None and episode_id is not None:
            self._recorded.add(episode_id)
            _count(tally, outcome)
        await self._bus.emit(event)

    async def _guard(self, slot: _Slot, call: Awaitable[None]) -> None:
        try:
            await call
        except WorkerLost as exc:
            self._lose(slot, str(exc))

    def _lose(self, slot: _Slot, why: str) -> None:
        """Give the slot's unfinished episodes back to the queue (every time it is called: a batch drawn
        for a worker that was lost meanwhile comes back the same way) and stop using the worker."""
        moved = list(slot.unfinished.values())
        slot.unfinished.clear()
        self._requeued.extendleft(reversed(moved))
        self.requeued_total += len(moved)
        name = slot.handle.name
        if slot.alive:
            slot.alive = False
            self.lost.append(f"{name}: {why}")
            log.warning("ray_worker_lost", worker=name, why=why, requeued=len(moved))
            self._report(f"ray worker {name} lost ({why}); {len(moved)} unfinished episodes re-queued")
        elif moved:
            self._report(f"ray worker {name} lost; {len(moved)} more episodes re-queued")
        self._changed.set()


def _count(tally: Tally, event: EpisodeFinished | EpisodeFailed) -> None:
    if isinstance(event, EpisodeFailed):
        tally.failed += 1
    elif event.reason == "error":
        tally.errors += 1
    else:
        tally.episodes += 1
        tally.score_sum += event.score
