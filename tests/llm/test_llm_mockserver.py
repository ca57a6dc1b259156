"""`start_mock_server`: the mock server as a child process — readiness, failure, clean stop."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from claw.config import ModelsConfig
from claw.errors import LLMConnectError, ServiceError
from claw.llm import open_llm, start_mock_server
from tests.llm.llm_helpers import ask


async def test_serves_and_stops(tmp_path: Path) -> None:
    log = tmp_path / "mock.log"
    models = ModelsConfig(max_retries=0, request_timeout_s=60.0)  # a hang guard; refusals come at once
    async with start_mock_server("echo", seed=0, log_path=log) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        async with open_llm(models, per_endpoint_limit=2, default_url=url, env={}) as llm:
            assert (await llm.complete(ask("ping"))).content == "ping"
    async with open_llm(models, per_endpoint_limit=1, default_url=url, env={}) as llm:
        with pytest.raises(LLMConnectError):
            await llm.complete(ask("ping"))
    assert "READY" in await anyio.Path(log).read_text()


async def test_unknown_policy_fails_with_its_message() -> None:
    with pytest.raises(ServiceError, match="unknown mock policy 'nope'"):
        async with start_mock_server("nope", seed=0):
            pass


async def test_bad_flag_fails_fast() -> None:
    with pytest.raises(ServiceError, match="exited with status 2"):
        async with start_mock_server("echo", seed=0, extra_args=["--no-such-flag"]):
            pass


async def test_cancellation_stops_the_child() -> None:
    seen: list[str] = []
    with anyio.CancelScope() as scope:
        async with start_mock_server("echo", seed=0) as url:
            seen.append(url)
            scope.cancel()
            await anyio.sleep_forever()
    assert seen and scope.cancelled_caught
