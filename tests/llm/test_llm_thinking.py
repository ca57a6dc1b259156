"""Thinking models: per-role request settings reach the server's request body, reasoning comes back
apart from the reply (separate field or `<think>` block), and requests stay under the images-per-prompt
limit in blocks so prompts stay append-only between block boundaries."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest
from aiohttp import web

from claw.config import ModelsConfig, RequestSettings, RoleRequests, config_from_mapping
from claw.errors import ConfigError
from claw.llm import open_llm
from claw.llm._body import request_body
from claw.llm._router import with_settings
from claw.llm.image_limit import DROPPED_IMAGE_TEXT, count_images, fit_images
from claw.llm.reasoning import split_reasoning
from claw.llm.types import ChatRequest, ImagePart, ImageURL, Message, TextPart
from servers.mockllm.policies.simple import EchoPolicy
from servers.mockllm.server import MockOptions
from tests.llm.llm_helpers import ask, endpoint, serving


@pytest.mark.parametrize(
    ("content", "fields", "reply", "thought"),
    [
        ("<think>\nhmm\n</think>\n\nanswer", (), "answer", "hmm"),
        ("hmm</think>answer", (), "answer", "hmm"),  # the template opened the block in the prompt
        ("answer", ("from the field", None), "answer", "from the field"),
        (
            "<think>cut off while thinking ```python\nx=1\n```",
            (),
            "",
            "cut off while thinking ```python\nx=1\n```",
        ),
        ("no thinking at all", (), "no thinking at all", ""),
        ("<THINK>a</THINK>b", ("c",), "b", "c\n\na"),
    ],
)
def test_split_reasoning(content: str, fields: tuple[str | None, ...], reply: str, thought: str) -> None:
    assert split_reasoning(content, *fields) == (reply, thought)


def test_role_settings_override_the_callers_and_merge_template_options() -> None:
    request = ChatRequest(
        role="agent", messages=[], max_tokens=4096, temperature=0.6, chat_template_kwargs={"a": 1}
    )
    settings = RequestSettings(max_tokens=131072, chat_template_kwargs={"enable_thinking": True})
    changed = with_settings(request, settings)
    assert (changed.max_tokens, changed.temperature) == (131072, 0.6)
    assert changed.chat_template_kwargs == {"a": 1, "enable_thinking": True}
    assert with_settings(request, RequestSettings()) is request


def test_the_body_carries_template_options_and_extra_fields_but_never_replaces_claws_own() -> None:
    request = ChatRequest(
        role="agent",
        messages=[Message(role="user", content="hi")],
        top_p=0.95,
        chat_template_kwargs={"enable_thinking": False},
        extra_body={"repetition_penalty": 1.05, "model": "not-this-one"},
    )
    body = json.loads(request_body(request, "served-name", max_images=None))
    assert body["model"] == "served-name" and body["top_p"] == 0.95
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["repetition_penalty"] == 1.05
    assert "top_k" not in body  # unset settings are not sent


def test_role_settings_are_validated_by_key() -> None:
    config = config_from_mapping({"models": {"requests": {"planner": {"max_tokens": 8192}}}})
    assert config.models.requests.planner.max_tokens == 8192
    with pytest.raises(ConfigError, match="tokens_max"):
        config_from_mapping({"models": {"requests": {"agent": {"tokens_max": 1}}}})
    with pytest.raises(ConfigError, match="max_images_per_prompt"):
        config_from_mapping({"models": {"max_images_per_prompt": 0}})


@pytest.mark.parametrize("key", ["stream", "stream_options", "n"])
def test_extra_body_cannot_ask_for_a_reply_claw_does_not_read(key: str) -> None:
    """A streamed or multi-choice completion would fail every call after its retries; say so at load."""
    with pytest.raises(ConfigError, match=rf"models\.requests\.vlm_ask\.extra_body\.{key} is not allowed"):
        config_from_mapping({"models": {"requests": {"vlm_ask": {"extra_body": {key: True}}}}})
    fine = config_from_mapping({"models": {"requests": {"vlm_ask": {"extra_body": {"min_p": 0.05}}}}})
    assert fine.models.requests.vlm_ask.extra_body == {"min_p": 0.05}


@asynccontextmanager
async def recording_server(reply: dict[str, Any]) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """An OpenAI-compatible endpoint that records each request body and answers `reply` as the message."""
    bodies: list[dict[str, Any]] = []

    async def chat(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        message = {"role": "assistant", **reply}
        return web.json_response({"id": "x", "choices": [{"index": 0, "message": message}]})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/v1", bodies
    finally:
        await runner.cleanup()


async def test_settings_reach_the_server_and_reasoning_fields_come_back_apart() -> None:
    reply = {"content": "**Code:**\n```python\nprint(1)\n```", "reasoning": "first I think"}
    async with recording_server(reply) as (url, bodies):
        requests = RoleRequests(
            agent=RequestSettings(max_tokens=131072, chat_template_kwargs={"enable_thinking": True}),
            vlm_ask=RequestSettings(temperature=0.0),
        )
        models = ModelsConfig(agent=[endpoint(url)], requests=requests)
        async with open_llm(models, per_endpoint_limit=2, env={}) as llm:
            agent = await llm.complete(ask("hello"))
            sub = await llm.complete(ask("look", role="vlm_ask"))
    assert agent.content == reply["content"] and agent.reasoning == "first I think"
    assert bodies[0]["max_tokens"] == 131072 and bodies[0]["chat_template_kwargs"] == {
        "enable_thinking": True
    }
    assert bodies[1]["temperature"] == 0.0 and "chat_template_kwargs" not in bodies[1]
    assert sub.reasoning == "first I think"


@pytest.mark.parametrize("mode", ["field", "tags"])
async def test_the_mock_server_thinks_unless_thinking_is_switched_off(mode: str) -> None:
    async with serving(MockOptions(reasoning=mode), policy=EchoPolicy()) as [url]:
        on = ModelsConfig(agent=[endpoint(url)])
        off = ModelsConfig(
            agent=[endpoint(url)],
            requests=RoleRequests(agent=RequestSettings(chat_template_kwargs={"enable_thinking": False})),
        )
        async with open_llm(on, per_endpoint_limit=2, env={}) as llm:
            thinking = await llm.complete(ask("echo me"))
        async with open_llm(off, per_endpoint_limit=2, env={}) as llm:
            plain = await llm.complete(ask("echo me"))
    assert thinking.content == "echo me" and "ReturnAnswer" in thinking.reasoning
    assert plain.content == "echo me" and plain.reasoning == ""


def _image(n: int) -> ImagePart:
    return ImagePart(image_url=ImageURL(url=f"data:image/png;base64,{n}"))


def _transcript(question_images: int, steps: int, per_step: int) -> list[Message]:
    messages = [
        Message(role="system", content="sys"),
        Message(role="user", content=[TextPart(text="q"), *[_image(i) for i in range(question_images)]]),
    ]
    for step in range(steps):
        messages.append(Message(role="assistant", content=f"cell {step}"))
        shown = [_image(1000 + step * per_step + k) for k in range(per_step)]
        messages.append(Message(role="user", content=[TextPart(text=f"obs {step}"), *shown]))
    return messages


def test_fit_images_keeps_the_question_images_and_stays_under_the_limit() -> None:
    messages = _transcript(16, steps=20, per_step=4)  # 96 images
    assert fit_images(messages, 100) == messages
    fitted = fit_images(messages, 64, block=8)
    assert count_images(fitted) <= 64
    assert fitted[1] == messages[1]  # the question's 16 key frames are all still there
    assert fitted[-1] == messages[-1]  # the newest observation is intact
    assert msgspec.json.encode(fitted).count(DROPPED_IMAGE_TEXT.encode()) == 96 - count_images(fitted)
    tiny = fit_images(_transcript(16, 0, 0), 4, block=8)
    assert count_images(tiny) == 0  # question images alone over the limit: they go too, oldest first


def test_between_block_boundaries_each_request_extends_the_previous_one() -> None:
    encoded = [
        msgspec.json.encode(fit_images(_transcript(16, steps, 4), 64, block=8)) for steps in range(1, 31)
    ]
    broken = [
        steps
        for steps, (before, after) in enumerate(itertools.pairwise(encoded), start=2)
        if not after.startswith(before[:-2])  # the closing brackets of the JSON list are not a prefix
    ]
    # over the limit from 13 steps on (16 + 4 * 13 = 68); the dropped set changes every 2 steps (8 / 4)
    assert broken == list(range(13, 31, 2))


async def test_requests_over_the_limit_reach_the_server_trimmed() -> None:
    async with recording_server({"content": "ok"}) as (url, bodies):
        models = ModelsConfig(agent=[endpoint(url, max_images_per_prompt=10)], max_images_per_prompt=64)
        async with open_llm(models, per_endpoint_limit=2, env={}) as llm:
            await llm.complete(ChatRequest(role="agent", messages=_transcript(4, 5, 2)))
    sent = sum(
        part.get("type") == "image_url"
        for m in bodies[0]["messages"]
        if isinstance(m["content"], list)
        for part in m["content"]
    )
    assert sent <= 10
