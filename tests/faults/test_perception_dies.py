"""The perception server killed mid-run: its supervisor starts it again (the run goes on), episodes whose
tool calls met the dead server end as infrastructure errors instead of wrong answers, and a resume runs
exactly those again. Past `perception.max_restarts` deaths the run stops with one line."""

from __future__ import annotations

import os
import signal
from functools import partial
from pathlib import Path

import aiohttp
import anyio
import msgspec
import psutil
import pytest

from claw.config import EvalConfig, PerceptionConfig
from claw.errors import ServiceError
from claw.runtime.runner import run_eval
from tests.faults.fault_helpers import HARD_DEADLINE_S, read_run, results_of, small_config
from tests.faults.mid_run import KillMidRun

pytestmark = pytest.mark.slow


def _perception_servers() -> list[psutil.Process]:
    servers = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "servers.perception" in " ".join(child.cmdline()):
                servers.append(child)
        except psutil.Error:  # a kernel or server that exited while listed: not a running server
            continue
    return servers


async def _kill_perception() -> int:
    """SIGKILL claw's perception server (the run is in flight: `KillMidRun` calls this); return its pid."""
    servers = await anyio.to_thread.run_sync(_perception_servers)
    assert len(servers) == 1, servers
    os.kill(servers[0].pid, signal.SIGKILL)
    await anyio.to_thread.run_sync(partial(psutil.wait_procs, servers, timeout=30))
    return servers[0].pid


def _socket_of_another_server(killed: int) -> str | None:
    """The socket of a perception server other than pid `killed`, if one runs (reads /proc: a thread)."""
    for server in _perception_servers():
        try:
            command = server.cmdline()
        except psutil.Error:
            continue
        if server.pid != killed:
            return command[command.index("--socket") + 1]
    return None


async def _answers_health(socket: str) -> bool:
    try:
        async with (
            aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=socket)) as session,
            session.get("http://perception/health") as response,
        ):
            return response.status == 200
    except (aiohttp.ClientError, OSError):
        return False


async def _kill_perception_until_restarted() -> None:
    """Kill the server, then hold the model call that killed it until the supervisor's second server
    answers: however slowly a server starts, the run cannot end before the restart is up (the other
    episodes go on meanwhile and may meet the dead server)."""
    killed = await _kill_perception()
    while True:
        socket = await anyio.to_thread.run_sync(_socket_of_another_server, killed)
        if socket is not None and await _answers_health(socket):
            return
        await anyio.sleep(0.1)


def _config(run_dir: Path, max_restarts: int) -> EvalConfig:
    config = small_config(run_dir, n=6)
    return msgspec.structs.replace(config, perception=PerceptionConfig(max_restarts=max_restarts))


async def test_a_killed_perception_server_is_restarted_and_its_victims_are_errors(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    killer = KillMidRun(_kill_perception_until_restarted)
    with anyio.fail_after(HARD_DEADLINE_S):
        summary = await run_eval(_config(run_dir, max_restarts=2), sinks=[killer], wrap_llm=killer.wrap)
    assert killer.killed, "the run made no model call after its first cell"
    record = await read_run(run_dir)
    assert len(record.ended()) == 6 and not record.failed
    for finished in record.finished.values():
        cells = [
            e for e in record.events if e.episode_id == finished.episode_id and hasattr(e, "tool_failures")
        ]
        met_failure = any(getattr(e, "tool_failures", []) for e in cells)
        assert (finished.reason == "error") == met_failure, finished.episode_id
    assert summary.n + summary.errors == 6
    log = await anyio.to_thread.run_sync((run_dir / "logs" / "perception.log").read_text)
    assert log.count("READY") == 2, "the supervisor did not start the server again"

    with anyio.fail_after(HARD_DEADLINE_S):
        resumed = await run_eval(_config(run_dir, max_restarts=2))
    assert (resumed.n, resumed.errors) == (6, 0)
    assert set((await results_of(run_dir)).values()) <= {"answered", "forced"}


async def test_past_its_restart_budget_the_run_stops_with_one_line(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    killer = KillMidRun(_kill_perception)
    caught: list[ServiceError] = []
    with anyio.fail_after(HARD_DEADLINE_S):
        try:
            await run_eval(_config(run_dir, max_restarts=0), sinks=[killer], wrap_llm=killer.wrap)
        except ServiceError as exc:
            caught.append(exc)
    assert killer.killed, "the run made no model call after its first cell"
    assert caught, "the run went on without its perception server"
    assert "perception server died 1 times, more than the 0 restarts allowed" in str(caught[0])
    assert "\n" not in str(caught[0])
    finished = (await read_run(run_dir)).run_finished()
    assert finished and finished[-1].status == "error"
