"""Checks a run passes before its first episode, so a mistake ends the run in seconds with one line
instead of turning every sample into an error: the free-string options name things that exist (mock
policy, perception backend, noise model), every configured model endpoint answers `GET /models` and
lists the configured model, and an external perception server answers `GET /health`.

Servers claw starts itself (the mock LLM, its own perception server) are not probed here: starting them
already waits for their readiness line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from urllib.parse import urlsplit

import anyio
import anyio.abc
import structlog

from claw._config_rules import did_you_mean, unknown_choice
from claw.config import EndpointConfig, EvalConfig, PerceptionConfig
from claw.errors import LLMBadResponse, LLMError, LLMTimeout, ServiceError
from claw.llm._http import HttpClient
from claw.llm.endpoints import endpoints_from_env, read_endpoints_file, resolve_endpoints
from claw.llm.types import Role
from claw.wire.names import MOCK_POLICIES, PERCEPTION_BACKENDS, PERCEPTION_NOISE

__all__ = ["PROBE_TIMEOUT_S", "check_names", "probe_models", "probe_perception"]

_log = structlog.get_logger("claw.preflight")

PROBE_TIMEOUT_S = 8.0
"""Bound on each probe; probes run concurrently, so a run with a dead endpoint stops within ~10 s."""

_LISTING_UNSUPPORTED = (404, 405, 501)
"""Statuses of a server that answers but has no model list: reachable, model not checkable."""


def check_names(config: EvalConfig) -> None:
    """Check the mock policy, perception backend and noise names against the names the helper servers
    serve (`claw.wire.names`).

    Raises:
        ConfigError: a name is not served; the message lists the valid ones and the closest match.
    """
    policy, perception = config.models.policy, config.perception
    if policy not in MOCK_POLICIES:
        raise unknown_choice("mock policy", policy, list(MOCK_POLICIES), field="models.policy")
    named = {"perception.backend": perception.backend}
    named.update({f"perception.operations.{op}": name for op, name in sorted(perception.operations.items())})
    for field, backend in named.items():
        if backend not in PERCEPTION_BACKENDS:
            raise unknown_choice("perception backend", backend, list(PERCEPTION_BACKENDS), field=field)
    if perception.noise not in PERCEPTION_NOISE:
        raise unknown_choice(
            "perception noise", perception.noise, list(PERCEPTION_NOISE), field="perception.noise"
        )


def _uses_mock(config: EvalConfig) -> bool:
    models = config.models
    return not (models.agent or models.endpoints_file or endpoints_from_env(os.environ).get("agent"))


async def probe_models(config: EvalConfig, *, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Probe every distinct configured endpoint at once (nothing to do when the mock server is used).

    Raises:
        ServiceError: an endpoint is unreachable, refuses, or does not list its configured model.
        ConfigError: an endpoints file is invalid, or an API-key variable is not set.
    """
    if _uses_mock(config):
        return
    models = config.models
    served = None
    if models.endpoints_file is not None:
        served = await anyio.to_thread.run_sync(read_endpoints_file, models.endpoints_file)
    roles = resolve_endpoints(models, served=served, env=os.environ)
    problems: list[str] = []
    async with HttpClient(connect_timeout_s=min(timeout_s, models.connect_timeout_s)) as client:
        async with anyio.create_task_group() as tg:
            for endpoint, role in _distinct(roles):
                tg.start_soon(_probe_endpoint, client, endpoint, role, timeout_s, problems)
    if problems:
        raise ServiceError(
            sorted(problems)[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        )


def _distinct(roles: dict[Role, list[EndpointConfig]]) -> list[tuple[EndpointConfig, Role]]:
    seen: dict[tuple[str, str], tuple[EndpointConfig, Role]] = {}
    for role, endpoints in roles.items():
        for endpoint in endpoints:
            seen.setdefault((endpoint.url, endpoint.model), (endpoint, role))
    return list(seen.values())


async def _probe_endpoint(
    client: HttpClient, endpoint: EndpointConfig, role: Role, timeout_s: float, problems: list[str]
) -> None:
    where = f"model endpoint {endpoint.url} (role {role})"
    try:
        with anyio.fail_after(timeout_s):
            served = await client.list_models(endpoint, timeout_s=timeout_s)
    except (TimeoutError, LLMTimeout):
        problems.append(f"{where} did not answer GET /models within {timeout_s:g} s; is the server up?")
        return
    except LLMBadResponse as exc:
        if exc.status in _LISTING_UNSUPPORTED:
            _log.warning("endpoint has no model list; model name not checked", endpoint=endpoint.url)
            return
        problems.append(f"{where} answered GET /models badly: {exc.message}")
        return
    except LLMError as exc:
        problems.append(f"{where} is not reachable: {exc.message}; start the server or fix the URL")
        return
    if served and endpoint.model not in served:
        problems.append(_wrong_model(where, endpoint.model, served))


def _wrong_model(where: str, model: str, served: Sequence[str]) -> str:
    shown = ", ".join(served[:8]) + (", …" if len(served) > 8 else "")
    return f"{where} does not serve model {model!r}{did_you_mean(model, served)}; it serves: {shown}"


async def probe_perception(perception: PerceptionConfig, *, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Probe an external perception server (`url` or `socket`) with `GET /health`.

    Raises:
        ServiceError: it is not reachable or not healthy within `timeout_s`.
    """
    where = perception.url or f"unix:{perception.socket}"
    limit = min(timeout_s, perception.connect_timeout_s + 2.0)
    try:
        with anyio.fail_after(limit):
            status = await _health_status(perception)
    except TimeoutError:
        raise ServiceError(
            f"perception server {where} did not answer GET /health within {limit:g} s"
        ) from None
    except OSError as exc:
        raise ServiceError(
            f"perception server {where} is not reachable ({exc.strerror or exc}); start it or fix "
            "perception.url / perception.socket"
        ) from None
    if status != "200":
        raise ServiceError(f"perception server {where} answered GET /health with status {status}")


async def _health_status(perception: PerceptionConfig) -> str:
    """The status code of a plain HTTP/1.0 `GET /health` (one request; no HTTP client needed)."""
    stream: anyio.abc.ByteStream
    if perception.socket is not None:
        stream = await anyio.connect_unix(perception.socket)
    else:
        address = urlsplit(perception.url or "")
        stream = await anyio.connect_tcp(address.hostname or "127.0.0.1", address.port or 80)
    async with stream:
        token = os.environ.get(perception.token_env, "") if perception.token_env else ""
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        await stream.send(f"GET /health HTTP/1.0\r\nHost: localhost\r\n{auth}\r\n".encode())
        head = await stream.receive(1024)
    words = head.split(b" ", 2)
    return words[1].decode("ascii", "replace") if len(words) > 1 else "no status line"
