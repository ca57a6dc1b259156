"""The mock server's answers satisfy the official `openai` client over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import anyio
import openai
import pytest

from claw.llm.types import Message
from servers.mockllm.faults import Faults
from servers.mockllm.policy import Policy, PolicyReply, ToolCall
from servers.mockllm.server import MockOptions, serve_mockllm


class ToolPolicy:
    """Calls `Reconstruct` once, then answers."""

    name = "tool"

    def respond(self, messages: list[Message], *, seed: int, tools: list[str] | None = None) -> PolicyReply:
        if tools and messages[-1].role != "tool":
            return PolicyReply(content="", tool_calls=[ToolCall(name=tools[0], arguments='{"frames": [0]}')])
        return PolicyReply(content="done")


@asynccontextmanager
async def _client(options: MockOptions, policy: Policy | None = None) -> AsyncIterator[openai.AsyncOpenAI]:
    async with anyio.create_task_group() as group:
        port = await group.start(partial(serve_mockllm, options, policy=policy))
        async with openai.AsyncOpenAI(
            base_url=f"http://127.0.0.1:{port}/v1", api_key="none", max_retries=0
        ) as client:
            yield client
        group.cancel_scope.cancel()


async def test_chat_completion_and_models() -> None:
    async with _client(MockOptions(models=("mock-model",))) as client:
        completion = await client.chat.completions.create(
            model="mock-model",
            messages=[{"role": "user", "content": "hello"}],
            max_tokens=16,
            temperature=0.0,
        )
        models = await client.models.list()
    assert completion.choices[0].message.content == "hello"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    assert [m.id for m in models.data] == ["mock-model"]


async def test_multimodal_content_parts_are_accepted() -> None:
    content = [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]
    async with _client(MockOptions()) as client:
        completion = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": content}]
        )
    assert completion.choices[0].message.content == "what is this?"
    assert completion.usage is not None and completion.usage.prompt_tokens > 256


async def test_streaming() -> None:
    text = "a fairly long reply that will be split into several streamed pieces"
    async with _client(MockOptions()) as client:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": text}], stream=True
        )
        pieces = [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
    assert "".join(pieces) == text and len(pieces) > 3


async def test_slow_streaming_still_completes() -> None:
    async with _client(MockOptions(faults=Faults(slow_rate=1.0, slow_chunk_s=0.001))) as client:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x" * 40}], stream=True
        )
        pieces = [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
        plain = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "slow body"}]
        )
    assert "".join(pieces) == "x" * 40
    assert plain.choices[0].message.content == "slow body"


async def test_tool_calls() -> None:
    tools = [{"type": "function", "function": {"name": "Reconstruct", "parameters": {"type": "object"}}}]
    async with _client(MockOptions(), ToolPolicy()) as client:
        first = await client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "go"}],
            tools=tools,  # type: ignore[list-item]
        )
        call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
        second = await client.chat.completions.create(
            model="m",
            messages=[
                {"role": "user", "content": "go"},
                first.choices[0].message.model_dump(exclude_none=True),  # type: ignore[list-item]
                {"role": "tool", "tool_call_id": call.id, "content": "depth ok"},
            ],
            tools=tools,  # type: ignore[arg-type]
        )
    assert first.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "Reconstruct" and call.function.arguments == '{"frames": [0]}'  # type: ignore[union-attr]
    assert second.choices[0].message.content == "done"


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        (Faults(error_rate=1.0), openai.InternalServerError),
        (Faults(rate_limit_rate=1.0), openai.RateLimitError),
    ],
)
async def test_faults_map_to_openai_errors(faults: Faults, error: type[Exception]) -> None:
    async with _client(MockOptions(faults=faults)) as client:
        with pytest.raises(error):
            await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])


async def test_unknown_model_is_not_found() -> None:
    async with _client(MockOptions(models=("served",))) as client:
        with pytest.raises(openai.NotFoundError):
            await client.chat.completions.create(model="other", messages=[{"role": "user", "content": "x"}])
