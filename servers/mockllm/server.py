"""The mock LLM server: OpenAI-compatible chat completions answered by a named `Policy`, over aiohttp.

Routes: `POST /v1/chat/completions` (plain or `stream: true` server-sent events), `GET /v1/models`,
`GET /health`, and `GET /stats` (the server's own counters, for benchmarks). Each request goes through
fault injection (`faults.py`), then the policy, then the latency model (`latency.py`: queue for a batch
slot, hold it for the modelled service time). `serve_mockllm` runs it in-process and reports the bound
port with `task_status.started(port)`; `python -m servers.mockllm` runs it as a process.
"""

from __future__ import annotations

import itertools
import time
from typing import Literal

import anyio
import msgspec
from aiohttp import web

from claw.llm.wire import (
    ErrorBody,
    ErrorDetail,
    ModelCard,
    ModelList,
    PromptTokensDetails,
    StreamChoice,
    StreamChunk,
    StreamDelta,
    WireChoice,
    WireChoiceMessage,
    WireFunctionCall,
    WireRequest,
    WireResponse,
    WireToolCall,
    WireUsage,
)
from servers.mockllm.faults import Fault, FaultDice, Faults
from servers.mockllm.latency import LatencyModel, PrefixCache, PrefixLookup, count_tokens
from servers.mockllm.policy import Policy, PolicyReply, load_policy

__all__ = ["MockOptions", "MockServer", "ServerStats", "serve_mockllm"]

_ENCODER = msgspec.json.Encoder()
_REQUEST_DECODER = msgspec.json.Decoder(WireRequest)


class MockOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Everything that shapes the mock server's behaviour."""

    policy: str = "echo"
    seed: int = 0
    models: tuple[str, ...] = ()
    """Served model names; requests for other models get 404. Empty: accept any name."""
    faults: Faults = msgspec.field(default_factory=Faults)
    latency: LatencyModel = msgspec.field(default_factory=LatencyModel)
    reasoning: Literal["none", "field", "tags"] = "none"
    """Answer like a thinking model: reasoning first, in `reasoning_content` (`field`, as vLLM with a
    reasoning parser) or in a `<think>` block before the content (`tags`); off when a request's
    `chat_template_kwargs` has `enable_thinking = false`."""


class ServerStats(msgspec.Struct, kw_only=True):
    """The server's counters (`GET /stats`)."""

    requests: int = 0
    completed: int = 0
    faults: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    extends_previous: int = 0
    """Requests whose messages extend an earlier whole request exactly."""
    busy_s: float = 0.0
    """Sum of modelled service times of completed requests."""
    queue_wait_s: float = 0.0
    max_batch: int = 0
    """The batch-slot limit (0: unlimited)."""
    inflight: int = 0
    """Chat requests being handled now."""
    peak_inflight: int = 0
    """Most chat requests handled at once."""
    cpu_s: float = 0.0
    """CPU time of the server process so far (at the time of the `/stats` request)."""


def _error(status: int, message: str, kind: str) -> web.Response:
    body = _ENCODER.encode(ErrorBody(error=ErrorDetail(message=message, type=kind, code=status)))
    return web.Response(status=status, body=body, content_type="application/json")


