"""The Ray driver's scheduler on in-process fake workers (no Ray): every sample ends exactly once, a lost
worker's unfinished episodes run elsewhere, what it finished never runs again, and the tally matches."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import AsyncIterator, Sequence

import anyio
import pytest

from claw.distributed.dispatch import Dispatcher, WorkerLost
from claw.errors import ServiceError
from claw.events import EpisodeFinished, EpisodeStarted, Event
from claw.runtime.bus import Bus
from claw.runtime.episode_task import Tally
from claw.suite import Sample


def _sample(index: int) -> Sample:
    return Sample(
        id=f"s{index}", suite="fake", question="q", answer_format="letter", ground_truth="A", videos=()
    )


def _episode_id(sample: Sample) -> str:
    return f"fake/{sample.id}/s0"


def _score(sample: Sample) -> float:
    return float(int(sample.id[1:]) % 3 == 0)


class FakeWorker:
    """Runs one queued sample per `take`; after `die_after` finished episodes it starts one more and
    dies (its further calls raise `WorkerLost`)."""

    def __init__(self, name: str, die_after: int | None = None) -> None:
        self.name = name
        self.die_after = die_after
        self.inbox: deque[Sample] = deque()
        self.ran: list[str] = []
        self.closed = False
        self.dead = False
        self._ready = anyio.Event()

    async def submit(self, samples: Sequence[Sample]) -> None:
        if self.dead:
            raise WorkerLost("gone")
        self.inbox.extend(samples)
        self._ready.set()

    async def take(self) -> tuple[list[Event], bool, str]:
        await self._ready.wait()
        await anyio.sleep(0.001)
        if self.dead:
            raise WorkerLost("gone")
        self._ready = anyio.Event()
        events: list[Event] = []
        if self.inbox:
            sample = self.inbox.popleft()
            episode_id = _episode_id(sample)
            events.append(
                EpisodeStarted(
                    run_id="r",
                    episode_id=episode_id,
                    sample_id=sample.id,
                    suite="fake",
                    category="c",
                    question="q",
                    answer_format="letter",
                )
            )
            if self.die_after is not None and len(self.ran) >= self.die_after:
                self.dead = True  # this episode's start is sent, its end never is
                self._ready.set()  # as a dead actor's pending call fails at once
                return events, False, ""
            self.ran.append(episode_id)
            events.append(_finished(sample))
        ended = self.closed and not self.inbox
        if self.inbox or self.closed:
            self._ready.set()
        return events, ended, ""

    async def close(self) -> None:
        if self.dead:
            raise WorkerLost("gone")
        self.closed = True
        self._ready.set()


def _finished(sample: Sample) -> EpisodeFinished:
    return EpisodeFinished(
        run_id="r",
        episode_id=_episode_id(sample),
        sample_id=sample.id,
        category="c",
        answer="A",
        ground_truth="A",
        score=_score(sample),
        metric="exact",
        reason="answered",
        steps=1,
        duration_s=0.0,
    )


class Collect:
    name = "collect"

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def handle(self, events: Sequence[Event]) -> None:
        self.events.extend(events)

    async def aclose(self) -> None:
        pass


async def _samples(n: int) -> AsyncIterator[Sample]:
    for index in range(n):
        yield _sample(index)


async def _run(workers: list[FakeWorker], n: int) -> tuple[Dispatcher, Tally, Collect]:
    sink, tally = Collect(), Tally()
    async with Bus([sink]) as bus:
        dispatcher = Dispatcher(workers, bus, capacity=3, episode_id=_episode_id)
        with anyio.fail_after(60):
            await dispatcher.run(_samples(n), tally)
    return dispatcher, tally, sink


async def test_a_lost_worker_s_unfinished_episodes_run_elsewhere_exactly_once() -> None:
    workers = [FakeWorker("w0"), FakeWorker("w1", die_after=2), FakeWorker("w2")]
    dispatcher, tally, sink = await _run(workers, 20)

    finished = Counter(e.episode_id for e in sink.events if isinstance(e, EpisodeFinished))
    assert finished == Counter({_episode_id(_sample(i)): 1 for i in range(20)})
    assert len(workers[1].ran) == 2, "the lost worker finished two before dying"
    for episode_id in workers[1].ran:  # what it finished never ran again
        assert all(episode_id not in w.ran for w in (workers[0], workers[2]))
    assert dispatcher.lost == ["w1: gone"] and dispatcher.requeued_total >= 1
    started = Counter(e.episode_id for e in sink.events if isinstance(e, EpisodeStarted))
    assert max(started.values()) == 2, "the abandoned attempt's events stay as evidence"
    assert tally.episodes == 20 and tally.score_sum == sum(_score(_sample(i)) for i in range(20))


async def test_a_late_duplicate_outcome_is_not_recorded_twice() -> None:
    class Repeating(FakeWorker):
        async def take(self) -> tuple[list[Event], bool, str]:
            events, ended, error = await super().take()
            return events + [e for e in events if isinstance(e, EpisodeFinished)], ended, error

    _dispatcher, tally, sink = await _run([Repeating("w0"), FakeWorker("w1")], 7)
    assert sum(isinstance(e, EpisodeFinished) for e in sink.events) == 7 and tally.episodes == 7


async def test_losing_every_worker_stops_the_run_saying_how_to_resume() -> None:
    workers = [FakeWorker("w0", die_after=1), FakeWorker("w1", die_after=0)]
    async with Bus([Collect()]) as bus:
        dispatcher = Dispatcher(workers, bus, capacity=3, episode_id=_episode_id)
        with pytest.raises(ServiceError, match=r"every Ray worker was lost.*re-run the same command"):
            await dispatcher.run(_samples(10), Tally())


async def test_a_worker_lost_while_its_batch_is_drawn_gets_nothing_and_loses_nothing() -> None:
    workers = [FakeWorker("w0"), FakeWorker("w1")]

    async def samples() -> AsyncIterator[Sample]:
        for index in range(10):
            if index == 4:  # w0 holds 0-3; w1's batch is being drawn: it dies now
                workers[1].dead = True
                workers[1]._ready.set()
                with anyio.fail_after(60):  # its pending `take` fails meanwhile (waited for, not slept)
                    while not dispatcher.lost:
                        await anyio.sleep(0.001)
            yield _sample(index)

    sink, tally = Collect(), Tally()
    async with Bus([sink]) as bus:
        dispatcher = Dispatcher(workers, bus, capacity=4, episode_id=_episode_id)
        with anyio.fail_after(60):
            await dispatcher.run(samples(), tally)
    finished = Counter(e.episode_id for e in sink.events if isinstance(e, EpisodeFinished))
    assert finished == Counter({_episode_id(_sample(i)): 1 for i in range(10)})
    assert workers[1].ran == [] and dispatcher.requeued_total == 4
