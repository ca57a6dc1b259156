"""The mock server's HTTP behaviour: bad bodies, batching queue, stats, CLI options."""

from __future__ import annotations

import aiohttp
import anyio

from claw.llm.types import ChatRequest, Message
from servers.mockllm.__main__ import _parser, options_from_args
from servers.mockllm.latency import LatencyModel
from servers.mockllm.server import MockOptions, MockServer
from tests.llm.llm_helpers import server_stats, serving


async def test_bad_body_is_a_400_with_an_openai_error() -> None:
    async with serving(MockOptions()) as [url], aiohttp.ClientSession() as session:
        async with session.post(url + "/chat/completions", data=b'{"model": 1}') as reply:
            body = await reply.json()
    assert reply.status == 400
    assert body["error"]["type"] == "invalid_request_error"


async def test_health() -> None:
    async with serving(MockOptions()) as [url], aiohttp.ClientSession() as session:
        async with session.get(url.removesuffix("/v1") + "/health") as reply:
            assert reply.status == 200


async def test_batch_limit_queues_and_stats_count_work() -> None:
    # Service times far longer than it takes to send six requests, even on a slow loaded machine: four
    # of them always arrive while both slots are busy.
    latency = LatencyModel(base_ms=300.0, max_batch=2)
    async with serving(MockOptions(latency=latency)) as [url], aiohttp.ClientSession() as session:

        async def one(i: int) -> None:
            body = {"model": "m", "messages": [{"role": "user", "content": f"q{i}"}]}
            async with session.post(url + "/chat/completions", json=body) as reply:
                assert reply.status == 200

        async with anyio.create_task_group() as group:
            for i in range(6):
                group.start_soon(one, i)
        stats = await server_stats(url)
    assert stats.completed == 6 and stats.max_batch == 2
    assert abs(stats.busy_s - 6 * 0.3) < 1e-9
    assert stats.queue_wait_s > 0.3  # four requests waited for a slot


def test_cli_flags_become_options() -> None:
    args = _parser().parse_args(
        [
            "--policy",
            "random",
            "--seed",
            "4",
            "--error-rate",
            "0.1",
            "--decode-ms-per-token",
            "2",
            "--max-batch",
            "8",
        ]
    )
    options = options_from_args(args)
    assert options.policy == "random" and options.seed == 4
    assert options.faults.error_rate == 0.1 and options.faults.hang_rate == 0.0
    assert options.latency.decode_ms_per_token == 2.0 and options.latency.max_batch == 8


def test_server_repr_and_request_type() -> None:
    server = MockServer(MockOptions(policy="echo"))
    assert "policy=echo" in repr(server)
    assert ChatRequest(role="agent", messages=[Message(role="user", content="x")]).max_tokens > 0
