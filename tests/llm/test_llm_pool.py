"""`EndpointPool` and `open_llm` against in-process mock servers over real loopback HTTP."""

from __future__ import annotations

import socket

import anyio
import msgspec
import pytest

from claw.config import EndpointConfig, ModelsConfig
from claw.errors import ConfigError, LLMBadResponse, LLMConnectError, LLMRateLimited, LLMTimeout
from claw.llm import ChatRequest, EndpointPool, Message, RetryPolicy, open_llm
from claw.llm._http import HttpClient
from claw.llm.types import ToolSpec
from servers.mockllm.faults import Faults
from servers.mockllm.latency import LatencyModel
from servers.mockllm.policy import PolicyReply
from servers.mockllm.policy import ToolCall as PolicyToolCall
from servers.mockllm.server import MockOptions
from tests.llm.llm_helpers import ask, endpoint, server_stats, serving

ONE_SHOT = RetryPolicy(max_attempts=1, deadline_s=5.0)
FAST = RetryPolicy(max_attempts=6, base_s=0.001, max_backoff_s=0.01, deadline_s=10.0)


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


async def test_complete_returns_content_and_usage() -> None:
    async with serving(MockOptions()) as [url], HttpClient() as client:
        async with EndpointPool("agent", [endpoint(url)], client, per_endpoint_limit=4) as pool:
            response = await pool.complete(ask("what is 2+2?"))
            stats = pool.statistics()
    assert response.content == "what is 2+2?"
    assert response.endpoint == url
    assert response.attempts == 1
    assert response.usage.prompt_tokens > 0 and response.usage.completion_tokens > 0
    assert stats.calls == 1 and stats.endpoints[0].prompt_tokens == response.usage.prompt_tokens
    assert "calls=1" in repr(pool)


async def test_sessions_stick_and_new_sessions_balance() -> None:
    async with serving(MockOptions(), MockOptions()) as urls, HttpClient() as client:
        async with EndpointPool("agent", [endpoint(u) for u in urls], client, per_endpoint_limit=8) as pool:
            first = {s: (await pool.complete(ask("q", session=s))).endpoint for s in ("a", "b")}
            again = {s: (await pool.complete(ask("q2", session=s))).endpoint for s in ("a", "b")}
            stats = pool.statistics()
    assert first == again
    assert stats.sticky_hits == 2 and stats.sessions == 2


async def test_concurrent_sessions_spread_least_outstanding() -> None:
    slow = MockOptions(latency=LatencyModel(base_ms=50.0))
    async with serving(slow, slow) as urls, HttpClient() as client:
        async with EndpointPool("agent", [endpoint(u) for u in urls], client, per_endpoint_limit=8) as pool:
            async with anyio.create_task_group() as group:
                for i in range(8):
                    group.start_soon(pool.complete, ask("q", session=f"s{i}"))
            stats = pool.statistics()
    assert [e.requests for e in stats.endpoints] == [4, 4]


async def test_per_endpoint_limit_bounds_concurrency() -> None:
    # A service time far longer than sending a request takes, even on a slow loaded machine: the second
    # request always arrives while the first is served, so the peak reaches the limit.
    options = MockOptions(latency=LatencyModel(base_ms=300.0))
    async with serving(options) as [url], HttpClient() as client:
        async with EndpointPool("agent", [endpoint(url)], client, per_endpoint_limit=2) as pool:
            async with anyio.create_task_group() as group:
                for i in range(6):
                    group.start_soon(pool.complete, ask(f"q{i}"))
            stats = await server_stats(url)
            assert pool.statistics().calls == 6
    assert stats.completed == 6 and stats.peak_inflight == 2


async def test_failover_from_a_dead_endpoint_marks_it_down() -> None:
    async with serving(MockOptions()) as [url], HttpClient() as client:
        endpoints = [endpoint(_dead_url()), endpoint(url)]
        async with EndpointPool("agent", endpoints, client, per_endpoint_limit=4, policy=FAST) as pool:
            response = await pool.complete(ask("hi"))
            stats = pool.statistics()
    assert response.endpoint == url and response.attempts == 2
    assert stats.endpoints[0].up is False and stats.endpoints[0].failures == 1
    assert stats.retries == 1


