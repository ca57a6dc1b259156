"""Helpers for the model-layer tests: in-process mock servers and small request builders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import aiohttp
import anyio
import msgspec

from claw.config import EndpointConfig
from claw.llm.types import ChatRequest, Message
from servers.mockllm.policy import Policy
from servers.mockllm.server import MockOptions, ServerStats, serve_mockllm


@asynccontextmanager
async def serving(*options: MockOptions, policy: Policy | None = None) -> AsyncIterator[list[str]]:
    """Serve one in-process mock server per options (all with `policy` when given); yield their base URLs."""
    async with anyio.create_task_group() as group:
        urls = []
        for each in options:
            port = await group.start(partial(serve_mockllm, each, policy=policy))
            urls.append(f"http://127.0.0.1:{port}/v1")
        yield urls
        group.cancel_scope.cancel()


def endpoint(url: str, **kwargs: object) -> EndpointConfig:
    return EndpointConfig(url=url, model="mock", **kwargs)  # type: ignore[arg-type]


def ask(text: str, *, session: str | None = None, role: str = "agent") -> ChatRequest:
    return ChatRequest(role=role, messages=[Message(role="user", content=text)], session_id=session)  # type: ignore[arg-type]


async def server_stats(url: str) -> ServerStats:
    """The mock server's `/stats` (url is its `/v1` base URL)."""
    async with aiohttp.ClientSession() as session, session.get(url.removesuffix("/v1") + "/stats") as reply:
        return msgspec.json.decode(await reply.read(), type=ServerStats)
