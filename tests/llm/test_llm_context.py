"""A request a server refuses for a limit it states is sent again fitted to it: prompt plus `max_tokens`
past the context length (the completion limit that fits), or more images than the server takes per
prompt (that endpoint's limit then holds). Loopback servers answer as vLLM does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from claw.config import ModelsConfig, RequestSettings, RoleRequests
from claw.errors import LLMBadResponse
from claw.llm import open_llm
from claw.llm._context import completion_room, images_allowed
from claw.llm.types import ChatRequest, ImagePart, ImageURL, Message, TextPart
from tests.llm.llm_helpers import ask, endpoint

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

NEW = (
    "This model's maximum context length is 8192 tokens. However, you requested 8000 output tokens and "
    "your prompt contains at least 600 input tokens, for a total of at least 8600 tokens."
)
OLD = (
    "This model's maximum context length is 8192 tokens. However, you requested 8600 tokens (600 in the "
    "messages, 8000 in the completion). Please reduce the length of the messages or completion."
)


@pytest.mark.parametrize(
    ("message", "room"),
    [
        (NEW, 7592),
        (OLD, 7592),
        ("max_tokens must be at least 1", None),
        (NEW.replace("600 input", "9000 input"), None),
    ],
)
def test_completion_room_reads_both_wordings(message: str, room: int | None) -> None:
    assert completion_room(message) == room


@asynccontextmanager
async def _chat_server(chat: Handler) -> AsyncIterator[str]:
    """A loopback server answering `/v1/chat/completions` with `chat`; yields its base URL."""
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def vllm_like(context: int, prompt: int) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """Refuses, in vLLM's words and error shape, any request whose prompt + max_tokens pass `context`."""
    bodies: list[dict[str, Any]] = []

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        bodies.append(body)
        if prompt + body["max_tokens"] > context:
            message = (
                f"This model's maximum context length is {context} tokens. However, you requested "
                f"{body['max_tokens']} output tokens and your prompt contains at least {prompt} input "
                f"tokens, for a total of at least {prompt + body['max_tokens']} tokens."
            )
            error = {"message": message, "type": "BadRequestError", "param": "input_tokens", "code": 400}
            return web.json_response({"error": error}, status=400)
        reply = {"role": "assistant", "content": f"room {body['max_tokens']}"}
        return web.json_response({"id": "x", "choices": [{"index": 0, "message": reply}]})

    async with _chat_server(chat) as url:
        yield url, bodies


def _models(url: str) -> ModelsConfig:
    requests = RoleRequests(agent=RequestSettings(max_tokens=131072))
    return ModelsConfig(agent=[endpoint(url)], requests=requests)


async def test_a_request_past_the_context_is_sent_again_with_the_room_left() -> None:
    async with vllm_like(context=32768, prompt=1200) as (url, bodies):
        async with open_llm(_models(url), per_endpoint_limit=2, env={}) as llm:
            reply = await llm.complete(ask("a long episode"))
    assert reply.content == "room 31568"
    assert [b["max_tokens"] for b in bodies] == [131072, 31568]


async def test_a_prompt_that_alone_fills_the_context_is_refused_once() -> None:
    async with vllm_like(context=1000, prompt=1000) as (url, bodies):
        async with open_llm(_models(url), per_endpoint_limit=2, env={}) as llm:
            with pytest.raises(LLMBadResponse, match="maximum context length is 1000") as refused:
                await llm.complete(ask("too long"))
    assert refused.value.status == 400 and len(bodies) == 1


def test_images_allowed_reads_vllms_refusal() -> None:
    assert images_allowed("At most 4 image(s) may be provided in one prompt.") == 4
    assert images_allowed("At most 0 image(s) may be provided in one request.") == 0
    assert images_allowed(NEW) is None


@asynccontextmanager
async def vllm_like_images(limit: int) -> AsyncIterator[tuple[str, list[int]]]:
    """Refuses more than `limit` images, in the words of vLLM started with that `--limit-mm-per-prompt`."""
    counts: list[int] = []

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        parts = [p for m in body["messages"] if isinstance(m["content"], list) for p in m["content"]]
        counts.append(sum(part["type"] == "image_url" for part in parts))
        if counts[-1] > limit:
            message = f"At most {limit} image(s) may be provided in one prompt."
            error = {"message": message, "type": "BadRequestError", "param": None, "code": 400}
            return web.json_response({"error": error}, status=400)
        reply = {"role": "assistant", "content": f"{counts[-1]} images"}
        return web.json_response({"id": "x", "choices": [{"index": 0, "message": reply}]})

    async with _chat_server(chat) as url:
        yield url, counts


async def test_a_server_with_fewer_images_per_prompt_is_learned_from_its_refusal() -> None:
    image = ImagePart(image_url=ImageURL(url="data:image/png;base64,AAAA"))
    question = Message(role="user", content=[TextPart(text="which is nearer?"), image, image])
    observation = Message(role="user", content=[TextPart(text="shown:"), image, image, image])
    thread = [question, Message(role="assistant", content="a"), observation]
    request = ChatRequest(role="agent", messages=thread, session_id="e")
    async with vllm_like_images(limit=2) as (url, counts):
        async with open_llm(ModelsConfig(agent=[endpoint(url)]), per_endpoint_limit=2, env={}) as llm:
            first = await llm.complete(request)
            second = await llm.complete(request)
    assert (first.content, second.content) == ("2 images", "2 images")
    assert counts == [5, 2, 2]  # refused once; the endpoint's limit held for every later request
