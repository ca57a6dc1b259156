"""The trivial episode the runtime benchmarks run, and the CPU accounting around it.

An episode is the real one minus the benchmark: the mock model (the `two-step` policy: a plan, one
trivial cell, the answer cell, so 3 model calls) behind the real HTTP client, real confined kernels from
a `KernelPool` (or, when asked, an in-process fake kernel), a two-image sample, and the real event log
and results sink. `ProcessCpu` reads the CPU seconds of each process the episode involves: the runner
(this process), the model server, the kernels (the template, its live kernels and the reaped ones).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import numpy as np
import psutil
from PIL import Image

from claw.config import AgentConfig, ModelsConfig, SandboxConfig
from claw.llm import open_llm, start_mock_server
from claw.llm.types import ChatTransport
from claw.runtime.bus import Bus
from claw.runtime.driver import run_episode
from claw.runtime.episode_services import EpisodeServices
from claw.runtime.sinks import JsonlSink, ResultsSink
from claw.sandbox import KernelPool, check_cell
from claw.sandbox.types import Kernel
from claw.suite import Frame, Sample, Score, Video
from claw.wire.kernel import CellResult, KernelSetup, SubmittedAnswer

__all__ = ["CALLS_PER_EPISODE", "FakeKernel", "ProcessCpu", "Workload", "open_workload"]

CALLS_PER_EPISODE = 3
"""Model calls of one `two-step` episode: the plan, the cell, the answer."""
POLICY = "two-step"


class FakeKernel:
    """A `Kernel` that answers every cell at once, in this process (`--fake-kernel`: no kernels at all)."""

    kernel_id = "fake"

    async def execute(self, code: str, *, timeout: float) -> CellResult:
        """Accept option A when the cell submits, else print `1`."""
        if "ReturnAnswer" in code:
            return CellResult(status="ok", answer=SubmittedAnswer(text="A", valid=True))
        return CellResult(status="ok", stdout="1")


def _score(sample: Sample, answer: str | None) -> Score:
    return Score(value=float(answer == sample.ground_truth), metric="exact")


def _sample(folder: Path) -> Sample:
    videos = []
    for i in range(2):
        path = folder / f"image{i}.png"
        Image.fromarray(np.full((96, 128, 3), 60 * i, np.uint8)).save(path)
        videos.append(Video(name=f"image{i}", frames=(Frame(path=str(path), index=0),)))
    return Sample(
        id="s",
        suite="bench",
        question="Which of the two images is brighter?",
        answer_format="letter",
        ground_truth="A",
        videos=tuple(videos),
        options=("the second", "the first"),
    )


def _cpu_s(process: psutil.Process, *, reaped: bool = False) -> float:
    times = process.cpu_times()
    total = float(times.user + times.system)
    return total + (float(times.children_user + times.children_system) if reaped else 0.0)


@dataclass
class ProcessCpu:
    """CPU seconds so far of the runner, the model server and the kernels (read in a worker thread)."""

    model_pid: int | None
    template_pid: int | None = None

    def read(self) -> dict[str, float]:
        """{"runner", "model_server", "kernels"}: cumulative CPU seconds."""
        figures = {"runner": time.process_time(), "model_server": 0.0, "kernels": 0.0}
        with contextlib.suppress(psutil.Error):
            if self.model_pid is not None:
                figures["model_server"] = _cpu_s(psutil.Process(self.model_pid))
        if self.template_pid is not None:
            figures["kernels"] = _kernel_tree_cpu(self.template_pid)
        return figures


def _kernel_tree_cpu(template_pid: int) -> float:
    # Kernels are reaped by the template (a child subreaper), so their CPU lands in its children times.
    try:
        template = psutil.Process(template_pid)
        total = _cpu_s(template, reaped=True)
        for kernel in template.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += _cpu_s(kernel)
    except psutil.Error:
        return 0.0
    return total


@dataclass
class Workload:
    """What every level shares: the model client, the event bus (real sinks), the sample and the CPU."""

    llm: ChatTransport
    bus: Bus
    sample: Sample
    cpu: ProcessCpu
    folder: Path
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    reuse: bool = True
    """Let the pool reuse provably clean kernels (the trivial cells are contained); False: fork each time."""
    timeline: list[tuple[float, float]] = field(default_factory=list)
    """(start, end) in `time.perf_counter` seconds of each episode of the last `run`."""

    def pool(self, size: int) -> KernelPool:
        """A pool of `size` kernels for this workload."""
        return KernelPool(self.sandbox, size=size, reuse_clean=self.reuse)

    def setup(self, episode_id: str) -> KernelSetup:
        """The kernel setup of one episode of the sample."""
        s = self.sample
        return KernelSetup(
            episode_id=episode_id,
            videos=s.videos,
            answer_format=s.answer_format,
            options=s.options,
            metadata=s.metadata,
        )

    async def episode(self, episode_id: str, kernel: Kernel) -> None:
        """Run one episode on `kernel`; raise if it did not answer correctly (the benchmark would lie)."""
        services = EpisodeServices(
            run_id="bench",
            llm=self.llm,
            kernel=kernel,
            check=check_cell,
            emit=self.bus.emit,
            score=_score,
            agent=AgentConfig(max_steps=4),
        )
        outcome = await run_episode(self.sample, episode_id, services)
        if outcome.score.value != 1.0:
            raise RuntimeError(f"benchmark episode {episode_id} did not answer A: {outcome}")

    async def run(
        self, episodes: int, concurrency: int, kernels: KernelPool | None, *, spread_s: float = 0.0
    ) -> float:
        """Run `episodes` episodes, `concurrency` at a time; return the wall seconds.

        With `spread_s`, the first `concurrency` episodes start evenly over that many seconds (each holding
        its slot meanwhile) instead of all at once; `timeline` has every episode's start and end.
        """
        limiter = anyio.CapacityLimiter(concurrency)
        self.timeline = []
        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for index in range(episodes):
                delay = spread_s * index / concurrency if index < concurrency else 0.0
                tg.start_soon(self._one, f"e{concurrency}-{index}", limiter, kernels, delay)
        return time.perf_counter() - started

    async def _one(
        self, episode_id: str, limiter: anyio.CapacityLimiter, kernels: KernelPool | None, delay: float
    ) -> None:
        async with limiter:
            await anyio.sleep(delay)
            began = time.perf_counter()
            if kernels is None:
                await self.episode(episode_id, FakeKernel())
            else:
                async with kernels.checkout(self.setup(episode_id)) as kernel:
                    await self.episode(episode_id, kernel)
            self.timeline.append((began, time.perf_counter()))


@contextlib.asynccontextmanager
async def open_workload(folder: Path, latency_ms: float) -> AsyncIterator[Workload]:
    """Start the mock model server with `latency_ms` per call and open the client and the sinks."""
    extra = ["--base-ms", str(latency_ms), "--max-batch", "100000"]
    sample = await anyio.to_thread.run_sync(_sample, folder)
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(
            start_mock_server(POLICY, seed=0, extra_args=extra, log_path=folder / "mockllm.log")
        )
        model_pid = await anyio.to_thread.run_sync(_child_with, "servers.mockllm")
        llm = await stack.enter_async_context(
            open_llm(ModelsConfig(), per_endpoint_limit=100000, default_url=url)
        )
        sinks = await anyio.to_thread.run_sync(_sinks, folder)
        bus = await stack.enter_async_context(Bus(sinks))
        yield Workload(llm=llm, bus=bus, sample=sample, cpu=ProcessCpu(model_pid), folder=folder)


def _sinks(folder: Path) -> list[JsonlSink | ResultsSink]:
    return [JsonlSink(folder / "events.jsonl"), ResultsSink(folder / "results.jsonl", "bench")]


def _child_with(needle: str) -> int | None:
    for child in psutil.Process(os.getpid()).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if needle in " ".join(child.cmdline()):
                return int(child.pid)
    return None


def rss_mb() -> float:
    """This process's resident memory in MB."""
    return round(float(psutil.Process(os.getpid()).memory_info().rss) / 2**20, 1)


async def measured(cpu: ProcessCpu, action: Callable[[], Awaitable[float]]) -> tuple[float, dict[str, float]]:
    """Run `action` (which returns wall seconds); return them with the CPU seconds each process spent."""
    before = await anyio.to_thread.run_sync(cpu.read)
    wall = await action()
    after = await anyio.to_thread.run_sync(cpu.read)
    return wall, {name: after[name] - before[name] for name in before}
