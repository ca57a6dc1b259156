"""`EndpointPool`: one model role's endpoints behind the `ChatTransport` seam.

Each call picks an endpoint (pure `choose_endpoint`: the episode's sticky endpoint while it is up and not
overloaded, else the least-outstanding one), holds one of that endpoint's concurrency slots for the HTTP
attempt, and retries through `retry` within one total deadline. An endpoint that fails to connect, times
out or answers 5xx is marked down for a cool-down; a background task probes down endpoints and brings
them back. Stickiness matters: an episode that stays on one vLLM server finds its prefix cached there.
A request the server refuses because prompt plus `max_tokens` pass its context length, or because it
holds more images than the server takes, is sent once more at once, fitted to what the refusal states
(`_context`); an endpoint's stated image limit then holds for its later requests.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from functools import partial

import anyio
import msgspec
import structlog
from anyio.abc import AsyncResource

from claw.config import EndpointConfig
from claw.errors import ConfigError, LLMBadResponse, LLMError, LLMRateLimited, LLMTimeout
from claw.llm._balance import Balancer, Slot, choose_endpoint
from claw.llm._body import request_body
from claw.llm._context import completion_room, images_allowed
from claw.llm._http import HttpClient
from claw.llm._retry import RetryPolicy, is_retryable, retry
from claw.llm.reasoning import split_reasoning
from claw.llm.types import ChatRequest, ChatResponse, Usage
from claw.llm.wire import WireResponse

__all__ = ["EndpointPool", "EndpointStats", "PoolStats", "choose_endpoint", "to_chat_response"]

_log = structlog.get_logger("claw.llm")
_ENCODER = msgspec.json.Encoder()
_MAX_SESSIONS = 100_000


class EndpointStats(msgspec.Struct, frozen=True, kw_only=True):
    """One endpoint's counters."""

    url: str
    model: str
    up: bool
    outstanding: int
    limit: int
    requests: int
    """Attempts sent (successful or not)."""
    failures: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int


class PoolStats(msgspec.Struct, frozen=True, kw_only=True):
    """A pool's counters; `endpoints` in configuration order."""

    role: str
    endpoints: tuple[EndpointStats, ...]
    outstanding: int
    waiting: int
    """Calls waiting for a free slot on any endpoint."""
    calls: int
    """Calls completed successfully."""
    failed_calls: int
    retries: int
    sticky_hits: int
    """Attempts that went to their session's previous endpoint."""
    sessions: int


def _stats(slot: Slot, now: float) -> EndpointStats:
    return EndpointStats(
        url=slot.config.url, model=slot.config.model, up=slot.is_up(now), outstanding=slot.outstanding,
        limit=slot.limit, requests=slot.requests, failures=slot.failures, prompt_tokens=slot.prompt,
        completion_tokens=slot.completion, cached_tokens=slot.cached,
    )  # fmt: skip


def to_chat_response(wire: WireResponse, endpoint: str) -> ChatResponse:
    """A claw `ChatResponse` from a wire completion; reasoning is kept apart from the reply, never used as
    the reply (a thinking model cut off mid-thought replied nothing)."""
    choice = wire.choices[0]
    message = choice.message
    content, reasoning = split_reasoning(message.content or "", message.reasoning_content, message.reasoning)
    usage = wire.usage
    cached = usage.prompt_tokens_details.cached_tokens if usage and usage.prompt_tokens_details else 0
    return ChatResponse(
        content=content,
        usage=Usage(
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            cached_tokens=cached,
        ),
        endpoint=endpoint,
        latency_s=0.0,
        finish_reason=choice.finish_reason or "stop",
        tool_calls=list(message.tool_calls or ()),
        reasoning=reasoning,
    )


