"""`[ray] discover`: the run's model and perception servers found in the cluster's registry instead of
listed in the config (`claw.distributed.registry`).

Before the workers start, the driver reads the registry, health-checks every entry at once (a model
server must list its model at `GET /models`, a perception server answer `GET /health`) and removes the
entries that fail: servers that died without deregistering. The servers left become each worker's
explicit config: every model server in each role's endpoint list (so the worker's endpoint pool keeps
its per-replica limit and episode stickiness), and worker `i` the `i`-th perception server, round robin,
among those on the worker's own Ray node when there are any (`perception_for`: the worker chooses once
it knows its node, since a perception server may listen on loopback only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

import anyio
import msgspec

from claw.config import EndpointConfig, EvalConfig, PerceptionConfig
from claw.distributed.registry import deregister, entries
from claw.errors import ClawError, ServiceError
from claw.llm._http import HttpClient
from claw.llm.types import Role
from claw.runtime.preflight import PROBE_TIMEOUT_S, probe_perception
from claw.wire.ray import Registration

__all__ = ["Discovered", "discover", "discovered_config", "perception_for", "problem_of"]

_ROLES: tuple[Role, ...] = get_args(Role)
_HOW_TO_REGISTER = (
    "start one with `claw serve vllm --ray ADDRESS` or `claw serve register --ray ADDRESS --kind {kind} "
    "--url URL ... -- COMMAND`, or drop {kinds} from ray.discover"
)


class Discovered(msgspec.Struct, frozen=True, kw_only=True):
    """The healthy registered servers a run uses."""

    models: list[Registration]
    perception: list[Registration]


async def discover(ray: Any, config: EvalConfig, report: Callable[[str], None]) -> Discovered:
    """The servers `config.ray.discover` asks for, healthy ones only; stale entries are removed.

    Raises:
        ServiceError: a kind asked for has no healthy server registered.
    """
    registered = await entries(ray)
    problems: dict[str, str] = {}
    async with anyio.create_task_group() as checks:
        for entry_id, registration in registered.items():
            checks.start_soon(_check, entry_id, registration, problems)
    for entry_id, problem in sorted(problems.items()):
        await deregister(ray, entry_id)
        stale = registered[entry_id]
        report(f"dropped stale {stale.kind} server {stale.url} from the Ray registry ({problem})")
    alive = [r for entry_id, r in sorted(registered.items()) if entry_id not in problems]
    found = Discovered(
        models=[r for r in alive if r.kind == "model"],
        perception=[r for r in alive if r.kind == "perception"],
    )
    for kinds, kind, servers in (
        ("models", "model", found.models),
        ("perception", "perception", found.perception),
    ):
        if kinds in config.ray.discover and not servers:
            raise ServiceError(
                f"ray.discover {kinds}: no healthy {kind} server is registered on the Ray cluster; "
                + _HOW_TO_REGISTER.format(kind=kind, kinds=kinds)
            )
    if found.models and not _serving(found.models, "agent") and "models" in config.ray.discover:
        raise ServiceError("ray.discover models: no registered model server has the agent role")
    report(
        f"discovered {len(found.models)} model and {len(found.perception)} perception servers on the cluster"
    )
    return found


def discovered_config(config: EvalConfig, found: Discovered, worker: int) -> EvalConfig:
    """`config` with the discovered servers in place (worker `worker`'s share of perception servers),
    written out as if configured (so `ray.discover` is cleared)."""
    changes: dict[str, Any] = {"ray": msgspec.structs.replace(config.ray, discover=[])}
    if "models" in config.ray.discover:
        roles = {role: [_endpoint(r) for r in _serving(found.models, role)] for role in _ROLES}
        changes["models"] = msgspec.structs.replace(config.models, **roles)
    if "perception" in config.ray.discover:
        server = found.perception[worker % len(found.perception)]
        changes["perception"] = msgspec.structs.replace(
            config.perception, url=server.url, token_env=server.token_env, socket=None
        )
    return msgspec.structs.replace(config, **changes)


def perception_for(servers: list[Registration], node_id: str, worker: int) -> Registration:
    """Worker `worker`'s perception server: round robin among those on its node, else among all."""
    local = [s for s in servers if s.node_id and s.node_id == node_id]
    pool = local or servers
    return pool[worker % len(pool)]


def _serving(models: list[Registration], role: Role) -> list[Registration]:
    return [r for r in models if not r.roles or role in r.roles]


def _endpoint(registration: Registration) -> EndpointConfig:
    return EndpointConfig(
        url=registration.url,
        model=registration.model,
        max_concurrency=registration.max_concurrency,
        max_images_per_prompt=registration.max_images_per_prompt,
    )


async def _check(entry_id: str, registration: Registration, problems: dict[str, str]) -> None:
    problem = await problem_of(registration)
    if problem is not None:
        problems[entry_id] = problem


async def problem_of(registration: Registration) -> str | None:
    """Why the registered server is not usable, or None when it answers as it should."""
    try:
        with anyio.fail_after(PROBE_TIMEOUT_S + 2.0):
            if registration.kind == "perception":
                perception = PerceptionConfig(url=registration.url, token_env=registration.token_env)
                await probe_perception(perception, timeout_s=PROBE_TIMEOUT_S)
                return None
            endpoint = _endpoint(registration)
            async with HttpClient(connect_timeout_s=PROBE_TIMEOUT_S) as client:
                served = await client.list_models(endpoint, timeout_s=PROBE_TIMEOUT_S)
    except TimeoutError:
        return f"no answer within {PROBE_TIMEOUT_S:g} s"
    except ClawError as exc:
        return exc.message
    if registration.model not in served:
        return f"it serves {', '.join(served) or 'no model'}, not {registration.model}"
    return None
