"""The perception HTTP server: an aiohttp app that feeds one dynamic batcher per operation of one backend
(a `_routing.RoutedBackend` when operations go to different backends), listening on a Unix socket
(for confined kernels) and optionally loopback TCP (bearer token required there).

Endpoints: `GET /health` (no auth), `GET /metrics` (JSON batcher statistics), `POST /v1/reconstruct` and
`POST /v1/segment` (msgpack bodies from `claw.wire.perception`; failures answer `ErrorResponse`).
`serve_perception(...)` is the async context manager that owns the sockets, the batchers and the backend:
it yields once ready and, on exit, stops intake, finishes queued and in-flight batches, then closes.
"""

from __future__ import annotations

import hmac
import os
import secrets
import socket
import stat
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio
import msgspec
from aiohttp import web

from claw.config import PerceptionConfig
from claw.errors import PerceptionBatchFailed, PerceptionError, PerceptionUnavailable, ServiceError
from claw.wire.perception import (
    ErrorResponse,
    PerceptionBackend,
    ReconstructRequest,
    ReconstructResponse,
    SegmentRequest,
    SegmentResponse,
    decode,
    encode,
)
from servers.perception._batcher import BatcherStatistics, DynamicBatcher, SerialDispatcher
from servers.perception._budget import PixelBudget, budgets
from servers.perception._loader import load_backend

__all__ = ["HealthResponse", "MetricsResponse", "PerceptionServer", "serve_perception"]

_MSGPACK = "application/msgpack"
_Req = TypeVar("_Req", ReconstructRequest, SegmentRequest)


