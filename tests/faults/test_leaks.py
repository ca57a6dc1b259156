"""Nothing outlives a run: after 40 episodes (kept short for CI; the count is what matters, not the
length) the test process has the same child processes, file descriptors, sockets, claw temporary
directories and claw cgroups as before it."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

import anyio
import msgspec
import psutil
import pytest

from claw.config import Limits
from claw.runtime.runner import run_eval
from tests.faults.fault_helpers import HARD_DEADLINE_S, small_config

pytestmark = pytest.mark.slow

EPISODES = 40
SETTLE_S = 60.0


class Footprint(msgspec.Struct, frozen=True):
    """What this process holds that a run could leak."""

    children: tuple[int, ...]
    fds: Counter[str]
    temp_dirs: tuple[str, ...]
    cgroups: tuple[str, ...]


def _fd_kind(fd: str) -> str:
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return "gone"
    return target.split(":")[0] if ":" in target and not target.startswith("/") else "file"


def _footprint() -> Footprint:
    me = os.getpid()
    children = tuple(sorted(p.pid for p in psutil.Process().children(recursive=True)))
    fds = Counter(_fd_kind(fd) for fd in os.listdir("/proc/self/fd"))
    temp = tuple(sorted(p.name for p in Path(tempfile.gettempdir()).glob(f"claw-*{me}-*")))
    cgroups = tuple(sorted(str(p) for p in Path("/sys/fs/cgroup").glob(f"**/claw-{me}-*")))
    return Footprint(children=children, fds=fds, temp_dirs=temp, cgroups=cgroups)


async def _settled_footprint(before: Footprint) -> Footprint:
    """The footprint once the run's children have exited (they are reaped in the background), or as it
    is after `SETTLE_S` (a bound for a hang only: a loaded machine may take seconds to reap them)."""
    deadline = anyio.current_time() + SETTLE_S
    after = await anyio.to_thread.run_sync(_footprint)
    while after != before and anyio.current_time() < deadline:
        await anyio.sleep(0.1)
        after = await anyio.to_thread.run_sync(_footprint)
    return after


async def test_a_run_leaves_nothing_behind(tmp_path: Path) -> None:
    config = small_config(tmp_path / "warm", policy="steps", n=2)
    with anyio.fail_after(HARD_DEADLINE_S):
        await run_eval(config)  # first run: one-time imports and caches are not leaks
    before = await anyio.to_thread.run_sync(_footprint)
    config = small_config(tmp_path / "r", policy="steps", n=EPISODES)
    config = msgspec.structs.replace(config, limits=Limits(episodes=8, kernels=4))
    with anyio.fail_after(HARD_DEADLINE_S):
        summary = await run_eval(config)
    assert summary.n == EPISODES
    after = await _settled_footprint(before)
    assert after.children == before.children
    assert after.fds == before.fds
    assert after.temp_dirs == before.temp_dirs
    assert after.cgroups == before.cgroups
