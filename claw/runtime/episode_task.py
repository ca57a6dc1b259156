"""One episode as a task of a run: its kernels (the first, then a fresh one after each death, up to
`agent.max_kernel_restarts`), its wall-clock limit (`agent.episode_timeout_s`, waiting for a kernel
included), and what is recorded when it cannot end normally (`EpisodeFailed` with a typed error, which
`results.jsonl` records as an `error`; the events it emitted so far stay in the log as its evidence).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
import msgspec
import structlog

from claw.errors import EpisodeTimeout, KernelRestartsExhausted, ServiceError
from claw.events import EpisodeFailed, stamp
from claw.llm.types import ChatTransport
from claw.runtime.bus import Bus
from claw.runtime.driver import run_episode
from claw.runtime.episode_services import EpisodeOutcome, EpisodeServices
from claw.runtime.vlm_server import SubCallFailures, SubCallTokens
from claw.sandbox import KernelPool, check_cell
from claw.sandbox.types import Kernel
from claw.suite import Sample, Suite
from claw.wire.kernel import KernelSetup

if TYPE_CHECKING:
    from claw.runtime.layout import RunLayout

__all__ = [
    "KernelLease",
    "RunContext",
    "RunServices",
    "ServiceGone",
    "Tally",
    "episode_id_of",
    "guarded_episode",
]

_log = structlog.get_logger("claw.runtime")


def episode_id_of(sample: Sample, seed: int) -> str:
    """The stable id of `sample`'s episode under `seed` (what results and resume key on)."""
    return f"{sample.suite}/{sample.id}/s{seed}"


_WATCH_INTERVAL_S = 5.0
"""How often the health checks of servers claw cannot restart (an external perception server) run."""


class ServiceGone:
    """Set when a helper server died for good: the run's episodes stop and the run ends with `error`.

    Servers claw started are restarted by their supervisors, which call `give_up` past their budget.
    Servers claw did not start cannot be restarted: their `checks` (each calls `give_up` when its server
    is gone) run every few seconds while episodes run, and once more before a run may end as a success.
    """

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.error: ServiceError | None = None
        self.checks: list[Callable[[], Awaitable[None]]] = []

    def give_up(self, error: ServiceError) -> None:
        """Record the first such failure and stop the episodes."""
        if self.error is None:
            self.error = error
        self.event.set()

    async def check(self) -> None:
        """Run every health check once."""
        for check in self.checks:
            await check()

    async def watch(self) -> None:
        """Run the health checks every few seconds until one gives up (or the caller cancels)."""
        while self.checks and not self.event.is_set():
            await anyio.sleep(_WATCH_INTERVAL_S)
            await self.check()


class RunServices(msgspec.Struct, kw_only=True):
    """The run's shared services that every episode uses."""

    llm: ChatTransport
    pool: KernelPool
    perception_socket: str
    vlm_socket: str
    subcalls: SubCallTokens = msgspec.field(default_factory=SubCallTokens)
    """Tokens each episode's `vlm` calls spent, taken into the episode's token budget."""
    subcall_failures: SubCallFailures = msgspec.field(default_factory=SubCallFailures)
    """Each episode's `vlm` calls whose model endpoint failed (the episode ends as an `error`)."""
    gone: ServiceGone = msgspec.field(default_factory=ServiceGone)
    """Set when a helper server died for good."""


class Tally(msgspec.Struct, kw_only=True):
    """Counts of the run so far, for `RunFinished`."""

    episodes: int = 0
    """Scored episodes (resumed ones included)."""
    score_sum: float = 0.0
    errors: int = 0
    """Episodes of this invocation that ended in `error` (model or tool infrastructure failed)."""
    failed: int = 0
    """Episodes of this invocation the runtime could not run (`EpisodeFailed`)."""


@dataclass(frozen=True)
class RunContext:
    """One run as its episode tasks share it: where it writes (and its config), what it evaluates, its
    services, its event bus and its counts."""

    layout: RunLayout
    suite: Suite
    services: RunServices
    bus: Bus
    tally: Tally


def _setup(run: RunContext, sample: Sample, episode_id: str) -> KernelSetup:
    services, config = run.services, run.layout.config
    return KernelSetup(
        episode_id=episode_id,
        videos=sample.videos,
        answer_format=sample.answer_format,
        options=sample.options,
        metadata=sample.metadata,
        perception_socket=services.perception_socket,
        vlm_socket=services.vlm_socket,
        max_images_per_step=config.agent.max_images_per_step,
        perception_connect_timeout_s=config.perception.connect_timeout_s,
        perception_request_timeout_s=config.perception.request_timeout_s,
    )


