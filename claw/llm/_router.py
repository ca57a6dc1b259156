"""`open_llm`: the run's `ChatTransport`, routing each request by its role to that role's `EndpointPool`.

Roles that resolve to the same endpoint list share one pool, so outstanding counts and episode
stickiness are shared too. One `HttpClient` serves every pool.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import msgspec

from claw.config import EndpointConfig, ModelsConfig, RequestSettings, RoleRequests
from claw.llm._http import HttpClient
from claw.llm._pool import EndpointPool, PoolStats
from claw.llm._retry import RetryPolicy
from claw.llm.endpoints import EndpointsFile, read_endpoints_file, resolve_endpoints
from claw.llm.types import ChatRequest, ChatResponse, Role

__all__ = ["RoleRouter", "open_llm", "with_settings"]


class RoleRouter:
    """A `ChatTransport` over one `EndpointPool` per role (pools may be shared between roles); each
    request gets its role's configured settings (`[models.requests.<role>]`) on the way."""

    def __init__(self, pools: Mapping[Role, EndpointPool], settings: RoleRequests | None = None) -> None:
        self._pools = dict(pools)
        self._settings = settings or RoleRequests()

    def __repr__(self) -> str:
        return f"<RoleRouter {' '.join(f'{r}={p!r}' for r, p in self._pools.items())}>"

    def pool(self, role: Role) -> EndpointPool:
        """The pool serving `role`."""
        return self._pools[role]

    def statistics(self) -> dict[Role, PoolStats]:
        """Each role's pool statistics (shared pools appear under every role they serve)."""
        return {role: pool.statistics() for role, pool in self._pools.items()}

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Send `request` to its role's pool.

        Raises:
            LLMError: (a subclass) no completion within the call deadline.
            ConfigError: an endpoint's API-key variable is not set.
        """
        settings: RequestSettings = getattr(self._settings, request.role)
        return await self._pools[request.role].complete(with_settings(request, settings))

    async def aclose(self) -> None:
        """Nothing to do: `open_llm`'s context owns the pools and the HTTP client."""


def with_settings(request: ChatRequest, settings: RequestSettings) -> ChatRequest:
    """`request` with every field `settings` sets replaced (configured settings win over the caller's)."""
    changes: dict[str, Any] = {
        name: value
        for name in ("max_tokens", "temperature", "top_p", "top_k")
        if (value := getattr(settings, name)) is not None
    }
    if settings.chat_template_kwargs:
        changes["chat_template_kwargs"] = {
            **(request.chat_template_kwargs or {}),
            **settings.chat_template_kwargs,
        }
    if settings.extra_body:
        changes["extra_body"] = {**(request.extra_body or {}), **settings.extra_body}
    return msgspec.structs.replace(request, **changes) if changes else request


def _pool_key(endpoints: list[EndpointConfig]) -> bytes:
    return msgspec.json.encode(endpoints)


async def _served(models: ModelsConfig) -> EndpointsFile | None:
    if models.endpoints_file is None:
        return None
    return await anyio.to_thread.run_sync(read_endpoints_file, models.endpoints_file)


@asynccontextmanager
async def open_llm(
    models: ModelsConfig,
    *,
    per_endpoint_limit: int,
    default_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[RoleRouter]:
    """Open the run's model transport (see `claw.llm.endpoints` for where endpoints come from).

    Args:
        models: the models config (endpoints per role, endpoints file, timeout, retries).
        per_endpoint_limit: concurrent requests per endpoint (an endpoint's `max_concurrency` wins).
        default_url: used for every role when no agent endpoint is configured (the mock server).
        env: environment to read `CLAW_<ROLE>_*` from (default: `os.environ`).

    Raises:
        ConfigError: no agent endpoint, an invalid endpoints file, or a bad limit.
    """
    roles = resolve_endpoints(
        models, served=await _served(models), env=os.environ if env is None else env, default_url=default_url
    )
    policy = RetryPolicy(max_attempts=models.max_retries + 1, deadline_s=models.request_timeout_s)
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            HttpClient(
                per_host_limit=0,
                connect_timeout_s=models.connect_timeout_s,
                first_byte_timeout_s=models.first_byte_timeout_s,
                attempt_timeout_s=models.attempt_timeout_s,
            )
        )
        pools: dict[bytes, EndpointPool] = {}
        by_role: dict[Role, EndpointPool] = {}
        for role, endpoints in roles.items():
            key = _pool_key(endpoints)
            if key not in pools:
                pool = EndpointPool(
                    role,
                    endpoints,
                    client,
                    per_endpoint_limit=per_endpoint_limit,
                    policy=policy,
                    max_images_per_prompt=models.max_images_per_prompt,
                )
                pools[key] = await stack.enter_async_context(pool)
            by_role[role] = pools[key]
        yield RoleRouter(by_role, models.requests)
