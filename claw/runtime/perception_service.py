"""The run's perception service, always handed to kernels as one Unix socket path.

Three ways to get it, from `[perception]`: claw starts `python -m servers.perception` itself (every
backend the config routes an operation to, in one process, with the whole `[perception.weights]`
table on its command line); an existing server's Unix socket (`socket`) is used as is; an existing
server's loopback or remote TCP address (`url` + the token in `$token_env`) is reached through a local
relay that listens on a Unix socket and adds the bearer token to each request. Kernels therefore never
hold a URL or a token, and a confined kernel (no network) reaches an external server the same way as
the one claw started: through the pool's per-kernel socket relay.

Claw restarts the server it started when it dies (`perception.max_restarts` times); an external server
it cannot restart, so `check_external_perception` (run by the runner every few seconds and before a run
ends) stops the run with one line once that server no longer answers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import anyio
import structlog
from aiohttp import web

from claw._process import kept_running
from claw.config import PERCEPTION_OPERATIONS, PerceptionConfig
from claw.errors import ConfigError, ServiceError
from claw.runtime.preflight import probe_perception
from claw.wire.perception import ErrorResponse, encode

__all__ = ["check_external_perception", "open_perception", "relay_tcp_perception", "server_command"]

_log = structlog.get_logger("claw.perception")

_READY_S = 600.0
"""How long claw's server may take to load its models and print its readiness line (large checkpoints
on a cold disk take minutes)."""
_MAX_BODY = 512 * 1024 * 1024
_RECHECK_PAUSE_S = 1.0
"""Pause before probing an external server a second time (a moment's hiccup is not a death)."""


def server_command(config: PerceptionConfig, socket: Path) -> list[str]:
    """The command line that starts claw's perception server for `config` on `socket`."""
    command = [sys.executable, "-m", "servers.perception", "--backend", config.backend]
    command += ["--socket", str(socket), "--noise", config.noise]
    if config.truth_dir is not None:
        command += ["--truth-dir", config.truth_dir]
    command += ["--max-batch", str(config.max_batch), "--max-delay-ms", str(config.max_delay_ms)]
    for operation in PERCEPTION_OPERATIONS:
        if operation in config.operations:
            command += ["--operation", f"{operation}={config.operations[operation]}"]
    for name in ("image", "reconstruct", "segment"):
        command += [f"--max-{name}-pixels", str(getattr(config, f"max_{name}_pixels"))]
    for name, path in sorted(config.weights.items()):
        command += ["--weights", f"{name}={path}"]
    return command


def _log_giving_up(error: ServiceError) -> None:
    _log.error("perception server gone for good", error=error.message)


@asynccontextmanager
async def open_perception(
    config: PerceptionConfig,
    socket: Path,
    log_path: Path,
    *,
    on_giving_up: Callable[[ServiceError], None] = _log_giving_up,
) -> AsyncIterator[str]:
    """Provide the perception service for a run; yields the Unix socket kernels connect to.

    Raises:
        ConfigError: `url` is set without a token (`token_env` unset or empty).
        ServiceError: claw's server did not start, or the external one answered with an error. Claw's
            server is started again after each death, `max_restarts` times; one more death goes to
            `on_giving_up`.
    """
    if config.socket:
        yield config.socket
    elif config.url:
        async with relay_tcp_perception(config.url, _token(config), socket):
            yield str(socket)
    else:
        command = server_command(config, socket)
        async with kept_running(
            command,
            name="perception server",
            log_path=log_path,
            ready_timeout_s=_READY_S,
            max_restarts=config.max_restarts,
            on_giving_up=on_giving_up,
        ):
            yield str(socket)


async def check_external_perception(
    config: PerceptionConfig, on_giving_up: Callable[[ServiceError], None]
) -> None:
    """Probe the external server of `config` (`url` or `socket`); when two probes a moment apart both
    fail, tell `on_giving_up`: claw did not start that server, so it cannot restart it."""
    problem = ""
    for attempt in range(2):
        if attempt:
            await anyio.sleep(_RECHECK_PAUSE_S)
        try:
            await probe_perception(config)
        except ServiceError as exc:
            # The probe's advice after '; ' is for a server that never ran; this one was running.
            problem = exc.message.split("; ", 1)[0]
        else:
            return
    on_giving_up(
        ServiceError(
            f"the external perception server stopped answering during the run: {problem}. Claw did not "
            "start it, so it cannot restart it: start it again, then re-run the same command to resume "
            "(episodes whose tools met it run again)"
        )
    )


def _token(config: PerceptionConfig) -> str:
    token = os.environ.get(config.token_env) if config.token_env else None
    if not token:
        raise ConfigError(
            f"perception.url = {config.url!r} needs its bearer token: set perception.token_env to the "
            "name of an environment variable that holds it (the READY line of the server prints it)",
            field="perception.token_env",
        )
    return token


@asynccontextmanager
async def relay_tcp_perception(url: str, token: str, socket: Path) -> AsyncIterator[None]:
    """Serve `socket`, forwarding each request to the perception server at `url` with `token`.

    Raises:
        ServiceError: the server at `url` is unreachable or refuses the token.
    """
    base = url.rstrip("/")
    headers = {"Authorization": f"Bearer {token}"}
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
    async with aiohttp.ClientSession(base_url=base + "/", headers=headers, timeout=timeout) as session:
        await _probe(session, url)
        runner = web.AppRunner(_forwarding_app(session), access_log=None)
        await runner.setup()
        try:
            await web.UnixSite(runner, str(socket)).start()
            yield
        finally:
            with anyio.CancelScope(shield=True):
                await runner.cleanup()


async def _probe(session: aiohttp.ClientSession, url: str) -> None:
    try:
        async with session.get("metrics") as response:
            status = response.status
    except aiohttp.ClientError as exc:
        raise ServiceError(f"perception server {url} is unreachable ({exc}); is it running?") from None
    if status == 401:
        raise ConfigError(
            f"perception server {url} refused the token in perception.token_env; use the token its "
            "READY line printed",
            field="perception.token_env",
        )
    if status != 200:
        raise ServiceError(f"perception server {url} answered HTTP {status} to /metrics")


def _forwarding_app(session: aiohttp.ClientSession) -> web.Application:
    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        path = request.path.lstrip("/")
        content_type = request.headers.get("Content-Type", "application/msgpack")
        try:
            async with session.request(
                request.method, path, data=body, headers={"Content-Type": content_type}
            ) as upstream:
                payload = await upstream.read()
                kind = upstream.headers.get("Content-Type", "application/octet-stream")
                return web.Response(status=upstream.status, body=payload, headers={"Content-Type": kind})
        except aiohttp.ClientError as exc:
            error = ErrorResponse(error_type="PerceptionUnavailable", message=f"unreachable ({exc})")
            return web.Response(status=503, body=encode(error), content_type="application/msgpack")

    app = web.Application(client_max_size=_MAX_BODY)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app
