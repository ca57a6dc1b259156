"""A perception server that accepts tool calls and never answers them (its /health still answers, so the
run starts and the watch keeps it): each tool call gives up after `perception.request_timeout_s`, the
model is told "perception server not answering" (not a bare cell timeout), and every episode whose tools
met it ends as an infrastructure error, never a score."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import msgspec
import pytest

from claw.config import PerceptionConfig
from claw.events import CellExecuted, ObservationMade
from claw.runtime.runner import run_eval
from tests.faults.fault_helpers import (
    HARD_DEADLINE_S,
    read_request_head,
    read_run,
    results_of,
    serve_each,
    small_config,
)

pytestmark = pytest.mark.slow

N = 2


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short directory for the server's socket (Unix socket paths are limited to ~100 bytes)."""
    with tempfile.TemporaryDirectory(prefix="ph-") as name:
        yield Path(name)


@asynccontextmanager
async def _hung_server(socket: Path) -> AsyncIterator[str]:
    """Answers `GET /health`; holds every other request open, unanswered, until the block exits."""
    listener = await anyio.create_unix_listener(socket)

    async def serve(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            head = await read_request_head(stream)
            if head is None:
                return
            if head.startswith(b"GET /health"):
                await stream.send(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
                return
            await anyio.sleep_forever()

    async with anyio.create_task_group() as tg:
        tg.start_soon(serve_each, listener, serve, tg)
        yield str(socket)
        tg.cancel_scope.cancel()


async def test_a_hung_perception_server_reads_as_not_answering_and_makes_errors(
    tmp_path: Path, socket_dir: Path
) -> None:
    run_dir = tmp_path / "r"
    with anyio.fail_after(HARD_DEADLINE_S):
        async with _hung_server(socket_dir / "hung.sock") as socket:
            # The server never answers a tool call, so this short wait races nothing.
            perception = PerceptionConfig(socket=socket, request_timeout_s=1.0)
            config = msgspec.structs.replace(small_config(run_dir, n=N), perception=perception)
            summary = await run_eval(config)
    record = await read_run(run_dir)
    assert len(record.finished) == N and not record.failed
    assert {f.reason for f in record.finished.values()} == {"error"}
    assert (summary.n, summary.errors) == (0, N)
    assert set((await results_of(run_dir)).values()) == {"error"}
    failures = [f for e in record.events if isinstance(e, CellExecuted) for f in e.tool_failures]
    assert failures and all("perception server not answering" in f for f in failures)
    told = " ".join(e.text for e in record.events if isinstance(e, ObservationMade))
    assert "perception server not answering" in told and "CellTimeout" not in told
