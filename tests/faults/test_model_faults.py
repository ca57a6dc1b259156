"""A model endpoint that answers 5xx, 429, hangs, sends truncated or garbage JSON, or dies mid-run: every
episode still ends, with a result or a typed error in the log; the run finishes; no episode is recorded
twice; and episodes whose model failed are errors (retried on resume), never scores."""

from __future__ import annotations

import os
import signal
import sys
from collections import Counter
from functools import partial
from pathlib import Path

import anyio
import anyio.abc
import msgspec
import psutil
import pytest

from claw._process import supervised, wait_ready_line
from claw.config import EndpointConfig, EvalConfig, ModelsConfig
from claw.errors import LLMError, ServiceError
from claw.events import LLMFailed, LLMResponded, decode_result
from claw.llm._http import HttpClient
from claw.llm.mockserver import start_mock_server
from claw.runtime.runner import run_eval
from tests.faults.fault_helpers import HARD_DEADLINE_S, read_run, small_config
from tests.faults.mid_run import KillMidRun

pytestmark = pytest.mark.slow

FAULTS = [
    *("--error-rate", "0.15", "--rate-limit-rate", "0.1", "--retry-after-s", "0.2"),
    *("--hang-rate", "0.05", "--hang-s", "600", "--truncate-rate", "0.05", "--garbage-rate", "0.05"),
]


def _against(run_dir: Path, url: str, **models: object) -> EvalConfig:
    config = small_config(run_dir, n=6)
    endpoint = EndpointConfig(url=url, model="mock")
    return msgspec.structs.replace(config, models=ModelsConfig(agent=[endpoint], **models))  # type: ignore[arg-type]


async def _result_ids(run_dir: Path) -> list[str]:
    data = await anyio.to_thread.run_sync((run_dir / "results.jsonl").read_bytes)
    return [decode_result(line).episode_id for line in data.splitlines()]


async def test_a_flaky_endpoint_is_retried_and_every_episode_ends(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    timeouts = {"attempt_timeout_s": 5.0, "first_byte_timeout_s": 5.0, "max_retries": 8}
    with anyio.fail_after(HARD_DEADLINE_S):
        async with start_mock_server("scripted", seed=0, extra_args=FAULTS) as url:
            summary = await run_eval(_against(run_dir, url, **timeouts))
    record = await read_run(run_dir)
    assert len(record.ended()) == 6 and not record.failed
    ids = await _result_ids(run_dir)
    assert len(ids) == len(set(ids)) == 6
    retried = [e for e in record.events if isinstance(e, LLMResponded) and e.attempts > 1]
    assert retried, "no request needed a second attempt: the faults were not injected"
    for finished in record.finished.values():
        if finished.reason == "error":
            assert any(
                isinstance(e, LLMFailed) and e.episode_id == finished.episode_id for e in record.events
            )
    assert summary.n + summary.errors == 6


async def test_an_endpoint_that_dies_mid_run_leaves_errors_that_a_resume_retries(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    command = [sys.executable, "-m", "servers.mockllm", "--policy", "scripted", "--port", "0"]
    quick = {"max_retries": 1, "request_timeout_s": 5.0}
    with anyio.fail_after(HARD_DEADLINE_S):
        async with supervised(command, name="doomed mock server") as child:
            url = await wait_ready_line(child, 60)
            killer = KillMidRun(partial(_kill, child.process))
            first = await run_eval(_against(run_dir, url, **quick), sinks=[killer], wrap_llm=killer.wrap)
    assert killer.killed, "the run made no model call after its first cell"
    record = await read_run(run_dir)
    assert len(record.ended()) == 6
    reasons = Counter(f.reason for f in record.finished.values())
    assert reasons["error"] >= 1 and first.errors == reasons["error"]
    assert first.n + first.errors + first.failed == 6

    with anyio.fail_after(HARD_DEADLINE_S):
        async with start_mock_server("scripted", seed=0) as url:
            resumed = await run_eval(_against(run_dir, url))
    assert (resumed.n, resumed.errors) == (6, 0)
    ids = await _result_ids(run_dir)
    assert set(ids) == set(record.ended()) and Counter(ids).most_common(1)[0][1] <= 2


async def _kill(process: anyio.abc.Process) -> None:
    process.kill()
    await process.wait()


def _mock_servers() -> list[psutil.Process]:
    return [
        p for p in psutil.Process().children(recursive=True) if "servers.mockllm" in " ".join(p.cmdline())
    ]


async def _kill_mock_server() -> None:
    servers = await anyio.to_thread.run_sync(_mock_servers)
    assert len(servers) == 1
    os.kill(servers[0].pid, signal.SIGKILL)
    await anyio.to_thread.run_sync(partial(psutil.wait_procs, servers, timeout=30))


async def _models_answer(url: str) -> bool:
    config = EndpointConfig(url=url, model="mock")
    async with HttpClient() as client:
        try:
            return bool(await client.list_models(config, timeout_s=60))
        except LLMError:
            return False


async def test_claws_mock_server_comes_back_on_the_same_url_within_its_budget() -> None:
    given_up: list[ServiceError] = []
    with anyio.fail_after(HARD_DEADLINE_S):
        async with start_mock_server("echo", seed=0, max_restarts=1, on_giving_up=given_up.append) as url:
            assert await _models_answer(url)
            await _kill_mock_server()
            while not await _models_answer(url):  # being started again
                await anyio.sleep(0.1)
            await _kill_mock_server()
            while not given_up:
                await anyio.sleep(0.1)
    assert "died 2 times, more than the 1 restarts allowed" in given_up[0].message
