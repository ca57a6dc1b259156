"""The kernel-side perception client: one lazily opened, reused HTTP/1.1 connection to the perception server.

The kernel runs model-written cells synchronously, so this client is blocking on purpose (stdlib
`http.client` over a Unix socket, or loopback TCP with a bearer token when the kernel is unconfined). It
owns the module-level settings that the kernel bootstrap sets once through `configure(...)`; nothing is
contacted until a tool actually needs the server, so a cell that uses no perception tool never waits on
it. Every failure to reach the server becomes `PerceptionUnavailable` within the connect timeout, and
error answers become the `claw.errors` type the server named.
"""

from __future__ import annotations

import http.client
import socket as _socket
import threading
import time
from typing import TypeVar
from urllib.parse import urlsplit

import msgspec

from claw.errors import PerceptionBatchFailed, PerceptionError, PerceptionUnavailable
from claw.tools._state import STATE, ClientSettings
from claw.wire.perception import ErrorResponse, decode, encode

__all__ = ["ClientSettings", "configure", "current_settings", "post", "reset", "take_failures"]

_T = TypeVar("_T")
_ERROR_TYPES: dict[str, type[PerceptionError]] = {
    "PerceptionBatchFailed": PerceptionBatchFailed,
    "PerceptionUnavailable": PerceptionUnavailable,
}


class _UnixConnection(http.client.HTTPConnection):
    """`HTTPConnection` that dials a Unix socket path instead of a TCP host."""

    def __init__(self, path: str, *, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def configure(
    *,
    socket: str | None = None,
    url: str | None = None,
    token: str | None = None,
    scene: str | None = None,
    connect_timeout_s: float = 10.0,
    request_timeout_s: float = 600.0,
    fps: float | None = None,
) -> None:
    """Point the tools at a perception server; called once by the kernel bootstrap.

    Args:
        socket: Unix socket path of the server (preferred; confined kernels only have this).
        url: `http://127.0.0.1:PORT` alternative for unconfined kernels.
        token: bearer token, required by the server on TCP.
        scene: synthetic scene key forwarded with every request (`Metadata.extra["scene"]`).
        connect_timeout_s: how long to wait for a connection before `PerceptionUnavailable`.
        request_timeout_s: how long to wait for an answer once connected.
        fps: frames per second used by `tools.Time` when a call does not pass one.
    """
    reset()
    STATE.perception = ClientSettings(
        socket=socket,
        url=url,
        token=token,
        scene=scene,
        connect_timeout_s=connect_timeout_s,
        request_timeout_s=request_timeout_s,
        fps=fps,
    )


def take_failures() -> tuple[str, ...]:
    """The infrastructure failures met since the last call (the per-cell report drains them)."""
    failures = tuple(STATE.tool_failures)
    STATE.tool_failures.clear()
    return failures


def current_settings() -> ClientSettings:
    """The settings `configure` last stored."""
    return STATE.perception


def reset() -> None:
    """Close the cached connection (the next request opens a new one)."""
    if STATE.perception_connection is not None:
        STATE.perception_connection.close()
        STATE.perception_connection = None


def post(path: str, request: msgspec.Struct, response_type: type[_T]) -> _T:
    """POST `request` as msgpack to `path` and decode the answer as `response_type`.

    Raises:
        PerceptionUnavailable: no server is configured, or it could not be reached in time.
        PerceptionBatchFailed: the server's batch containing this request failed.
        PerceptionError: any other error answer from the server.
    """
    body = encode(request)
    status, payload = _send_with_reconnect(path, body)
    if status == 200:
        return _decode_ok(payload, response_type)
    raise _error_from(status, payload)


def _send_with_reconnect(path: str, body: bytes) -> tuple[int, bytes]:
    # A kept-alive connection may have been closed by the server while idle; a fresh one is tried once.
    reused = STATE.perception_connection is not None
    try:
        return _send(_connection(), path, body)
    except (OSError, http.client.HTTPException) as exc:
        reset()
        if not reused:
            raise _unavailable(f"the connection failed ({exc.__class__.__name__}: {exc})") from None
    try:
        return _send(_connection(), path, body)
    except (OSError, http.client.HTTPException) as exc:
        reset()
        raise _unavailable(f"the connection failed ({exc.__class__.__name__}: {exc})") from None


def _connection() -> http.client.HTTPConnection:
    if STATE.perception_connection is None:
        STATE.perception_connection = _open(STATE.perception)
    return STATE.perception_connection


_RECONNECT_PAUSE_S = 0.25


def _open(settings: ClientSettings) -> http.client.HTTPConnection:
    # A server being restarted by its supervisor is back within seconds: keep trying to connect for up
    # to `connect_timeout_s` before calling it unavailable.
    deadline = time.monotonic() + settings.connect_timeout_s
    while True:
        conn = _connection_to(settings, max(0.01, deadline - time.monotonic()))
        try:
            conn.connect()
        except OSError as exc:
            conn.close()
            if time.monotonic() + _RECONNECT_PAUSE_S >= deadline:
                waited = settings.connect_timeout_s
                raise _unavailable(
                    f"cannot connect within {waited:g} s ({type(exc).__name__}: {exc})"
                ) from None
            # The kernel runs one cell at a time, synchronously: waiting here is the point.
            threading.Event().wait(_RECONNECT_PAUSE_S)
            continue
        if conn.sock is not None:
            conn.sock.settimeout(settings.request_timeout_s)
        return conn


def _connection_to(settings: ClientSettings, timeout_s: float) -> http.client.HTTPConnection:
    if settings.socket is not None:
        return _UnixConnection(settings.socket, timeout=timeout_s)
    if settings.url is not None:
        parts = urlsplit(settings.url)
        return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout_s)
    raise _unavailable("no perception server is configured for this kernel")


def _send(conn: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/msgpack", "Accept": "application/msgpack"}
    if STATE.perception.token:
        headers["Authorization"] = f"Bearer {STATE.perception.token}"
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    except TimeoutError:
        reset()
        raise _unavailable(
            f"perception server not answering (no answer within {STATE.perception.request_timeout_s:g} s)"
        ) from None


def _decode_ok(payload: bytes, response_type: type[_T]) -> _T:
    try:
        return decode(payload, response_type)
    except msgspec.DecodeError as exc:
        raise PerceptionError(
            f"the perception server sent a malformed answer: {exc}", endpoint=STATE.perception.endpoint
        ) from None


def _error_from(status: int, payload: bytes) -> PerceptionError:
    endpoint = STATE.perception.endpoint
    try:
        error = decode(payload, ErrorResponse)
    except msgspec.DecodeError:
        return PerceptionError(f"perception server answered HTTP {status}", endpoint=endpoint)
    error_class = _ERROR_TYPES.get(error.error_type, PerceptionError)
    if error_class is not PerceptionError:
        STATE.tool_failures.append(f"{error.error_type}: {error.message}")
    return error_class(f"{error.message} (HTTP {status})", endpoint=endpoint)


def _unavailable(reason: str) -> PerceptionUnavailable:
    settings = STATE.perception
    STATE.tool_failures.append(f"perception server {settings.endpoint}: {reason}")
    return PerceptionUnavailable(
        f"perception server {settings.endpoint} is unavailable: {reason}. Perception tools cannot be used "
        "right now; answer from the images or retry later.",
        endpoint=settings.endpoint,
    )