class MockServer:
    """The request handlers and their state (policy, prefix cache, fault dice, batch slots, counters)."""

    def __init__(self, options: MockOptions, policy: Policy | None = None) -> None:
        self.options = options
        self.policy = policy or load_policy(options.policy)
        self.stats = ServerStats(max_batch=options.latency.max_batch)
        self._cache = PrefixCache()
        self._dice = FaultDice(options.faults, options.seed)
        self._slots = anyio.Semaphore(options.latency.max_batch) if options.latency.max_batch > 0 else None
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"<MockServer policy={self.options.policy} requests={self.stats.requests} {self._cache!r}>"

    def app(self) -> web.Application:
        """The aiohttp application serving this server's routes."""
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_get("/v1/models", self.models)
        app.router.add_get("/health", self.health)
        app.router.add_get("/stats", self.stats_handler)
        return app

    async def health(self, request: web.Request) -> web.Response:
        """`GET /health`: 200 while serving."""
        return web.Response(text="ok")

    async def stats_handler(self, request: web.Request) -> web.Response:
        """`GET /stats`: the counters as JSON."""
        self.stats.cpu_s = time.process_time()
        return web.Response(body=_ENCODER.encode(self.stats), content_type="application/json")

    async def models(self, request: web.Request) -> web.Response:
        """`GET /v1/models`: the served model names."""
        cards = [ModelCard(id=name) for name in self.options.models or ("mock",)]
        return web.Response(body=_ENCODER.encode(ModelList(data=cards)), content_type="application/json")

    async def chat(self, request: web.Request) -> web.StreamResponse:
        """`POST /v1/chat/completions`."""
        self.stats.inflight += 1
        self.stats.peak_inflight = max(self.stats.peak_inflight, self.stats.inflight)
        try:
            return await self._chat(request)
        finally:
            self.stats.inflight -= 1

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.stats.requests += 1
        try:
            wire = _REQUEST_DECODER.decode(body)
        except msgspec.DecodeError as exc:
            return _error(400, f"invalid chat completion request: {exc}", "invalid_request_error")
        if self.options.models and wire.model not in self.options.models:
            return _error(404, f"the model `{wire.model}` does not exist", "NotFoundError")
        fault = self._dice.draw(body)
        if fault != "none":
            self.stats.faults += 1
        early = await self._early_fault(fault)
        if early is not None:
            return early
        return await self._answer(request, wire, fault)

    async def _early_fault(self, fault: Fault) -> web.Response | None:
        faults = self.options.faults
        if fault == "error":
            return _error(503, "injected server error", "server_error")
        if fault == "rate_limit":
            response = _error(429, "injected rate limit", "rate_limit_error")
            response.headers["Retry-After"] = f"{faults.retry_after_s:g}"
            return response
        if fault == "hang":
            await anyio.sleep(faults.hang_s)
        return None

    async def _answer(self, request: web.Request, wire: WireRequest, fault: Fault) -> web.StreamResponse:
        messages = [m.to_message() for m in wire.messages]
        tools = [t.function.name for t in wire.tools] if wire.tools else None
        seed = self.options.seed + (wire.seed or 0)
        reply = self.policy.respond(messages, seed=seed, tools=tools)
        lookup = self._cache.lookup_and_insert(messages)
        completion_tokens = count_tokens(reply.content) + 8 * len(reply.tool_calls)
        await self._occupy_slot(lookup, completion_tokens)
        usage = _usage(lookup, completion_tokens)
        if wire.stream:
            return await self._stream(request, wire, reply, usage, fault)
        return await self._send(request, self._response(wire, reply, usage), fault)

    async def _occupy_slot(self, lookup: PrefixLookup, completion_tokens: int) -> None:
        service_s = self.options.latency.service_s(
            lookup.prompt_tokens, lookup.cached_tokens, completion_tokens
        )
        queued = time.monotonic()
        if self._slots is None:
            await anyio.sleep(service_s)
        else:
            async with self._slots:
                self.stats.queue_wait_s += time.monotonic() - queued
                await anyio.sleep(service_s)
        self._count(lookup, completion_tokens, service_s)

    def _count(self, lookup: PrefixLookup, completion_tokens: int, service_s: float) -> None:
        self.stats.completed += 1
        self.stats.busy_s += service_s
        self.stats.prompt_tokens += lookup.prompt_tokens
        self.stats.cached_tokens += lookup.cached_tokens
        self.stats.completion_tokens += completion_tokens
        self.stats.extends_previous += lookup.extends_previous

    def _response(self, wire: WireRequest, reply: PolicyReply, usage: WireUsage) -> WireResponse:
        calls = [
            WireToolCall(
                id=f"call_{next(self._ids)}", function=WireFunctionCall(name=c.name, arguments=c.arguments)
            )
            for c in reply.tool_calls
        ]
        message = _thinking(self.options.reasoning, wire, reply, calls or None)
        choice = WireChoice(message=message, finish_reason="tool_calls" if calls else "stop")
        return WireResponse(
            id=f"chatcmpl-{next(self._ids)}",
            choices=[choice],
            created=int(time.time()),
            model=wire.model,
            usage=usage,
        )

    async def _send(self, request: web.Request, response: WireResponse, fault: Fault) -> web.StreamResponse:
        body = _ENCODER.encode(response)
        if fault == "truncate":
            return web.Response(body=body[: len(body) // 2], content_type="application/json")
        if fault == "garbage":
            return web.Response(body=b"<html>\x00\x17 not json", content_type="application/json")
        if fault != "slow":
            return web.Response(body=body, content_type="application/json")
        return await self._trickle(
            request, [body[i : i + 64] for i in range(0, len(body), 64)], "application/json"
        )

    async def _stream(
        self, request: web.Request, wire: WireRequest, reply: PolicyReply, usage: WireUsage, fault: Fault
    ) -> web.StreamResponse:
        ident, created = f"chatcmpl-{next(self._ids)}", int(time.time())
        pieces = [reply.content[i : i + 16] for i in range(0, len(reply.content), 16)]
        deltas = [StreamDelta(role="assistant")] + [StreamDelta(content=p) for p in pieces]
        chunks = [
            StreamChunk(id=ident, created=created, model=wire.model, choices=[StreamChoice(delta=d)])
            for d in deltas
        ]
        last = StreamChoice(delta=StreamDelta(), finish_reason="stop")
        chunks.append(StreamChunk(id=ident, created=created, model=wire.model, choices=[last], usage=usage))
        events = [b"data: " + _ENCODER.encode(c) + b"\n\n" for c in chunks] + [b"data: [DONE]\n\n"]
        return await self._trickle(request, events, "text/event-stream", slow=fault == "slow")

    async def _trickle(
        self, request: web.Request, pieces: list[bytes], content_type: str, *, slow: bool = True
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": content_type})
        await response.prepare(request)
        for piece in pieces:
            await response.write(piece)
            if slow:
                await anyio.sleep(self.options.faults.slow_chunk_s)
        await response.write_eof()
        return response


_THOUGHT = (
    "The user wants the next step. A first idea, not what I will send:\n"
    "```python\nReturnAnswer('this came from the reasoning, not the reply')\n```\n"
    "No: follow the plan and write the real cell."
)
"""Reasoning the mock prepends; its code block must never run (reasoning is not parsed as code)."""


def _thinking(
    mode: str, wire: WireRequest, reply: PolicyReply, calls: list[WireToolCall] | None
) -> WireChoiceMessage:
    """The reply as a thinking model sends it: the policy's own reasoning (or, in a reasoning mode, a
    canned one) in `reasoning_content` (`field`, the default for a policy that reasons) or a `<think>`
    block (`tags`); none when the request switched thinking off."""
    switched_off = (wire.chat_template_kwargs or {}).get("enable_thinking", True) is False
    thought = reply.reasoning or (_THOUGHT if mode != "none" else "")
    if switched_off or not thought:
        return WireChoiceMessage(content=reply.content, tool_calls=calls)
    if mode == "tags":
        return WireChoiceMessage(content=f"<think>\n{thought}\n</think>\n\n{reply.content}", tool_calls=calls)
    return WireChoiceMessage(content=reply.content, reasoning_content=thought, tool_calls=calls)


def _usage(lookup: PrefixLookup, completion_tokens: int) -> WireUsage:
    return WireUsage(
        prompt_tokens=lookup.prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=lookup.prompt_tokens + completion_tokens,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=lookup.cached_tokens),
    )


async def serve_mockllm(
    options: MockOptions,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    policy: Policy | None = None,
    task_status: anyio.abc.TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until cancelled; report the bound port through `task_status.started(port)`.

    Use as `port = await task_group.start(serve_mockllm, options)`.

    Raises:
        ConfigError: unknown policy name.
        OSError: the port cannot be bound.
    """
    if policy is None:  # loading a policy imports its modules (and reads their files): off the event loop
        policy = await anyio.to_thread.run_sync(load_policy, options.policy)
    server = MockServer(options, policy)
    runner = web.AppRunner(server.app(), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        task_status.started(runner.addresses[0][1])
        await anyio.sleep_forever()
    finally:
        with anyio.CancelScope(shield=True):
            await runner.cleanup()
