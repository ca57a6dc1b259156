"""The cluster's registry of model and perception servers: one named, detached Ray actor
(`claw-endpoints` in the `claw` namespace) that servers register with and `claw eval --ray` asks.

A server started for the cluster (`claw serve vllm --ray`, or any process under `claw serve register`)
adds a `Registration` when it is ready and removes it when it stops. A server that died without
removing itself leaves a stale entry: the driver health-checks every entry before a run and removes
those that do not answer (`claw.distributed.discovery`). The actor is detached so it outlives every
driver and server; it holds only JSON bytes (no pickled claw object) and needs no CPU.
"""

from __future__ import annotations

import secrets
from typing import Any

from claw.wire.ray import Registration, decode_registrations, encode_registration

__all__ = ["REGISTRY_NAME", "EndpointRegistry", "deregister", "entries", "register"]

REGISTRY_NAME = "claw-endpoints"
REGISTRY_NAMESPACE = "claw"


class EndpointRegistry:
    """The registry actor's body: entries by id, as JSON bytes (plain Python; Ray makes it an actor)."""

    def __init__(self) -> None:
        self._entries: dict[str, bytes] = {}

    def add(self, entry_id: str, registration: bytes) -> None:
        """Store (or replace) one entry."""
        self._entries[entry_id] = registration

    def remove(self, entry_id: str) -> bool:
        """Drop one entry; whether it was there."""
        return self._entries.pop(entry_id, None) is not None

    def entries(self) -> bytes:
        """Every entry by id, as one JSON object (`decode_registrations`)."""
        return b"{" + b",".join(b'"%s":%s' % (k.encode(), v) for k, v in self._entries.items()) + b"}"


def _registry(ray: Any) -> Any:
    """The registry actor, created on first use (every caller gets the same one)."""
    actor_class = ray.remote(EndpointRegistry).options(
        name=REGISTRY_NAME,
        namespace=REGISTRY_NAMESPACE,
        lifetime="detached",
        get_if_exists=True,
        num_cpus=0,
    )
    return actor_class.remote()


async def register(ray: Any, registration: Registration) -> str:
    """Add `registration` to the cluster's registry; its id, for `deregister`."""
    entry_id = f"{registration.kind}-{secrets.token_hex(6)}"
    await _registry(ray).add.remote(entry_id, encode_registration(registration))
    return entry_id


async def deregister(ray: Any, entry_id: str) -> bool:
    """Remove one entry; whether it was there."""
    removed: bool = await _registry(ray).remove.remote(entry_id)
    return removed


async def entries(ray: Any) -> dict[str, Registration]:
    """Every registered server by id."""
    return decode_registrations(await _registry(ray).entries.remote())
