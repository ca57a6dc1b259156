"""Shared fixtures for the sandbox tests: episode setups with real frame files, a small pool, and a cell run
as a real episode."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio
from PIL import Image

from claw.config import AgentConfig, SandboxConfig
from claw.events import CellExecuted, Event
from claw.llm import ScriptedTransport
from claw.llm.types import ChatRequest
from claw.runtime.driver import run_episode
from claw.runtime.episode_services import EpisodeServices
from claw.sandbox import KernelPool
from claw.sandbox.types import Kernel
from claw.suite import Frame, Sample, Score, Video
from claw.wire.kernel import KernelSetup

TEST_CONFIG = SandboxConfig(memory_mb=1536, cpu_seconds=120, max_processes=48, max_file_mb=8)


@pytest.fixture(scope="module")
def frames_dir() -> Iterator[Path]:
    """Two small PNG frames in a world-readable directory (kernels may run as another uid)."""
    with tempfile.TemporaryDirectory(prefix="claw-frames-") as name:
        directory = Path(name)
        directory.chmod(0o755)
        rng = np.random.default_rng(0)
        for i in range(2):
            pixels = rng.integers(0, 255, size=(24, 32, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(directory / f"f{i}.png")
            os.chmod(directory / f"f{i}.png", 0o644)
        yield directory


def make_setup(frames_dir: Path, *, answer_format: str = "letter", **extra: object) -> KernelSetup:
    """A two-frame video episode with options A-C."""
    frames = tuple(
        Frame(path=str(frames_dir / f"f{i}.png"), index=10 * i, timestamp_s=float(i)) for i in range(2)
    )
    video = Video(name="clip", frames=frames, fps=10.0, total_frames=20, duration_s=2.0)
    return KernelSetup(
        episode_id="ep-test",
        videos=(video,),
        answer_format=answer_format,  # type: ignore[arg-type]
        options=("red", "green", "blue"),
        metadata={"scene": "scene-7"},
        **extra,  # type: ignore[arg-type]
    )


@contextlib.asynccontextmanager
async def pool_in_task(pool: KernelPool) -> AsyncIterator[KernelPool]:
    """Open `pool` inside its own task: a fixture's setup and teardown run in different tasks, and the
    pool's task group must be entered and left by the same one."""
    ready, stop = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with pool:
            ready.set()
            await stop.wait()

    task = asyncio.create_task(hold())
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()
    try:
        yield pool
    finally:
        stop.set()
        await task


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pool() -> AsyncIterator[KernelPool]:
    """A confined pool of two kernels shared by one test module."""
    opened = KernelPool(TEST_CONFIG, size=2, max_stdout_chars=400, max_images_per_step=2)
    async with pool_in_task(opened):
        yield opened


def _reply(code: str) -> str:
    fence = "```"
    return f"**Purpose:** p\n**Reasoning:** r\n**Next Goal:** g\n**Code:**\n{fence}python\n{code}\n{fence}"


async def run_as_episode(kernel: Kernel, frames_dir: Path, code: str, *, timeout: float) -> str:
    """Run `code` as the first cell of a real episode (scripted model, real kernel, AST check off) that
    then answers; returns what the cell's `CellExecuted` event recorded, as one text."""
    replies = iter([_reply(code)])
    events: list[Event] = []

    def handler(request: ChatRequest) -> str:
        return next(replies, _reply("ReturnAnswer('A')"))

    async def emit(event: Event) -> None:
        events.append(event)

    services = EpisodeServices(
        run_id="hostile",
        llm=ScriptedTransport(handler),
        kernel=kernel,
        check=lambda cell: None,
        emit=emit,
        score=lambda sample, answer: Score(value=0.0, metric="exact", extracted=answer),
        agent=AgentConfig(plan=False, max_steps=3, cell_timeout_s=timeout),
    )
    await run_episode(_episode_sample(frames_dir), "ep-test", services)
    executed = [event for event in events if isinstance(event, CellExecuted)]
    assert executed, [type(event).__name__ for event in events]
    first = executed[0]
    parts = [first.status, first.stdout, first.stderr, first.error_type or "", first.error_message or ""]
    return "\n".join(parts)


def _episode_sample(frames_dir: Path) -> Sample:
    frames = tuple(Frame(path=str(frames_dir / f"f{i}.png"), index=10 * i) for i in range(2))
    return Sample(
        id="hostile-1",
        suite="hostile",
        question="Which colour?",
        answer_format="letter",
        ground_truth="A",
        videos=(Video(name="clip", frames=frames),),
        options=("red", "green", "blue"),
        category="hostile",
    )
