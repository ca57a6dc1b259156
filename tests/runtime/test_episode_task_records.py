"""Every episode that ends leaves exactly one record: a failure while its kernel is handed back, after its
`EpisodeFinished`, is logged and never becomes a second (`EpisodeFailed`) record that would turn a
finished episode into an error; a failure before it ends is one `EpisodeFailed`. Runs `guarded_episode`
with the real driver, an in-process kernel and a scripted model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from claw.agent.markers import PLANNER_SYSTEM_HEADER
from claw.config import AgentConfig, EvalConfig
from claw.events import EpisodeFailed, EpisodeFinished, Event
from claw.llm import ChatRequest, ScriptedTransport
from claw.runtime.bus import Bus
from claw.runtime.episode_task import RunContext, RunServices, Tally, guarded_episode
from claw.runtime.layout import prepare_run
from claw.sandbox.types import Kernel
from claw.suite import SuiteOptions, get_suite
from claw.wire.kernel import KernelSetup
from tests.fake_kernel import InProcessKernel

_ANSWER = "**Purpose:** a\n**Reasoning:** b\n**Next Goal:** c\n**Code:**\n```python\nReturnAnswer('A')\n```"


class _Pool:
    """Lends in-process kernels; handing one back raises `fail_on_return` when set."""

    def __init__(
        self, fail_on_return: Exception | None = None, fail_on_take: Exception | None = None
    ) -> None:
        self.fail_on_return, self.fail_on_take = fail_on_return, fail_on_take

    @asynccontextmanager
    async def checkout(self, setup: KernelSetup) -> AsyncIterator[Kernel]:
        if self.fail_on_take is not None:
            raise self.fail_on_take
        yield InProcessKernel(setup)
        if self.fail_on_return is not None:
            raise self.fail_on_return


class _Collect:
    name = "collect"

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def handle(self, events: Sequence[Event]) -> None:
        self.events.extend(events)

    async def aclose(self) -> None:
        """Nothing to release."""


def _model(request: ChatRequest) -> str:
    return "1. answer" if request.messages[0].text().startswith(PLANNER_SYSTEM_HEADER) else _ANSWER


async def _run_one(tmp_path: Path, pool: _Pool) -> tuple[list[Event], Tally]:
    config = EvalConfig(n=1, run_dir=str(tmp_path / "r"), agent=AgentConfig(max_steps=2))
    layout = await anyio.to_thread.run_sync(prepare_run, config)
    suite = await anyio.to_thread.run_sync(
        get_suite, "synthetic", SuiteOptions(n=1, media_dir=str(tmp_path / "media"))
    )
    (sample,) = await anyio.to_thread.run_sync(lambda: list(suite.samples()))
    services = RunServices(
        llm=ScriptedTransport(_model),
        pool=pool,
        perception_socket="",
        vlm_socket="",  # type: ignore[arg-type]
    )
    sink, tally = _Collect(), Tally()
    limiter = anyio.CapacityLimiter(1)
    async with Bus([sink]) as bus:
        await limiter.acquire_on_behalf_of("synthetic/syn-0-00000/s0")
        await guarded_episode(RunContext(layout, suite, services, bus, tally), sample, limiter)
    return sink.events, tally


async def test_a_failure_handing_the_kernel_back_adds_no_second_record(tmp_path: Path) -> None:
    events, tally = await _run_one(tmp_path, _Pool(fail_on_return=OSError("relay socket already gone")))
    ended = [e for e in events if isinstance(e, EpisodeFinished | EpisodeFailed)]
    assert len(ended) == 1 and isinstance(ended[0], EpisodeFinished) and ended[0].reason != "error"
    assert (tally.episodes, tally.errors, tally.failed) == (1, 0, 0)


@pytest.mark.parametrize("failure", [OSError("no kernel"), RuntimeError("a bug in the runtime")])
async def test_a_failure_before_the_end_is_one_typed_failure(tmp_path: Path, failure: Exception) -> None:
    events, tally = await _run_one(tmp_path, _Pool(fail_on_take=failure))
    ended = [e for e in events if isinstance(e, EpisodeFinished | EpisodeFailed)]
    assert len(ended) == 1 and isinstance(ended[0], EpisodeFailed)
    assert ended[0].error_type == type(failure).__name__ and ended[0].category
    assert (tally.episodes, tally.failed) == (0, 1)
