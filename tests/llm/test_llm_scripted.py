"""`ScriptedTransport`: the in-process fake of the `ChatTransport` seam."""

from __future__ import annotations

import pytest

from claw.errors import LLMTimeout
from claw.llm import ChatRequest, ChatResponse, ScriptedTransport, Usage
from tests.llm.llm_helpers import ask


async def test_sync_handler_text_is_wrapped_and_requests_recorded() -> None:
    transport = ScriptedTransport(lambda request: request.messages[-1].text().upper())
    response = await transport.complete(ask("hello", session="e1"))
    assert response.content == "HELLO"
    assert response.usage.completion_tokens >= 1 and response.endpoint == "scripted"
    assert [r.session_id for r in transport.requests] == ["e1"]


async def test_async_handler_and_full_response() -> None:
    canned = ChatResponse(content="x", usage=Usage(prompt_tokens=3), endpoint="e", latency_s=0.5)

    async def handler(request: ChatRequest) -> ChatResponse:
        return canned

    assert await ScriptedTransport(handler).complete(ask("q")) is canned


async def test_handler_errors_propagate_and_close_stops_calls() -> None:
    def handler(request: ChatRequest) -> str:
        raise LLMTimeout("scripted timeout")

    transport = ScriptedTransport(handler)
    with pytest.raises(LLMTimeout):
        await transport.complete(ask("q"))
    await transport.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await transport.complete(ask("q"))
    assert "closed=True" in repr(transport)
