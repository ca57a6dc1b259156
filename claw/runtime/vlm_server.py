"""The runtime side of `vlm.ask`: a Unix-socket aiohttp server that turns each kernel's `AskRequest`
into one isolated `vlm_ask` chat request (no shared transcript) and answers with the reply text.

Each call is reported on the bus as `LLMRequested`/`LLMResponded` (or `LLMFailed`) under the asking
episode's id, so token accounting includes what cells spend.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import msgspec
from aiohttp import web

from claw.errors import LLMError
from claw.events import Event, LLMFailed, LLMRequested, LLMResponded, make_event
from claw.llm.images import bytes_data_url
from claw.llm.types import ChatRequest, ChatTransport, ContentPart, ImagePart, ImageURL, Message, TextPart
from claw.runtime.driver import llm_failed_fields, llm_responded_fields
from claw.wire.vlm import MAX_ASK_IMAGES, AskError, AskRequest, AskResponse

__all__ = ["ask_messages", "serve_vlm"]

_SYSTEM = (
    "You answer one focused question about the given images. Look carefully, answer briefly and "
    "concretely, and say 'cannot determine' when the images do not show it."
)
_MSGPACK = "application/msgpack"


def ask_messages(request: AskRequest) -> list[Message]:
    """The isolated chat transcript for one question."""
    parts: list[ContentPart] = [TextPart(text=request.question)]
    parts += [ImagePart(image_url=ImageURL(url=bytes_data_url(img, _mime(img)))) for img in request.images]
    return [Message(role="system", content=_SYSTEM), Message(role="user", content=parts)]


def _mime(data: bytes) -> str:
    return "image/jpeg" if data[:3] == b"\xff\xd8\xff" else "image/png"


def _reply(body: msgspec.Struct, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.msgpack.encode(body), status=status, content_type=_MSGPACK)


class _AskHandler:
    def __init__(self, llm: ChatTransport, run_id: str, emit: Callable[[Event], Awaitable[None]]) -> None:
        self.llm, self.run_id, self.emit = llm, run_id, emit

    async def _report(self, cls: type[Event], ask: AskRequest, **fields: Any) -> None:
        await self.emit(
            make_event(cls, run_id=self.run_id, episode_id=ask.episode_id, role="vlm_ask", **fields)
        )

    async def handle(self, http_request: web.Request) -> web.Response:
        try:
            ask = msgspec.msgpack.decode(await http_request.read(), type=AskRequest)
        except msgspec.DecodeError as exc:
            return _reply(AskError(error_type="ValueError", message=f"bad request: {exc}"), 400)
        if len(ask.images) > MAX_ASK_IMAGES:
            message = f"vlm.ask takes at most {MAX_ASK_IMAGES} images; pass fewer (got {len(ask.images)})"
            return _reply(AskError(error_type="ValueError", message=message), 400)
        return await self._ask(ask)

    async def _ask(self, ask: AskRequest) -> web.Response:
        await self._report(LLMRequested, ask, n_messages=2, n_images=len(ask.images))
        chat = ChatRequest(role="vlm_ask", messages=ask_messages(ask), session_id=ask.episode_id)
        try:
            response = await self.llm.complete(chat)
        except LLMError as exc:
            await self._report(LLMFailed, ask, **llm_failed_fields(exc))
            return _reply(AskError(error_type=type(exc).__name__, message=exc.message), 502)
        await self._report(LLMResponded, ask, **llm_responded_fields(response))
        return _reply(AskResponse(answer=response.content))


@asynccontextmanager
async def serve_vlm(
    socket_path: str, llm: ChatTransport, *, run_id: str, emit: Callable[[Event], Awaitable[None]]
) -> AsyncIterator[str]:
    """Serve `vlm.ask` on `socket_path` until the block exits; yields the socket path once listening."""
    app = web.Application(client_max_size=64 * 2**20)
    # a bound coroutine method, not the instance: aiohttp deprecates handlers it cannot see are async
    app.router.add_post("/v1/ask", _AskHandler(llm, run_id, emit).handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.UnixSite(runner, socket_path).start()
        yield socket_path
    finally:
        with anyio.CancelScope(shield=True):
            await runner.cleanup()