class KernelLease:
    """Checks out the episode's kernels into `stack`: the first one, then a fresh one after each death,
    at most `max_restarts` times (a model whose cells keep killing kernels must not loop forever)."""

    def __init__(
        self, pool: KernelPool, setup: KernelSetup, stack: AsyncExitStack, max_restarts: int
    ) -> None:
        self.pool, self.setup, self.stack, self.max_restarts = pool, setup, stack, max_restarts
        self.checkouts = 0

    async def __call__(self) -> Kernel:
        if self.checkouts > self.max_restarts:
            raise KernelRestartsExhausted(
                f"the episode's kernel died {self.checkouts} times; agent.max_kernel_restarts = "
                f"{self.max_restarts} allows no further restart",
                episode_id=self.setup.episode_id,
            )
        self.checkouts += 1
        # A dead kernel's checkout stays open until the episode ends; the pool frees its slot at once.
        return await self.stack.enter_async_context(self.pool.checkout(self.setup))


async def guarded_episode(run: RunContext, sample: Sample, limiter: anyio.CapacityLimiter) -> None:
    """Run `sample`'s episode within its wall-clock limit, recording `EpisodeFailed` when it cannot end
    normally; its slot in `limiter` is released however it ends."""
    episode_id = episode_id_of(sample, run.layout.config.seed)
    started = time.monotonic()
    limit = run.layout.config.agent.episode_timeout_s
    counted: list[EpisodeOutcome] = []
    try:
        with anyio.move_on_after(limit) as deadline:
            await _episode(run, sample, counted)
        if deadline.cancelled_caught and not counted:
            raise EpisodeTimeout(
                f"the episode ran past agent.episode_timeout_s = {limit:g} s and was stopped (waiting for "
                "a kernel included); its events so far are in events.jsonl",
                episode_id=episode_id,
            )
    except Exception as exc:  # noqa: BLE001 - one episode's bug must not end a 500-episode run; it is recorded
        if counted:  # it ended and is recorded; what failed is handing its kernel back: a second record
            # would make a finished episode an error (and run it again on resume)
            _log.warning(
                "episode_cleanup_failed", episode_id=episode_id, error=f"{type(exc).__name__}: {exc}"
            )
        else:
            await _record_failure(run, sample, episode_id, exc, time.monotonic() - started)
    finally:
        limiter.release_on_behalf_of(episode_id)


async def _episode(run: RunContext, sample: Sample, counted: list[EpisodeOutcome]) -> None:
    layout, services = run.layout, run.services
    episode_id = episode_id_of(sample, layout.config.seed)
    setup = _setup(run, sample, episode_id)
    async with AsyncExitStack() as kernels:
        lease = KernelLease(services.pool, setup, kernels, layout.config.agent.max_kernel_restarts)
        episode = EpisodeServices(
            run_id=layout.run_id,
            llm=services.llm,
            kernel=await lease(),
            check=check_cell,
            emit=run.bus.emit,
            score=run.suite.score,
            agent=layout.config.agent,
            replace_kernel=lease,
            run_dir=layout.run_dir,
            subcall_tokens=services.subcalls.take,
            subcall_failures=services.subcall_failures.take,
        )
        outcome = await run_episode(sample, episode_id, episode)
        # Counted before the kernels are handed back: a cancellation there must not lose it.
        _count(run.tally, outcome)
        counted.append(outcome)


def _count(tally: Tally, outcome: EpisodeOutcome) -> None:
    if outcome.reason == "error":
        tally.errors += 1
        return
    tally.episodes += 1
    tally.score_sum += outcome.score.value


async def _record_failure(
    run: RunContext, sample: Sample, episode_id: str, exc: BaseException, duration_s: float
) -> None:
    run.tally.failed += 1
    failed = EpisodeFailed(
        **stamp(run.layout.run_id, episode_id=episode_id),
        sample_id=sample.id,
        error_type=type(exc).__name__,
        message=str(exc),
        traceback="".join(traceback.format_exception(exc)),
        suite=sample.suite,
        category=sample.category,
        ground_truth=sample.ground_truth,
        duration_s=duration_s,
    )
    with anyio.CancelScope(shield=True):  # a cancellation must not leave it in the event log alone
        await run.bus.emit(failed)
