"""Pool slots and limits: a kernel that dies while lent gives its slot back at once (deaths never starve
the pool), the ZeroMQ socket cap and the open-file limit fit the pool size, and too low a hard open-file
limit fails at start with one line naming it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest
import zmq

from claw.sandbox import KernelPool
from claw.sandbox._launch import _zmq_context, files_needed
from tests.sandbox.conftest import TEST_CONFIG, make_setup

KILL_SELF = "import os\nos._exit(3)"


@pytest.mark.asyncio
async def test_dead_kernels_never_starve_the_pool(frames_dir: Path) -> None:
    # One kernel; three deaths inside checkouts that all stay open, as an episode's restarts do.
    async with KernelPool(TEST_CONFIG, size=1) as pool, contextlib.AsyncExitStack() as held:
        for _ in range(3):
            kernel = await held.enter_async_context(pool.checkout(make_setup(frames_dir)))
            result = await kernel.execute(KILL_SELF, timeout=60)
            assert result.status == "died"
        kernel = await held.enter_async_context(pool.checkout(make_setup(frames_dir)))
        result = await kernel.execute("print('still served')", timeout=60)
        stats = pool.statistics()
    assert result.stdout == "still served\n"
    assert stats.died == 3 and stats.busy == 1


def test_zmq_socket_cap_fits_the_pool() -> None:
    context = _zmq_context(512)
    try:
        assert context.get(zmq.MAX_SOCKETS) >= 512 * 4 * 2
    finally:
        context.destroy(0)


def test_open_file_limit_is_raised_or_refused_in_one_line() -> None:
    # Lowering a hard limit cannot be undone, so it happens in a child process.
    script = (
        "import resource\n"
        "from claw.errors import ConfigError\n"
        "from claw.sandbox._launch import files_needed, raise_open_file_limit\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, files_needed(64)))\n"
        "raise_open_file_limit(64)\n"
        "print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
        "try:\n"
        "    raise_open_file_limit(512)\n"
        "except ConfigError as exc:\n"
        "    print(exc.field, str(exc))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    raised, refusal = done.stdout.splitlines()
    assert int(raised) == files_needed(64)
    assert refusal.startswith("limits.kernels") and "ulimit -Hn" in refusal