class HealthResponse(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /health`."""

    status: str
    """`ok`, or `draining` while shutting down."""
    backend: str


class MetricsResponse(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /metrics`: one entry per operation."""

    backend: str
    uptime_s: float
    dispatchers: list[BatcherStatistics]


@dataclass
class PerceptionServer:
    """A running server, as yielded by `serve_perception`."""

    backend: PerceptionBackend
    socket_path: str
    url: str | None = None
    """`http://127.0.0.1:PORT` when TCP is enabled."""
    token: str | None = None
    """Bearer token required on TCP."""
    reconstruct: (
        DynamicBatcher[ReconstructRequest, ReconstructResponse]
        | SerialDispatcher[ReconstructRequest, ReconstructResponse]
    ) = field(init=False)
    segment: (
        DynamicBatcher[SegmentRequest, SegmentResponse] | SerialDispatcher[SegmentRequest, SegmentResponse]
    ) = field(init=False)
    budgets: dict[str, PixelBudget] = field(default_factory=lambda: budgets(PerceptionConfig()))
    """Pixel limits per operation (from `perception.max_*_pixels`)."""
    draining: bool = False
    started: float = field(default_factory=time.monotonic)

    def __repr__(self) -> str:
        where = f"unix={self.socket_path} tcp={self.url}"
        return f"<PerceptionServer {self.backend.name} {where} draining={self.draining}>"

    def statistics(self) -> MetricsResponse:
        """Per-operation queue depth, batch sizes and latency."""
        return MetricsResponse(
            backend=self.backend.name,
            uptime_s=time.monotonic() - self.started,
            dispatchers=[self.reconstruct.statistics(), self.segment.statistics()],
        )

    def readiness_line(self) -> str:
        """The one line `python -m servers.perception` prints when ready."""
        parts = [f"READY unix={self.socket_path}", f"tcp={self.url or '-'}"]
        if self.token is not None:
            parts.append(f"token={self.token}")
        return " ".join(parts)


def _dispatchers(server: PerceptionServer, config: PerceptionConfig, batching: bool) -> None:
    backend = server.backend
    if batching:
        opts: dict[str, Any] = {"max_batch": config.max_batch, "max_delay_ms": config.max_delay_ms}
        server.reconstruct = DynamicBatcher("reconstruct", backend.reconstruct, **opts)
        server.segment = DynamicBatcher("segment", backend.segment, **opts)
    else:
        server.reconstruct = SerialDispatcher("reconstruct", backend.reconstruct)
        server.segment = SerialDispatcher("segment", backend.segment)


def _error(status: int, error_type: str, message: str) -> web.Response:
    body = encode(ErrorResponse(error_type=error_type, message=message))
    return web.Response(status=status, body=body, content_type=_MSGPACK)


def _json(message: msgspec.Struct) -> web.Response:
    return web.Response(body=msgspec.json.encode(message), content_type="application/json")


def _is_tcp(request: web.Request) -> bool:
    return isinstance(request.transport.get_extra_info("sockname") if request.transport else None, tuple)


def _authorised(request: web.Request, token: str | None) -> bool:
    if not _is_tcp(request):
        return True
    given = request.headers.get("Authorization", "")
    return token is not None and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def _auth_middleware(server: PerceptionServer) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def auth(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path != "/health" and not _authorised(request, server.token):
            return _error(401, "PerceptionError", "missing or wrong bearer token (TCP requires one)")
        return await handler(request)

    return auth


def _check_images(message: ReconstructRequest | SegmentRequest) -> str | None:
    if not message.images or len(message.images) != len(message.frame_indices):
        return "a request needs at least one image and one frame index per image"
    for image in message.images:
        if len(image.shape) != 3 or image.shape[2] != 3 or image.dtype != "|u1":
            return f"images must be (H, W, 3) uint8, got shape {image.shape} dtype {image.dtype}"
        expected = image.shape[0] * image.shape[1] * 3
        if len(image.data) != expected:
            return f"image data has {len(image.data)} bytes but shape {image.shape} needs {expected}"
    return None


def _check_prompt(message: SegmentRequest) -> str | None:
    prompts = [p for p in (message.text, message.points, message.boxes) if p is not None]
    if len(prompts) != 1:
        return "a segment request needs exactly one of text, points, boxes"
    return None


async def _serve_op(
    request: web.Request,
    type_: type[_Req],
    submit: Callable[[_Req], Awaitable[msgspec.Struct]],
    server: PerceptionServer,
) -> web.Response:
    if server.draining:
        return _error(503, "PerceptionUnavailable", "the perception server is shutting down; retry elsewhere")
    budget = server.budgets["reconstruct" if type_ is ReconstructRequest else "segment"]
    too_big = budget.check_length(request.content_length)
    if too_big is not None:
        return _error(413, "PerceptionError", too_big)
    body = await request.read()
    too_big = budget.check_body(body)
    if too_big is not None:
        return _error(413, "PerceptionError", too_big)
    try:
        message = decode(body, type_)
    except (msgspec.DecodeError, ValueError) as exc:
        return _error(400, "PerceptionError", f"bad {type_.__name__} body: {exc}")
    problem = _check_images(message) or (
        _check_prompt(message) if isinstance(message, SegmentRequest) else None
    )
    if problem is not None:
        return _error(400, "PerceptionError", problem)
    return await _answer(submit, message)


async def _answer(submit: Callable[[_Req], Awaitable[msgspec.Struct]], message: _Req) -> web.Response:
    try:
        result = await submit(message)
    except PerceptionUnavailable as exc:
        return _error(503, "PerceptionUnavailable", exc.message)
    except PerceptionBatchFailed as exc:
        return _error(500, "PerceptionBatchFailed", exc.message)
    except PerceptionError as exc:
        return _error(500, "PerceptionError", exc.message)
    return web.Response(body=encode(result), content_type=_MSGPACK)


def _make_app(server: PerceptionServer) -> web.Application:
    largest = max(budget.max_body_bytes for budget in server.budgets.values())
    app = web.Application(client_max_size=largest, middlewares=[_auth_middleware(server)])

    async def health(_: web.Request) -> web.Response:
        return _json(
            HealthResponse(status="draining" if server.draining else "ok", backend=server.backend.name)
        )

    async def metrics(_: web.Request) -> web.Response:
        return _json(server.statistics())

    async def reconstruct(request: web.Request) -> web.Response:
        return await _serve_op(request, ReconstructRequest, server.reconstruct.submit, server)

    async def segment(request: web.Request) -> web.Response:
        return await _serve_op(request, SegmentRequest, server.segment.submit, server)

    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/v1/reconstruct", reconstruct)
    app.router.add_post("/v1/segment", segment)
    return app


def _claim_socket_path(path: Path) -> None:
    """Remove a stale socket file left by a dead server; refuse if a live server owns it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    if not stat.S_ISSOCK(path.stat().st_mode):
        raise ServiceError(f"{path} exists and is not a socket; pick another --socket path")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        path.unlink()
        return
    finally:
        probe.close()
    raise ServiceError(
        f"another server is already listening on {path}; stop it or pick another --socket path"
    )


async def _start_sites(runner: web.AppRunner, server: PerceptionServer, tcp_port: int | None) -> None:
    try:
        await web.UnixSite(runner, server.socket_path).start()
        if tcp_port is not None:
            await web.TCPSite(runner, "127.0.0.1", tcp_port).start()
            server.url = f"http://127.0.0.1:{_bound_port(runner)}"
    except OSError as exc:
        raise ServiceError(
            f"perception server cannot listen ({exc}); is the port or socket in use?"
        ) from None


def _bound_port(runner: web.AppRunner) -> int:
    """The TCP port the runner is bound to (the Unix site's address is a path, not a tuple)."""
    ports = [int(address[1]) for address in runner.addresses if isinstance(address, tuple)]
    return ports[0]


def _resolve_token(config: PerceptionConfig, tcp_port: int | None, token: str | None) -> str | None:
    if tcp_port is None:
        return None
    if token is not None:
        return token
    if config.token_env is not None and os.environ.get(config.token_env):
        return os.environ[config.token_env]
    return secrets.token_urlsafe(32)


@asynccontextmanager
async def serve_perception(
    config: PerceptionConfig,
    *,
    socket_path: str,
    tcp_port: int | None = None,
    backend: PerceptionBackend | None = None,
    token: str | None = None,
    batching: bool = True,
) -> AsyncIterator[PerceptionServer]:
    """Run a perception server until the block exits; yields once it accepts requests.

    Args:
        config: backend name, batching limits and weights.
        socket_path: Unix socket to listen on (created; a stale one is replaced).
        tcp_port: also listen on 127.0.0.1:PORT (0 picks a free port) with a bearer token.
        backend: use this backend object instead of loading `config.backend`.
        token: the TCP bearer token (default: `$config.token_env`, else a random one).
        batching: False serves one request at a time under a lock (for comparisons).

    Raises:
        ConfigError: unknown backend or missing model package/weights.
        ServiceError: the socket or port cannot be bound.
    """
    chosen = backend if backend is not None else await anyio.to_thread.run_sync(load_backend, config)
    server = PerceptionServer(chosen, socket_path, token=_resolve_token(config, tcp_port, token))
    server.budgets = budgets(config)
    await anyio.to_thread.run_sync(_claim_socket_path, Path(socket_path))
    runner = web.AppRunner(_make_app(server), handler_cancellation=True, access_log=None)
    await runner.setup()
    try:
        async with _dispatching(server, config, batching):
            await _start_sites(runner, server, tcp_port)
            yield server
    finally:
        await runner.cleanup()
        await anyio.Path(socket_path).unlink(missing_ok=True)


@asynccontextmanager
async def _dispatching(
    server: PerceptionServer, config: PerceptionConfig, batching: bool
) -> AsyncIterator[None]:
    """Run both dispatch loops; on exit stop intake and let them finish every queued request."""
    _dispatchers(server, config, batching)
    try:
        async with anyio.create_task_group() as tg:
            await tg.start(server.reconstruct.run)
            await tg.start(server.segment.run)
            try:
                yield
            finally:
                server.draining = True
                server.reconstruct.close()
                server.segment.close()
    except BaseExceptionGroup as group:
        # The loops never raise, so a group holds what the caller's block raised: give it back unwrapped.
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise
