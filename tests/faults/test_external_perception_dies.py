"""A perception server claw did not start (`perception.socket` or `perception.url`) dies mid-run. Claw
cannot restart it, so the run stops with one line and status `error` (the CLI exits non-zero) instead of
turning tool failures into wrong answers; no episode whose tools met the dead server is a score, and a
resume against a server started again finishes the run."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import msgspec
import pytest

from claw._process import Supervised, supervised, wait_ready_line
from claw.config import EvalConfig, Limits, PerceptionConfig
from claw.errors import ServiceError
from claw.events import CellExecuted
from claw.llm.types import ChatRequest, ChatResponse, ChatTransport
from claw.runtime.runner import run_eval
from tests.faults.fault_helpers import HARD_DEADLINE_S, read_run, results_of, small_config

pytestmark = pytest.mark.slow

N = 3
TOKEN_ENV = "CLAW_TEST_EXTERNAL_PERCEPTION_TOKEN"


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short directory for the server's socket (Unix socket paths are limited to ~100 bytes)."""
    with tempfile.TemporaryDirectory(prefix="xp-") as name:
        yield Path(name)


@asynccontextmanager
async def _external_server(socket: Path, log: Path, *, tcp: bool) -> AsyncIterator[tuple[Supervised, str]]:
    """A perception server started by the test, not by claw; yields it and its URL (tcp) or socket."""
    command = [sys.executable, "-m", "servers.perception", "--backend", "synthetic", "--socket", str(socket)]
    if tcp:
        command += ["--port", "0", "--token-env", TOKEN_ENV]
    async with supervised(command, name="external perception server", log_path=log) as child:
        ready = await wait_ready_line(child, 120)
        url = dict(part.split("=", 1) for part in ready.split())["tcp"]
        yield child, url if tcp else str(socket)


class _KillsAtSecondEpisode:
    """Passes requests through; before the first request of the run's second episode it kills the
    server (and waits until it is dead), so the first episode ran with the server and the rest cannot:
    no race with how fast the machine runs episodes."""

    def __init__(self, inner: ChatTransport, server: Supervised) -> None:
        self.inner, self.server = inner, server
        self.episodes: list[str] = []

    async def complete(self, request: ChatRequest) -> ChatResponse:
        if request.session_id not in self.episodes:
            self.episodes.append(request.session_id or "")
            if len(self.episodes) == 2:
                self.server.process.kill()
                await self.server.process.wait()
        return await self.inner.complete(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _config(run_dir: Path, where: str, *, tcp: bool) -> EvalConfig:
    config = small_config(run_dir, n=N)
    perception = PerceptionConfig(url=where, token_env=TOKEN_ENV) if tcp else PerceptionConfig(socket=where)
    # One episode at a time: the first ends before the server is killed.
    return msgspec.structs.replace(config, perception=perception, limits=Limits(episodes=1, kernels=1))


@pytest.mark.parametrize("tcp", [False, True], ids=["socket", "url"])
async def test_a_dead_external_perception_server_stops_the_run_with_one_line(
    tmp_path: Path, socket_dir: Path, tcp: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "external-test-token")
    run_dir, socket, log = tmp_path / "r", socket_dir / "p.sock", tmp_path / "server.log"
    with anyio.fail_after(HARD_DEADLINE_S):
        async with _external_server(socket, log, tcp=tcp) as (server, where):
            with pytest.raises(ServiceError) as stopped:
                await run_eval(
                    _config(run_dir, where, tcp=tcp), wrap_llm=lambda llm: _KillsAtSecondEpisode(llm, server)
                )
    message = str(stopped.value)
    assert "external perception server stopped answering" in message and "\n" not in message
    assert "cannot restart it" in message and "re-run the same command to resume" in message
    assert "is not reachable" in message and "fix perception.url" not in message
    record = await read_run(run_dir)
    assert record.run_finished()[-1].status == "error"
    assert not record.failed
    first = min(record.finished.values(), key=lambda e: e.t_mono)
    assert first.reason != "error", "the episode that ran with a live server is a score"
    for finished in record.finished.values():
        cells = [
            e for e in record.events if isinstance(e, CellExecuted) and e.episode_id == finished.episode_id
        ]
        met_the_dead_server = any(e.tool_failures for e in cells)
        assert (finished.reason == "error") == met_the_dead_server, finished.episode_id

    with anyio.fail_after(HARD_DEADLINE_S):
        async with _external_server(socket_dir / "again.sock", log, tcp=tcp) as (_server, where):
            resumed = await run_eval(_config(run_dir, where, tcp=tcp))
    assert (resumed.n, resumed.errors, resumed.failed) == (N, 0, 0)
    assert set((await results_of(run_dir)).values()) <= {"answered", "forced"}
