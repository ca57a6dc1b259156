"""The `vlm.ask` server: real aiohttp over a Unix socket, answered by a `ScriptedTransport`."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import msgspec
import pytest

from claw.errors import LLMTimeout
from claw.events import Event, LLMFailed, LLMRequested, LLMResponded
from claw.llm import ChatRequest, ChatResponse, ScriptedTransport, Usage
from claw.runtime.vlm_server import SubCallFailures, serve_vlm
from claw.wire.vlm import AskError, AskRequest, AskResponse


def _long_answer(request: ChatRequest) -> ChatResponse:
    return ChatResponse(
        content=f"seen: {request.messages[-1].text()}",
        usage=Usage(prompt_tokens=11, completion_tokens=3, cached_tokens=7),
        endpoint="http://vlm",
        latency_s=0.25,
        finish_reason="length",
        attempts=2,
    )


def _timeout(_: ChatRequest) -> ChatResponse:
    raise LLMTimeout("vlm did not answer in time", endpoint="http://vlm")


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short temp directory (Unix socket paths are limited to ~100 bytes), made off the event loop."""
    with tempfile.TemporaryDirectory(prefix="claw-vlm-") as directory:
        yield Path(directory)


@asynccontextmanager
async def _asking(
    transport: ScriptedTransport,
    events: list[Event],
    socket_dir: Path,
    failures: SubCallFailures | None = None,
) -> AsyncIterator[aiohttp.ClientSession]:
    async def emit(event: Event) -> None:
        events.append(event)

    socket = str(socket_dir / "vlm.sock")
    async with serve_vlm(socket, transport, run_id="r1", emit=emit, failures=failures) as path:
        connector = aiohttp.UnixConnector(path=path)
        async with aiohttp.ClientSession(connector=connector) as session:
            yield session


async def _post(session: aiohttp.ClientSession, ask: AskRequest) -> tuple[int, bytes]:
    async with session.post("http://vlm/v1/ask", data=msgspec.msgpack.encode(ask)) as reply:
        return reply.status, await reply.read()


async def test_ask_answers_and_records_the_full_response(socket_dir: Path) -> None:
    events: list[Event] = []
    async with _asking(ScriptedTransport(_long_answer), events, socket_dir) as session:
        status, body = await _post(session, AskRequest(episode_id="e1", question="how far?"))
    assert status == 200
    assert msgspec.msgpack.decode(body, type=AskResponse).answer == "seen: how far?"
    requested, responded = events
    assert isinstance(requested, LLMRequested) and requested.episode_id == "e1"
    assert isinstance(responded, LLMResponded)
    assert (responded.role, responded.endpoint) == ("vlm_ask", "http://vlm")
    assert responded.finish_reason == "length"
    assert (responded.prompt_tokens, responded.completion_tokens, responded.cached_tokens) == (11, 3, 7)
    assert (responded.latency_s, responded.attempts) == (0.25, 2)


async def test_ask_failure_is_reported_and_answered_502(socket_dir: Path) -> None:
    events: list[Event] = []
    failures = SubCallFailures()
    async with _asking(ScriptedTransport(_timeout), events, socket_dir, failures) as session:
        status, body = await _post(session, AskRequest(episode_id="e2", question="q"))
    assert status == 502
    error = msgspec.msgpack.decode(body, type=AskError)
    assert error.error_type == "LLMTimeout"
    assert error.message.startswith("the model endpoint behind vlm failed (LLMTimeout: vlm did not answer")
    assert "infrastructure failure, not a mistake in your code" in error.message
    # The episode learns that its sub-call's infrastructure failed (it becomes an `error`), once.
    assert failures.take("e2") == (
        "vlm.ask: its model endpoint failed (LLMTimeout: vlm did not answer in time)",
    )
    assert failures.take("e2") == ()
    failed = events[-1]
    assert isinstance(failed, LLMFailed)
    assert (failed.role, failed.error_type, failed.endpoint) == ("vlm_ask", "LLMTimeout", "http://vlm")


@pytest.mark.parametrize("body", [b"\xc1 not msgpack", msgspec.msgpack.encode({"question": "no episode"})])
async def test_malformed_ask_is_a_400_that_never_reaches_the_model(body: bytes, socket_dir: Path) -> None:
    transport = ScriptedTransport(_long_answer)
    async with (
        _asking(transport, [], socket_dir) as session,
        session.post("http://vlm/v1/ask", data=body) as reply,
    ):
        assert reply.status == 400
        assert msgspec.msgpack.decode(await reply.read(), type=AskError).error_type == "ValueError"
    assert transport.requests == []
