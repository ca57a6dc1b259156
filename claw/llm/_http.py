"""The HTTP seam of `claw.llm`: the only module that imports aiohttp, and where its errors become claw's.

`HttpClient` owns one `aiohttp.ClientSession` (with connection limits) for every endpoint of a run. It
posts encoded chat bodies and decodes `WireResponse`s; connection failures become `LLMConnectError`,
deadlines `LLMTimeout`, 429s `LLMRateLimited` (with the Retry-After hint), and any other unusable answer
`LLMBadResponse`. API keys are read from the environment on every request and never logged.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import msgspec
from anyio.abc import AsyncResource

from claw.config import EndpointConfig
from claw.errors import ConfigError, LLMBadResponse, LLMConnectError, LLMRateLimited, LLMTimeout
from claw.llm.wire import ErrorBody, WireResponse

__all__ = ["HttpClient"]

_RESPONSE_DECODER = msgspec.json.Decoder(WireResponse)
_ERROR_DECODER = msgspec.json.Decoder(ErrorBody)


class _ListedModel(msgspec.Struct, frozen=True):
    id: str


class _ModelListing(msgspec.Struct, frozen=True):
    data: list[_ListedModel]


_LISTING_DECODER = msgspec.json.Decoder(_ModelListing)


@contextmanager
def _translated(url: str) -> Iterator[None]:
    """Re-raise aiohttp and socket errors met while talking to `url` as `LLMError`s."""
    try:
        yield
    except TimeoutError as exc:
        detail = f" ({exc})" if str(exc) else ""
        raise LLMTimeout(f"{url} did not answer in time{detail}", endpoint=url) from exc
    except aiohttp.ClientPayloadError as exc:
        raise LLMBadResponse(f"{url} sent a broken body: {exc}", endpoint=url) from exc
    except aiohttp.ClientResponseError as exc:
        raise LLMBadResponse(f"{url} answered badly: {exc}", endpoint=url, status=exc.status) from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise LLMConnectError(f"cannot reach {url}: {exc}", endpoint=url) from exc


def auth_headers(endpoint: EndpointConfig) -> dict[str, str]:
    """The request headers for `endpoint`, with its API key read from the environment now.

    Raises:
        ConfigError: the endpoint names an API-key variable that is not set.
    """
    headers = {"Content-Type": "application/json"}
    if endpoint.api_key_env is None:
        return headers
    key = os.environ.get(endpoint.api_key_env)
    if not key:
        message = (
            f"endpoint {endpoint.url} needs an API key: set the environment variable {endpoint.api_key_env}"
        )
        raise ConfigError(message, field="api_key_env")
    headers["Authorization"] = f"Bearer {key}"
    return headers


def _retry_after(value: str | None) -> float | None:
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date or garbled Retry-After: fall back to the client's own backoff


def _error_text(body: bytes) -> str:
    try:
        return _ERROR_DECODER.decode(body).error.message[:300]
    except msgspec.DecodeError:
        return body[:300].decode("utf-8", "replace")


def check_status(url: str, status: int, retry_after: str | None, body: bytes) -> None:
    """Raise the `LLMError` an HTTP status stands for; return quietly on 200.

    Raises:
        LLMRateLimited: the status is 429 (carries the Retry-After hint, if any).
        LLMBadResponse: any other status but 200.
    """
    if status == 200:
        return
    if status == 429:
        hint = _retry_after(retry_after)
        raise LLMRateLimited(f"{url} is rate limiting (429)", endpoint=url, retry_after=hint)
    raise LLMBadResponse(f"{url} answered {status}: {_error_text(body)}", endpoint=url, status=status)


def decode_completion(url: str, body: bytes) -> WireResponse:
    """Decode a 200 body as a chat completion.

    Raises:
        LLMBadResponse: the body is not a chat completion with at least one choice (status None: retryable).
    """
    try:
        response = _RESPONSE_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise LLMBadResponse(
            f"{url} sent a body that is not a chat completion: {exc}", endpoint=url
        ) from None
    if not response.choices:
        raise LLMBadResponse(f"{url} sent a chat completion without choices", endpoint=url)
    return response


class HttpClient(AsyncResource):
    """One aiohttp session for all endpoints; an async context manager.

    Args:
        total_limit: open connections in all (0: unlimited).
        per_host_limit: open connections per endpoint host:port (0: unlimited).
        connect_timeout_s: per attempt, bound on establishing one connection.
        first_byte_timeout_s: per attempt, bound on waiting for the answer's first byte (and on any
            later pause between bytes).
        attempt_timeout_s: per attempt, bound on the whole exchange (the caller's time left may be less).
    """

    def __init__(
        self,
        *,
        total_limit: int = 0,
        per_host_limit: int = 0,
        connect_timeout_s: float = 10.0,
        first_byte_timeout_s: float = 300.0,
        attempt_timeout_s: float = 300.0,
    ) -> None:
        self._limits = (total_limit, per_host_limit)
        self._timeouts = (connect_timeout_s, first_byte_timeout_s, attempt_timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        state = "open" if self._session is not None else "closed"
        return f"<HttpClient {state} limit={self._limits[0]} per_host={self._limits[1]}>"

    async def __aenter__(self) -> HttpClient:
        total, per_host = self._limits
        connector = aiohttp.TCPConnector(limit=total, limit_per_host=per_host, enable_cleanup_closed=False)
        self._session = aiohttp.ClientSession(connector=connector, raise_for_status=False)
        return self

    async def aclose(self) -> None:
        """Close every connection."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("HttpClient is closed; use it inside `async with`")
        return self._session

    def _timeout(self, timeout_s: float) -> aiohttp.ClientTimeout:
        connect, first_byte, attempt = self._timeouts
        total = min(timeout_s, attempt)
        return aiohttp.ClientTimeout(
            total=total, sock_connect=min(total, connect), sock_read=min(total, first_byte)
        )

    async def post_chat(self, endpoint: EndpointConfig, body: bytes, *, timeout_s: float) -> WireResponse:
        """POST an encoded `WireRequest` to `endpoint` and decode the completion.

        Raises:
            LLMConnectError: the endpoint could not be reached or dropped the connection.
            LLMTimeout: no complete answer within `timeout_s`.
            LLMRateLimited: the endpoint answered 429.
            LLMBadResponse: any other status, or a body that is not a chat completion.
            ConfigError: the endpoint's API-key variable is not set.
        """
        url = endpoint.url.rstrip("/") + "/chat/completions"
        headers = auth_headers(endpoint)
        with _translated(endpoint.url):
            async with self._open_session().post(
                url, data=body, headers=headers, timeout=self._timeout(timeout_s)
            ) as reply:
                payload = await reply.read()
                check_status(endpoint.url, reply.status, reply.headers.get("Retry-After"), payload)
        return decode_completion(endpoint.url, payload)

    async def list_models(self, endpoint: EndpointConfig, *, timeout_s: float) -> list[str]:
        """The model names `GET {url}/models` lists.

        Raises:
            LLMConnectError: the endpoint could not be reached.
            LLMTimeout: no answer within `timeout_s`.
            LLMBadResponse: a status other than 200, or a body that is not a model list.
            ConfigError: the endpoint's API-key variable is not set.
        """
        url = endpoint.url.rstrip("/") + "/models"
        headers = auth_headers(endpoint)
        with _translated(endpoint.url):
            async with self._open_session().get(
                url, headers=headers, timeout=self._timeout(timeout_s)
            ) as reply:
                payload = await reply.read()
                check_status(endpoint.url, reply.status, reply.headers.get("Retry-After"), payload)
        try:
            return [card.id for card in _LISTING_DECODER.decode(payload).data]
        except msgspec.DecodeError as exc:
            raise LLMBadResponse(f"{url} did not send a model list: {exc}", endpoint=endpoint.url) from None

    async def probe(self, endpoint: EndpointConfig, *, timeout_s: float) -> bool:
        """Whether `GET {url}/models` answers 200 within `timeout_s` (never raises for network trouble).

        Raises:
            ConfigError: the endpoint's API-key variable is not set.
        """
        url = endpoint.url.rstrip("/") + "/models"
        headers = auth_headers(endpoint)
        try:
            with _translated(endpoint.url):
                async with self._open_session().get(
                    url, headers=headers, timeout=self._timeout(timeout_s)
                ) as reply:
                    await reply.read()
                    return reply.status == 200
        except (LLMConnectError, LLMTimeout, LLMBadResponse):
            return False
