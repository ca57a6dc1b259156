"""`start_mock_server`: run `servers.mockllm` as a child process for the length of an `async with`.

The child binds a free loopback port and prints `READY http://127.0.0.1:PORT/v1`; the launcher waits for
that line (bounded), yields the base URL, and stops the child on exit, cancellation included.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from claw._process import supervised, wait_ready_line

__all__ = ["READY_PREFIX", "start_mock_server"]

READY_PREFIX = "READY "
"""The readiness line's prefix; the base URL follows it."""


@asynccontextmanager
async def start_mock_server(
    policy: str,
    *,
    seed: int,
    extra_args: Sequence[str] = (),
    ready_timeout_s: float = 30.0,
    log_path: Path | None = None,
) -> AsyncIterator[str]:
    """Run the mock LLM server with `policy`; yield its base URL (`http://127.0.0.1:PORT/v1`).

    Args:
        policy: a name registered in `servers.mockllm.policy.POLICIES`.
        seed: the server's seed (policies, faults and latency are deterministic under it).
        extra_args: more `python -m servers.mockllm` flags (fault injection, latency model).
        ready_timeout_s: how long to wait for the readiness line.
        log_path: append the server's output to this file.

    Raises:
        ServiceError: the server exited or did not become ready in time (the message has its output).
    """
    command = [
        sys.executable,
        "-m",
        "servers.mockllm",
        "--policy",
        policy,
        "--port",
        "0",
        "--seed",
        str(seed),
    ]
    async with supervised(
        [*command, *extra_args], name=f"mock LLM server ({policy})", log_path=log_path
    ) as child:
        yield await wait_ready_line(child, ready_timeout_s, prefix=READY_PREFIX)
