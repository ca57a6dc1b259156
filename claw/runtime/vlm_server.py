"""The runtime side of the kernel's `vlm` calls: a Unix-socket aiohttp server that turns each kernel
`AskRequest` (`ask`, `locate` or `reason`) into one isolated `vlm_ask` chat request (no shared
transcript) and answers with the reply (for `locate`, the boxes and points read from it).

Each call is reported on the bus as `LLMRequested`/`LLMResponded` (or `LLMFailed`) under the asking
episode's id, with role `vlm_ask`, `vlm_locate` or `vlm_reason`, and its tokens are added to a
`SubCallTokens` tally that the episode takes into its token budget. A call whose model endpoint failed
(after the transport's retries) is an infrastructure failure: it goes into a `SubCallFailures` tally
that the episode takes after each cell (the episode then ends as an `error`, never as a score), and the
cell's `VlmError` says that the endpoint failed, not the cell.
"""

from __future__ import annotations

import io
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import msgspec
from aiohttp import web
from PIL import Image

from claw.errors import LLMError
from claw.events import Event, LLMRequested, Stamp, stamp
from claw.llm.types import ChatRequest, ChatResponse, ChatTransport, Message
from claw.runtime.llm_events import llm_failed, llm_responded
from claw.runtime.record import TranscriptRecorder
from claw.runtime.vlm_calls import GroundingUnreadable, grounding_response, sub_call_messages
from claw.wire.vlm import MAX_ASK_IMAGE_PIXELS, MAX_ASK_IMAGES, AskError, AskRequest, AskResponse

__all__ = ["SubCallFailures", "SubCallTokens", "ask_messages", "serve_vlm"]

_MSGPACK = "application/msgpack"


def ask_messages(request: AskRequest) -> list[Message]:
    """The isolated chat transcript for one sub-call."""
    return sub_call_messages(request)


class SubCallTokens:
    """Prompt + completion tokens spent by each episode's `vlm` calls, not yet counted by the episode."""

    def __init__(self) -> None:
        self._pending: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"<SubCallTokens episodes={len(self._pending)} pending={sum(self._pending.values())}>"

    def add(self, episode_id: str, tokens: int) -> None:
        """Record `tokens` spent on behalf of `episode_id`."""
        self._pending[episode_id] += tokens

    def take(self, episode_id: str) -> int:
        """The tokens recorded for `episode_id` since the last `take`, and forget them."""
        return self._pending.pop(episode_id, 0)


class SubCallFailures:
    """Infrastructure failures of each episode's `vlm` calls (their model endpoint failed), not yet taken
    by the episode."""

    def __init__(self) -> None:
        self._pending: dict[str, list[str]] = {}

    def __repr__(self) -> str:
        return f"<SubCallFailures episodes={len(self._pending)}>"

    def add(self, episode_id: str, failure: str) -> None:
        """Record that one of `episode_id`'s calls met `failure`."""
        self._pending.setdefault(episode_id, []).append(failure)

    def take(self, episode_id: str) -> tuple[str, ...]:
        """The failures recorded for `episode_id` since the last `take`, and forget them."""
        return tuple(self._pending.pop(episode_id, ()))


def _reply(body: msgspec.Struct, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.msgpack.encode(body), status=status, content_type=_MSGPACK)


def _refusal(ask: AskRequest) -> str | None:
    if len(ask.images) > MAX_ASK_IMAGES:
        return f"vlm.ask takes at most {MAX_ASK_IMAGES} images; pass fewer (got {len(ask.images)})"
    if ask.kind == "locate" and len(ask.images) != 1:
        return f"vlm.locate looks in exactly one image (got {len(ask.images)})"
    if ask.kind == "reason" and ask.images:
        return "vlm.reason is text only; use vlm.ask for questions about images"
    return next(filter(None, (_oversized(number, data) for number, data in enumerate(ask.images, 1))), None)