async def test_health_check_marks_endpoints() -> None:
    async with serving(MockOptions()) as [url], HttpClient() as client:
        async with EndpointPool(
            "agent", [endpoint(url), endpoint(_dead_url())], client, per_endpoint_limit=1
        ) as pool:
            assert await pool.check_health() == (True, False)
            assert [e.up for e in pool.statistics().endpoints] == [True, False]


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        (Faults(error_rate=1.0), LLMBadResponse),
        (Faults(rate_limit_rate=1.0, retry_after_s=0.0), LLMRateLimited),
        (Faults(truncate_rate=1.0), LLMBadResponse),
        (Faults(garbage_rate=1.0), LLMBadResponse),
    ],
)
async def test_faults_are_translated(faults: Faults, error: type[Exception]) -> None:
    async with serving(MockOptions(faults=faults)) as [url], HttpClient() as client:
        async with EndpointPool(
            "agent", [endpoint(url)], client, per_endpoint_limit=1, policy=ONE_SHOT
        ) as pool:
            with pytest.raises(error) as caught:
                await pool.complete(ask("hi"))
            assert pool.statistics().failed_calls == 1
    assert getattr(caught.value, "endpoint", None) == url


async def test_rate_limit_carries_retry_after() -> None:
    async with serving(MockOptions(faults=Faults(rate_limit_rate=1.0, retry_after_s=2.5))) as [url]:
        async with HttpClient() as client:
            async with EndpointPool(
                "agent", [endpoint(url)], client, per_endpoint_limit=1, policy=ONE_SHOT
            ) as pool:
                with pytest.raises(LLMRateLimited) as caught:
                    await pool.complete(ask("hi"))
    assert caught.value.retry_after == 2.5


async def test_hang_becomes_timeout() -> None:
    policy = RetryPolicy(max_attempts=1, deadline_s=0.3)
    async with (
        serving(MockOptions(faults=Faults(hang_rate=1.0, hang_s=30.0))) as [url],
        HttpClient() as client,
    ):
        async with EndpointPool(
            "agent", [endpoint(url)], client, per_endpoint_limit=1, policy=policy
        ) as pool:
            with pytest.raises(LLMTimeout):
                await pool.complete(ask("hi"))


async def test_connect_error_when_nothing_listens() -> None:
    async with HttpClient() as client:
        async with EndpointPool(
            "agent", [endpoint(_dead_url())], client, per_endpoint_limit=1, policy=ONE_SHOT
        ) as pool:
            with pytest.raises(LLMConnectError):
                await pool.complete(ask("hi"))


async def test_retries_recover_from_injected_faults() -> None:
    faults = Faults(
        error_rate=0.2, truncate_rate=0.1, garbage_rate=0.1, rate_limit_rate=0.1, retry_after_s=0.0
    )
    async with serving(MockOptions(faults=faults, seed=3)) as [url], HttpClient() as client:
        async with EndpointPool("agent", [endpoint(url)], client, per_endpoint_limit=8, policy=FAST) as pool:
            replies = [await pool.complete(ask(f"question {i}")) for i in range(30)]
            stats = pool.statistics()
    assert [r.content for r in replies] == [f"question {i}" for i in range(30)]
    assert stats.retries > 0 and stats.failed_calls == 0


async def test_missing_api_key_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAW_TEST_KEY", raising=False)
    async with serving(MockOptions()) as [url], HttpClient() as client:
        keyed = EndpointConfig(url=url, model="mock", api_key_env="CLAW_TEST_KEY")
        async with EndpointPool("agent", [keyed], client, per_endpoint_limit=1) as pool:
            with pytest.raises(ConfigError, match="CLAW_TEST_KEY"):
                await pool.complete(ask("hi"))
            monkeypatch.setenv("CLAW_TEST_KEY", "sk-test")
            assert (await pool.complete(ask("hi"))).content == "hi"


def test_pool_needs_endpoints() -> None:
    with pytest.raises(ConfigError, match="no endpoints"):
        EndpointPool("planner", [], HttpClient(), per_endpoint_limit=1)


