"""Live progress of a run: counters folded from the event stream (episodes done, accuracy so far, rate
and ETA, tokens, forced / error / failed endings, kernel deaths, model requests in flight) and published
as a typed `ProgressSnapshot` to whoever watches: the CLI's display, or an embedding application.

`ProgressSink` is a bus sink; it publishes at most every `interval_s` and once more when the run ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import msgspec

from claw.config import EvalConfig
from claw.events import (
    EpisodeFailed,
    EpisodeFinished,
    Event,
    KernelFailed,
    LLMFailed,
    LLMRequested,
    LLMResponded,
    RunStarted,
)
from claw.suite import CountedSuite, Suite

__all__ = ["ProgressSink", "ProgressSnapshot", "format_progress", "planned_total"]


class ProgressSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The state of a run at one moment."""

    done: int
    """Scored episodes, resumed ones included."""
    total: int
    """Episodes the run was asked for (0: unknown, every sample of the suite)."""
    accuracy: float
    """Mean score of the scored episodes so far (0..1)."""
    forced: int = 0
    errors: int = 0
    """Episodes that ended in `error` (the model or its tools failed)."""
    failed: int = 0
    """Episodes the runtime itself could not run."""
    kernel_deaths: int = 0
    requests_in_flight: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    elapsed_s: float = 0.0
    rate: float = 0.0
    """Episodes ended per second in this invocation."""
    eta_s: float | None = None
    """Seconds to go at the current rate (None: unknown)."""
    finished: bool = False
    """The run has ended (the last snapshot)."""


def planned_total(config: EvalConfig, suite: Suite) -> int:
    """The episodes a run covers, resumed ones included, for its progress total: the samples it names,
    else what the suite says it will yield (a composite suite such as paper20 applies `n` to each of its
    benchmarks), else `n` (0: unknown). Blocking: a suite may read its files to count.

    Raises:
        SuiteError: the suite's data cannot be read.
    """
    if config.samples:
        return len(config.samples)
    if isinstance(suite, CountedSuite):
        return suite.planned_samples()
    return config.n or 0


def _clock_text(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_progress(snapshot: ProgressSnapshot) -> str:
    """One plain line: `[12/30] acc 0.917 | 0.42 ep/s, ETA 0:43 | 81k tok | forced 1 …`."""
    total = str(snapshot.total) if snapshot.total else "?"
    eta = _clock_text(snapshot.eta_s) if snapshot.eta_s is not None else "?"
    tokens = (snapshot.prompt_tokens + snapshot.completion_tokens) / 1000
    return (
        f"[{snapshot.done}/{total}] acc {snapshot.accuracy:.3f} | {snapshot.rate:.2f} ep/s, "
        f"elapsed {_clock_text(snapshot.elapsed_s)}, ETA {eta} | {tokens:.0f}k tok, "
        f"{snapshot.requests_in_flight} req in flight | forced {snapshot.forced}, errors {snapshot.errors}, "
        f"failed {snapshot.failed}, kernel deaths {snapshot.kernel_deaths}"
    )


class _Counts(msgspec.Struct, kw_only=True):
    done: int = 0
    score_sum: float = 0.0
    ended_now: int = 0
    forced: int = 0
    errors: int = 0
    failed: int = 0
    kernel_deaths: int = 0
    in_flight: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, event: Event) -> None:
        match event:
            case EpisodeFinished(reason="error"):
                self.errors += 1
                self.ended_now += 1
            case EpisodeFinished(score=score, reason=reason):
                self.done, self.score_sum, self.ended_now = (
                    self.done + 1,
                    self.score_sum + score,
                    self.ended_now + 1,
                )
                self.forced += reason == "forced"
            case EpisodeFailed():
                self.failed, self.ended_now = self.failed + 1, self.ended_now + 1
            case KernelFailed():
                self.kernel_deaths += 1
            case LLMRequested():
                self.in_flight += 1
            case LLMResponded():
                self.in_flight -= 1
                self.prompt_tokens += event.prompt_tokens
                self.completion_tokens += event.completion_tokens
            case LLMFailed():
                self.in_flight -= 1


class ProgressSink:
    """Folds events into progress counters; publishes a snapshot through `publish` when due."""

    name = "progress"

    def __init__(
        self,
        total: int,
        publish: Callable[[ProgressSnapshot], None],
        *,
        done: int = 0,
        score_sum: float = 0.0,
        errors: int = 0,
        failed: int = 0,
        interval_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self._counts = _Counts(done=done, score_sum=score_sum, errors=errors, failed=failed)
        self._publish, self._interval, self._clock = publish, interval_s, clock
        self._started = clock()
        self._last = float("-inf")

    def snapshot(self, *, finished: bool = False) -> ProgressSnapshot:
        """The counters now."""
        c, elapsed = self._counts, max(self._clock() - self._started, 1e-9)
        rate = c.ended_now / elapsed
        left = self.total - c.done - c.errors - c.failed if self.total else 0
        eta = left / rate if rate > 0 and self.total else None
        return ProgressSnapshot(
            done=c.done, total=self.total, accuracy=c.score_sum / c.done if c.done else 0.0,
            forced=c.forced, errors=c.errors, failed=c.failed, kernel_deaths=c.kernel_deaths,
            requests_in_flight=max(c.in_flight, 0), prompt_tokens=c.prompt_tokens,
            completion_tokens=c.completion_tokens, elapsed_s=elapsed, rate=rate,
            eta_s=max(eta, 0.0) if eta is not None else None, finished=finished,
        )  # fmt: skip

    async def handle(self, events: Sequence[Event]) -> None:
        """Count the batch; publish when `interval_s` has passed since the last publication."""
        for event in events:
            if isinstance(event, RunStarted):
                self._started = self._clock()  # the rate counts from when episodes can start
            self._counts.add(event)
        if self._clock() - self._last >= self._interval:
            self._last = self._clock()
            self._publish(self.snapshot())

    async def aclose(self) -> None:
        """Publish the final snapshot."""
        self._publish(self.snapshot(finished=True))
