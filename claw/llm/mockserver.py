"""`start_mock_server`: run `servers.mockllm` as a child process for the length of an `async with`.

The child binds a free loopback port and prints `READY http://127.0.0.1:PORT/v1`; the launcher waits for
that line (bounded), yields the base URL, and stops the child on exit, cancellation included. A server
that dies meanwhile is started again on the same port (a bounded number of times), so the run's clients
keep their URL and their retries reach it.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from claw._process import kept_running
from claw.errors import ServiceError

__all__ = ["READY_PREFIX", "start_mock_server"]

_log = structlog.get_logger("claw.llm")

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
    max_restarts: int = 3,
    on_giving_up: Callable[[ServiceError], None] | None = None,
) -> AsyncIterator[str]:
    """Run the mock LLM server with `policy`; yield its base URL (`http://127.0.0.1:PORT/v1`).

    Args:
        policy: a name registered in `servers.mockllm.policy.POLICIES`.
        seed: the server's seed (policies, faults and latency are deterministic under it).
        extra_args: more `python -m servers.mockllm` flags (fault injection, latency model).
        ready_timeout_s: how long to wait for the readiness line.
        log_path: append the server's output to this file.
        max_restarts: times the server is started again (on the same port) after it dies.
        on_giving_up: told when it died once more than that (default: log it).

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
    async with kept_running(
        [*command, *extra_args],
        name=f"mock LLM server ({policy})",
        log_path=log_path,
        ready_timeout_s=ready_timeout_s,
        max_restarts=max_restarts,
        on_giving_up=on_giving_up or _log_giving_up,
        restart_command=lambda url: _on_port([*command, *extra_args], url),
    ) as url:
        yield url


def _on_port(command: list[str], url: str) -> list[str]:
    """`command` listening on `url`'s port instead of a free one, so clients keep their URL."""
    port = str(urlsplit(url).port)
    return [
        port if previous == "--port" else arg
        for previous, arg in zip(["", *command[:-1]], command, strict=True)
    ]


def _log_giving_up(error: ServiceError) -> None:
    _log.error("mock LLM server gone for good", error=error.message)