def test_pool_limit_below_one_says_what_to_raise() -> None:
    with pytest.raises(ConfigError, match=r"got 0; raise limits\.llm_per_endpoint") as caught:
        EndpointPool("agent", [endpoint("http://127.0.0.1:9")], HttpClient(), per_endpoint_limit=0)
    assert caught.value.field == "limits.llm_per_endpoint"


async def test_open_llm_routes_roles_and_shares_fallback_pools() -> None:
    async with serving(MockOptions(), MockOptions()) as [agent_url, planner_url]:
        models = ModelsConfig(planner=[endpoint(planner_url)])
        async with open_llm(models, per_endpoint_limit=2, default_url=agent_url, env={}) as llm:
            agent = await llm.complete(ask("a", role="agent"))
            planner = await llm.complete(ask("p", role="planner"))
            vlm = await llm.complete(ask("v", role="vlm_ask"))
            assert llm.pool("vlm_ask") is llm.pool("agent")
            assert set(llm.statistics()) == {"agent", "planner", "vlm_ask"}
    assert (agent.endpoint, planner.endpoint, vlm.endpoint) == (agent_url, planner_url, agent_url)


async def test_open_llm_without_any_endpoint_says_what_to_do() -> None:
    with pytest.raises(ConfigError, match=r"models\.agent"):
        async with open_llm(ModelsConfig(), per_endpoint_limit=2, env={}):
            pass


async def test_slow_bodies_complete_or_time_out() -> None:
    trickle = MockOptions(faults=Faults(slow_rate=1.0, slow_chunk_s=0.02))
    tight = RetryPolicy(max_attempts=1, deadline_s=0.1)
    async with serving(trickle) as [url], HttpClient() as client:
        async with EndpointPool("agent", [endpoint(url)], client, per_endpoint_limit=1) as pool:
            assert (await pool.complete(ask("x" * 300))).content == "x" * 300
        async with EndpointPool("agent", [endpoint(url)], client, per_endpoint_limit=1, policy=tight) as pool:
            with pytest.raises(LLMTimeout):
                await pool.complete(ask("y" * 300))


async def test_endpoint_max_concurrency_overrides_the_pool_limit() -> None:
    async with serving(MockOptions(latency=LatencyModel(base_ms=20.0))) as [url], HttpClient() as client:
        narrow = EndpointConfig(url=url, model="mock", max_concurrency=1)
        async with EndpointPool("agent", [narrow], client, per_endpoint_limit=8) as pool:
            async with anyio.create_task_group() as group:
                for i in range(3):
                    group.start_soon(pool.complete, ask(f"q{i}"))
            assert pool.statistics().endpoints[0].limit == 1
        stats = await server_stats(url)
    assert stats.completed == 3 and stats.peak_inflight == 1


class _ToolPolicy:
    name = "tool"

    def respond(self, messages: list[Message], *, seed: int, tools: list[str] | None = None) -> PolicyReply:
        if tools and messages[-1].role != "tool":
            return PolicyReply(
                content="", tool_calls=[PolicyToolCall(name=tools[0], arguments='{"frames": [1]}')]
            )
        calls = messages[-2].tool_calls or []
        return PolicyReply(
            content=f"saw {messages[-1].role}: {messages[-1].text()} after {calls[0].function.name}"
        )


async def test_tool_calls_round_trip_through_the_transcript() -> None:
    tools = [ToolSpec(name="Reconstruct", description="depth", parameters=msgspec.Raw(b'{"type":"object"}'))]
    user = Message(role="user", content="go")
    async with serving(MockOptions(), policy=_ToolPolicy()) as [url], HttpClient() as client:
        async with EndpointPool("agent", [endpoint(url)], client, per_endpoint_limit=1) as pool:
            first = await pool.complete(ChatRequest(role="agent", messages=[user], tools=tools))
            [call] = first.tool_calls
            transcript = [
                user,
                Message(role="assistant", content=first.content, tool_calls=first.tool_calls),
                Message(role="tool", content="depth ok", tool_call_id=call.id),
            ]
            second = await pool.complete(ChatRequest(role="agent", messages=transcript, tools=tools))
    assert first.finish_reason == "tool_calls"
    assert (call.function.name, call.function.arguments) == ("Reconstruct", '{"frames": [1]}')
    assert second.content == "saw tool: depth ok after Reconstruct" and second.tool_calls == []