class EndpointPool(AsyncResource):
    """The endpoints of one role; an async context manager and a `ChatTransport`.

    Args:
        role: the role name, for stats and logs.
        endpoints: at least one endpoint.
        client: the shared HTTP client (owned by the caller).
        per_endpoint_limit: concurrent requests per endpoint unless the endpoint sets `max_concurrency`.
        policy: retry policy; its `deadline_s` bounds each call.
        cooldown_s: how long a failing endpoint is avoided before it is tried again.
        health_interval_s: how often down endpoints are probed.
        max_images_per_prompt: keep every request under this many images (an endpoint's own
            `max_images_per_prompt` may lower it); None sends the transcript as it is.
        clock: monotonic clock (injected by tests).

    Raises:
        ConfigError: no endpoints, or a limit below 1.
    """

    def __init__(
        self,
        role: str,
        endpoints: Sequence[EndpointConfig],
        client: HttpClient,
        *,
        per_endpoint_limit: int,
        policy: RetryPolicy | None = None,
        cooldown_s: float = 5.0,
        health_interval_s: float = 2.0,
        max_images_per_prompt: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not endpoints:
            raise ConfigError(
                f"role {role!r} has no endpoints; configure models.{role}", field=f"models.{role}"
            )
        self.role = role
        self._slots = [Slot(e, e.max_concurrency or per_endpoint_limit) for e in endpoints]
        if min(slot.limit for slot in self._slots) < 1:
            raise ConfigError(
                f"llm concurrency limits must be at least 1, got {min(s.limit for s in self._slots)}; "
                "raise limits.llm_per_endpoint (or the endpoint's max_concurrency)",
                field="limits.llm_per_endpoint",
            )
        self._client = client
        self._policy = policy or RetryPolicy()
        self._cooldown_s = cooldown_s
        self._health_interval_s = health_interval_s
        self._clock = clock
        self._max_images = max_images_per_prompt
        self._refused_images: dict[str, int] = {}
        """Images-per-prompt limits endpoints stated when they refused a request (below the configured)."""
        self._balancer = Balancer(self._slots, clock)
        self._sessions: OrderedDict[str, int] = OrderedDict()
        self._rng = random.Random(0)
        self._counts = {"calls": 0, "failed_calls": 0, "retries": 0, "sticky_hits": 0}
        self._stack: AsyncExitStack | None = None

    def __repr__(self) -> str:
        s = self.statistics()
        up = sum(e.up for e in s.endpoints)
        return (
            f"<EndpointPool {self.role} endpoints={len(s.endpoints)} up={up} outstanding={s.outstanding} "
            f"waiting={s.waiting} calls={s.calls} failed={s.failed_calls}>"
        )

    async def __aenter__(self) -> EndpointPool:
        async with AsyncExitStack() as stack:
            group = await stack.enter_async_context(anyio.create_task_group())
            group.start_soon(self._watch_health)
            stack.callback(group.cancel_scope.cancel)
            self._stack = stack.pop_all()
        return self

    async def aclose(self) -> None:
        """Stop the health watcher (the HTTP client belongs to the caller)."""
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()

    def statistics(self) -> PoolStats:
        """A snapshot of the pool's counters."""
        now = self._clock()
        return PoolStats(
            role=self.role,
            endpoints=tuple(_stats(slot, now) for slot in self._slots),
            outstanding=sum(slot.outstanding for slot in self._slots),
            waiting=self._balancer.waiting(),
            sessions=len(self._sessions),
            **self._counts,
        )

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Send `request` to one of the pool's endpoints, retrying within the call deadline.

        Raises:
            LLMError: (a subclass) no completion within the retry policy's attempts and deadline.
            ConfigError: an endpoint's API-key variable is not set.
        """
        started = self._clock()
        try:
            response, attempts = await retry(partial(self._attempt, request), self._policy, rng=self._rng)
        except LLMError:
            self._counts["failed_calls"] += 1
            raise
        self._counts["calls"] += 1
        self._counts["retries"] += attempts - 1
        return msgspec.structs.replace(response, attempts=attempts, latency_s=self._clock() - started)

    async def check_health(self) -> tuple[bool, ...]:
        """Probe every endpoint now; mark each up or down by the result and return the verdicts.

        Raises:
            ConfigError: an endpoint's API-key variable is not set.
        """
        verdicts = []
        for slot in self._slots:
            ok = await self._client.probe(slot.config, timeout_s=3.0)
            self._mark(slot, up=ok)
            verdicts.append(ok)
        return tuple(verdicts)

    async def _watch_health(self) -> None:
        while True:
            await anyio.sleep(self._health_interval_s)
            now = self._clock()
            for slot in self._slots:
                if not slot.is_up(now) and await self._client.probe(slot.config, timeout_s=3.0):
                    self._mark(slot, up=True)

    def _mark(self, slot: Slot, *, up: bool) -> None:
        slot.down_until = 0.0 if up else self._clock() + self._cooldown_s

    async def _checkout(self, session_id: str | None, timeout_s: float) -> int:
        preferred = self._sessions.get(session_id) if session_id is not None else None
        index = await self._balancer.acquire(preferred, timeout_s)
        if index is None:
            raise LLMTimeout(f"no {self.role} endpoint had a free slot within the call deadline")
        self._counts["sticky_hits"] += index == preferred
        if session_id is not None:
            self._remember(session_id, index)
        self._slots[index].requests += 1
        return index

    def _remember(self, session_id: str, index: int) -> None:
        self._sessions[session_id] = index
        self._sessions.move_to_end(session_id)
        if len(self._sessions) > _MAX_SESSIONS:
            self._sessions.popitem(last=False)

    async def _attempt(self, request: ChatRequest, time_left: float) -> ChatResponse:
        started = self._clock()
        index = await self._checkout(request.session_id, time_left)
        try:
            left = time_left - (self._clock() - started)
            if left <= 0:
                raise LLMTimeout(f"no {self.role} endpoint had a free slot within the call deadline")
            sent = self._clock()
            response = await self._send(self._slots[index], request, left)
            self._balancer.observe(self._clock() - sent)
            return response
        finally:
            self._balancer.release(index)

    async def _send(self, slot: Slot, request: ChatRequest, timeout_s: float) -> ChatResponse:
        deadline = self._clock() + timeout_s
        try:
            try:
                wire = await self._post(slot, request, timeout_s)
            except LLMBadResponse as error:
                fitted = self._fitted(slot, request, error)
                if fitted is None:
                    raise
                wire = await self._post(slot, fitted, deadline - self._clock())
        except LLMError as error:
            self._note_failure(slot, error)
            raise
        return self._note_success(slot, to_chat_response(wire, slot.config.url))

    async def _post(self, slot: Slot, request: ChatRequest, timeout_s: float) -> WireResponse:
        limits = [
            slot.config.max_images_per_prompt,
            self._max_images,
            self._refused_images.get(slot.config.url),
        ]
        allowed = min((n for n in limits if n is not None), default=None)
        body = request_body(request, slot.config.model, max_images=allowed)
        return await self._client.post_chat(slot.config, body, timeout_s=timeout_s)

    def _fitted(self, slot: Slot, request: ChatRequest, error: LLMBadResponse) -> ChatRequest | None:
        """`request` fitted to what the server's 400 says it refused, or None when it is no such refusal:
        prompt plus max_tokens past the context (ask for what fits), or more images than its limit (that
        endpoint's requests keep under it from now on)."""
        if error.status != 400:
            return None
        room = completion_room(error.message)
        if room is not None and room < request.max_tokens:
            _log.info("llm completion limit lowered to fit the context", role=self.role, max_tokens=room)
            return msgspec.structs.replace(request, max_tokens=room)
        allowed = images_allowed(error.message)
        known = self._refused_images.get(slot.config.url)
        if allowed is None or (known is not None and known <= allowed):
            return None
        _log.warning("endpoint takes fewer images per prompt", endpoint=slot.config.url, images=allowed)
        self._refused_images[slot.config.url] = allowed
        return request

    def _note_failure(self, slot: Slot, error: LLMError) -> None:
        slot.failures += 1
        if is_retryable(error) and not isinstance(error, LLMRateLimited):
            self._mark(slot, up=False)
        _log.warning("llm attempt failed", role=self.role, endpoint=slot.config.url, error=error.message)

    def _note_success(self, slot: Slot, response: ChatResponse) -> ChatResponse:
        self._mark(slot, up=True)
        slot.prompt += response.usage.prompt_tokens
        slot.completion += response.usage.completion_tokens
        slot.cached += response.usage.cached_tokens
        return response
