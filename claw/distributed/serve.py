"""Servers joining the cluster's registry: `claw serve register` (any plain process: a model server, the
perception server) and `claw serve vllm --ray` (its replicas).

`serve_registered` starts the command, waits until the server answers as a registered one must (a model
server lists its model, a perception server answers `GET /health`), registers it, and waits for the
command to exit; on the way out (the command exited, SIGINT/SIGTERM, an error) it removes the entry and
stops the command. Without a command it registers a server that is already running and stays until
stopped. Entries a killed wrapper leaves behind are dropped by the next run's health check.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
import msgspec
import structlog
from anyio.abc import Process

from claw.distributed.cluster import connect, import_ray
from claw.distributed.discovery import problem_of
from claw.distributed.registry import deregister, register
from claw.errors import ServiceError
from claw.wire.ray import Registration

__all__ = ["node_ip", "ray_session", "registered", "serve_registered"]

_log = structlog.get_logger("claw.distributed")
_POLL_S = 0.5
_STOP_GRACE_S = 10.0


@asynccontextmanager
async def ray_session(address: str) -> AsyncIterator[Any]:
    """This process connected to the cluster at `address`; yields the `ray` module.

    Raises:
        ConfigError: Ray is not installed.
        ServiceError: the cluster is not reachable.
    """
    ray = import_ray()
    await anyio.to_thread.run_sync(connect, ray, address)
    try:
        yield ray
    finally:
        await anyio.to_thread.run_sync(ray.shutdown)


def node_ip(ray: Any) -> str:
    """The IP address the cluster knows this node by (where other nodes reach its servers)."""
    address: str = ray.util.get_node_ip_address()
    return address


@asynccontextmanager
async def registered(ray: Any, registrations: Sequence[Registration]) -> AsyncIterator[None]:
    """`registrations` in the cluster's registry for the length of the block (removed however it ends)."""
    entry_ids: list[str] = []
    try:
        for registration in registrations:
            entry_ids.append(await register(ray, registration))
            _log.info("registered with the Ray cluster", kind=registration.kind, url=registration.url)
        yield
    finally:
        with anyio.CancelScope(shield=True):
            for entry_id in entry_ids:
                await deregister(ray, entry_id)
            _log.info("deregistered from the Ray cluster", entries=len(entry_ids))


async def serve_registered(
    address: str, registration: Registration, command: Sequence[str], *, ready_timeout_s: float
) -> int:
    """Run `command` (if any) as a registered server until it exits or this is stopped; its exit status.

    Raises:
        ServiceError: the server did not become healthy in time, or the command exited before it did.
    """
    async with ray_session(address) as ray:
        node_id = ray.get_runtime_context().get_node_id()
        registration = msgspec.structs.replace(registration, node_ip=node_ip(ray), node_id=node_id)
        if not command:
            await _ready(registration, None, timeout_s=ready_timeout_s)
            async with registered(ray, [registration]):
                await anyio.sleep_forever()
            return 0
        process = await anyio.open_process(list(command), stdin=None, stdout=None, stderr=None)
        try:
            await _ready(registration, process, timeout_s=ready_timeout_s)
            async with registered(ray, [registration]):
                return await process.wait()
        finally:
            with anyio.CancelScope(shield=True):
                await _stop(process)


async def _ready(registration: Registration, process: Process | None, *, timeout_s: float) -> None:
    problem: str | None = "not checked"
    with anyio.move_on_after(timeout_s):
        while (problem := await problem_of(registration)) is not None:
            if process is not None and process.returncode is not None:
                raise ServiceError(
                    f"the server command exited with status {process.returncode} before {registration.url} "
                    "answered; see its output above"
                )
            await anyio.sleep(_POLL_S)
    if problem is not None:
        raise ServiceError(
            f"{registration.kind} server {registration.url} is not ready after {timeout_s:g} s ({problem}); "
            "check --url, --model and the server's output"
        )


async def _stop(process: Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    with anyio.move_on_after(_STOP_GRACE_S):
        await process.wait()
        return
    process.kill()
    await process.wait()