def _oversized(number: int, data: bytes) -> str | None:
    """Why image `number` cannot go to the model, read from its header alone (a small PNG can declare a
    huge image: decoding it would take gigabytes), or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        width, height = MAX_ASK_IMAGE_PIXELS + 1, 1
    except (OSError, ValueError, SyntaxError):
        return f"vlm image {number} is not a PNG or JPEG image; pass arrays, frames or PIL images"
    if width * height <= MAX_ASK_IMAGE_PIXELS:
        return None
    return (
        f"vlm image {number} declares {width}x{height} pixels, over the limit of {MAX_ASK_IMAGE_PIXELS} "
        "per image; resize or crop it before asking"
    )


class _AskHandler:
    def __init__(
        self,
        llm: ChatTransport,
        run_id: str,
        emit: Callable[[Event], Awaitable[None]],
        tokens: SubCallTokens,
        run_dir: Path | None = None,
        failures: SubCallFailures | None = None,
    ) -> None:
        self.llm, self.run_id, self.emit, self.tokens = llm, run_id, emit, tokens
        self.run_dir, self.failures = run_dir, failures or SubCallFailures()

    def _stamp(self, ask: AskRequest) -> Stamp:
        return stamp(self.run_id, episode_id=ask.episode_id)

    async def handle(self, http_request: web.Request) -> web.Response:
        try:
            ask = msgspec.msgpack.decode(await http_request.read(), type=AskRequest)
        except msgspec.DecodeError as exc:
            return _reply(AskError(error_type="ValueError", message=f"bad request: {exc}"), 400)
        problem = _refusal(ask)
        if problem is not None:
            return _reply(AskError(error_type="ValueError", message=problem), 400)
        return await self._ask(ask)

    async def _ask(self, ask: AskRequest) -> web.Response:
        messages = sub_call_messages(ask)
        role = f"vlm_{ask.kind}"
        stamped = self._stamp(ask)
        # Each call is a conversation of its own (base 0); its images go under the episode's media.
        _, appended = await TranscriptRecorder(self.run_dir, ask.episode_id).delta(role, messages)
        await self.emit(
            LLMRequested(
                **stamped,
                role=role,
                n_messages=len(messages),
                n_images=len(ask.images),
                thread=role,
                appended=appended,
            )
        )
        chat = ChatRequest(role="vlm_ask", messages=messages, session_id=ask.episode_id)
        try:
            response = await self.llm.complete(chat)
        except LLMError as exc:
            # Recorded before the kernel hears of it, so the cell's report and this tally agree.
            what = f"{type(exc).__name__}: {exc.message}"
            self.failures.add(ask.episode_id, f"vlm.{ask.kind}: its model endpoint failed ({what})")
            await self.emit(llm_failed(self._stamp(ask), role, exc))
            message = (
                f"the model endpoint behind vlm failed ({what}). This is an infrastructure failure, not "
                "a mistake in your code; vlm cannot be used right now"
            )
            return _reply(AskError(error_type=type(exc).__name__, message=message), 502)
        self.tokens.add(ask.episode_id, response.usage.prompt_tokens + response.usage.completion_tokens)
        await self.emit(llm_responded(self._stamp(ask), role, response))
        return _answer(ask, response)


def _answer(ask: AskRequest, response: ChatResponse) -> web.Response:
    if ask.kind != "locate":
        return _reply(AskResponse(answer=response.content, reasoning=response.reasoning))
    try:
        return _reply(grounding_response(response.content, response.reasoning))
    except GroundingUnreadable as exc:
        reply = response.content[:300]
        message = f"the model's grounding reply could not be read ({exc}); it said: {reply!r}"
        return _reply(AskError(error_type="ValueError", message=message), 502)


@asynccontextmanager
async def serve_vlm(
    socket_path: str,
    llm: ChatTransport,
    *,
    run_id: str,
    emit: Callable[[Event], Awaitable[None]],
    tokens: SubCallTokens | None = None,
    run_dir: Path | None = None,
    failures: SubCallFailures | None = None,
) -> AsyncIterator[str]:
    """Serve the `vlm` calls on `socket_path` until the block exits; yields the socket path once
    listening. `tokens` (when given) receives every call's token count under its episode, `failures`
    every call whose model endpoint failed; each call's messages are recorded in its `LLMRequested`,
    images written under `run_dir`'s media (when given)."""
    app = web.Application(client_max_size=64 * 2**20)
    handler = _AskHandler(llm, run_id, emit, tokens or SubCallTokens(), run_dir, failures)
    # a bound coroutine method, not the instance: aiohttp deprecates handlers it cannot see are async
    app.router.add_post("/v1/ask", handler.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.UnixSite(runner, socket_path).start()
        yield socket_path
    finally:
        with anyio.CancelScope(shield=True):
            await runner.cleanup()
