"""A kernel SIGKILLed from outside in the middle of a cell (the OOM killer, an operator): the cell is
reported as `died`, the episode gets a fresh kernel (and is told its variables are gone), goes on to its
answer, and the run finishes with one result per episode; nothing hangs, nothing is lost."""

from __future__ import annotations

import os
import signal
from functools import partial
from pathlib import Path

import anyio
import psutil
import pytest

from claw.agent.markers import OBSERVATION_HEADING, PLANNER_SYSTEM_HEADER
from claw.events import CellExecuted, KernelFailed
from claw.llm import ChatRequest, ScriptedTransport
from claw.llm.types import ChatTransport
from claw.runtime.runner import run_eval
from servers.mockllm.policies.stuck import STUCK_CELL
from tests.faults.fault_helpers import HARD_DEADLINE_S, read_run, results_of, small_config

pytestmark = pytest.mark.slow

N = 2
_ANSWER = "ReturnAnswer({'letter': 'A', 'number': 1.0, 'yes_no': 'yes'}.get(Metadata.answer_format, 'A'))"
_REPLY = "**Purpose:** look\n**Reasoning:** match\n**Next Goal:** answer\n**Code:**\n```python\n{code}\n```"


class _FirstCellBlocks:
    """The model: the first episode's first cell blocks in C code until its kernel is killed (it ignores
    the interrupt, and the cell timeout is far away); every other cell answers at once."""

    def __init__(self) -> None:
        self.first_episode: str | None = None

    def __call__(self, request: ChatRequest) -> str:
        if request.messages[0].text().startswith(PLANNER_SYSTEM_HEADER):
            return "1. look\n2. answer"
        self.first_episode = self.first_episode or request.session_id
        observed = any(
            m.role == "user" and m.text().startswith(OBSERVATION_HEADING) for m in request.messages
        )
        blocks = request.session_id == self.first_episode and not observed
        return _REPLY.format(code=STUCK_CELL if blocks else _ANSWER)


def _kernels() -> list[psutil.Process]:
    """Every process under the kernel template (kernels are forked from it and keep its command line)."""
    forked = []
    for child in psutil.Process().children(recursive=True):
        try:  # a process that exits while listed (a kernel being replaced) is skipped, not an error
            if "claw.sandbox._template" in " ".join(child.cmdline()):
                forked.append((child, child.ppid()))
        except psutil.Error:
            continue
    pids = {p.pid for p, _ in forked}
    kernels = []
    for template in [p for p, parent in forked if parent not in pids]:
        try:
            kernels += template.children(recursive=True)
        except psutil.Error:
            continue
    return kernels


async def _kill_kernels_once_the_blocking_cell_runs(events: Path, model: _FirstCellBlocks) -> None:
    """SIGKILL every kernel once the blocking cell has passed its check (it runs until killed)."""
    while not await anyio.to_thread.run_sync(_blocking_cell_checked, events, model.first_episode):
        await anyio.sleep(0.05)
    kernels = await anyio.to_thread.run_sync(_kernels)
    assert kernels, "no kernel process found to kill"
    for kernel in kernels:
        try:
            os.kill(kernel.pid, signal.SIGKILL)
        except ProcessLookupError:
            continue  # it ended on its own meanwhile
    await anyio.to_thread.run_sync(partial(psutil.wait_procs, kernels, timeout=30))


def _blocking_cell_checked(events: Path, episode_id: str | None) -> bool:
    if episode_id is None or not events.exists():
        return False
    mark = f'"episode_id":"{episode_id}"'.encode()
    return any(b'"cell_checked"' in line and mark in line for line in events.read_bytes().splitlines())


async def test_a_kernel_killed_mid_cell_is_replaced_and_the_episode_goes_on(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    config = small_config(run_dir, n=N, cell_timeout_s=600.0, max_kernel_restarts=2)
    model = _FirstCellBlocks()

    def scripted(_real: ChatTransport) -> ChatTransport:
        return ScriptedTransport(model)

    with anyio.fail_after(HARD_DEADLINE_S):
        async with anyio.create_task_group() as tg:
            tg.start_soon(_kill_kernels_once_the_blocking_cell_runs, run_dir / "events.jsonl", model)
            summary = await run_eval(config, wrap_llm=scripted)
    record = await read_run(run_dir)
    assert record.run_finished()[-1].status == "success"
    assert len(record.finished) == N and not record.failed
    assert {f.reason for f in record.finished.values()} == {"answered"}
    died = [e for e in record.events if isinstance(e, CellExecuted) and e.status == "died"]
    assert any(e.episode_id == model.first_episode for e in died), "the blocking cell did not die"
    assert any(isinstance(e, KernelFailed) and e.episode_id == model.first_episode for e in record.events)
    lines = (await anyio.to_thread.run_sync((run_dir / "results.jsonl").read_bytes)).splitlines()
    assert len(lines) == N == len(await results_of(run_dir)), "an episode was recorded twice or lost"
    assert (summary.n, summary.errors, summary.failed) == (N, 0, 0)
