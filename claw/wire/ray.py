"""What crosses the wire between the Ray driver and its workers: msgspec-encoded bytes only.

Ray moves these bytes as opaque payloads; no claw object is ever pickled. Samples go out as MessagePack
(`encode_work`); events come back as the exact JSON lines `events.jsonl` holds, batched (`EventBatch`),
so the driver's sinks see the same typed events a single-process run emits. Model and perception servers
register themselves as JSON `Registration`s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import msgspec

from claw.events import Event, decode_event
from claw.suite import Sample

__all__ = [
    "EventBatch",
    "Registration",
    "WorkerInfo",
    "decode_batch",
    "decode_registration",
    "decode_registration_list",
    "decode_registrations",
    "decode_work",
    "encode_batch",
    "encode_registration",
    "encode_work",
]


class WorkerInfo(msgspec.Struct, frozen=True, kw_only=True):
    """Who a worker is, recorded by the driver in `RUN/logs/ray-workers.jsonl`."""

    name: str
    pid: int
    hostname: str
    node_ip: str
    node_id: str
    claw_version: str


class EventBatch(msgspec.Struct, frozen=True, kw_only=True):
    """Events a worker emitted since the driver last asked, and whether the worker is done."""

    lines: bytes = b""
    """JSON lines, one event each, exactly as `events.jsonl` stores them."""
    ended: bool = False
    """The worker ran everything it was given after `close` and stopped its services."""
    error: str = ""
    """Why the worker stopped on its own (its services could not start, or crashed), if it did."""


_work_encoder = msgspec.msgpack.Encoder()
_work_decoder = msgspec.msgpack.Decoder(list[Sample])
_batch_decoder = msgspec.msgpack.Decoder(EventBatch)


def encode_work(samples: Sequence[Sample]) -> bytes:
    """Samples for a worker to run, as MessagePack."""
    return _work_encoder.encode(list(samples))


def decode_work(data: bytes) -> list[Sample]:
    """The samples `encode_work` sent."""
    return _work_decoder.decode(data)


def encode_batch(batch: EventBatch) -> bytes:
    """A batch as MessagePack."""
    return _work_encoder.encode(batch)


def decode_batch(data: bytes) -> tuple[EventBatch, list[Event]]:
    """A batch and its events, typed."""
    batch = _batch_decoder.decode(data)
    return batch, [decode_event(line) for line in batch.lines.splitlines() if line]


class Registration(msgspec.Struct, frozen=True, kw_only=True):
    """A model or perception server in the cluster's registry (`claw.distributed.registry`)."""

    kind: Literal["model", "perception"]
    url: str
    """A model server's base URL up to `/v1`; a perception server's `http://HOST:PORT`."""
    model: str = ""
    """The served model name requests must use (model servers)."""
    roles: tuple[str, ...] = ()
    """Model roles this server answers for (empty: every role)."""
    token_env: str | None = None
    """The environment variable holding a perception server's bearer token (set on every node)."""
    max_concurrency: int | None = None
    max_images_per_prompt: int | None = None
    node_ip: str = ""
    node_id: str = ""
    """The Ray node of the process that registered it (workers prefer a perception server on theirs)."""


_registration_decoder = msgspec.json.Decoder(Registration)
_registrations_decoder = msgspec.json.Decoder(dict[str, Registration])
_registration_list_decoder = msgspec.json.Decoder(list[Registration])


def encode_registration(registration: Registration) -> bytes:
    """A registration as JSON (what the registry actor stores)."""
    return msgspec.json.encode(registration)


def decode_registration(data: bytes) -> Registration:
    """The registration `encode_registration` sent."""
    return _registration_decoder.decode(data)


def decode_registrations(data: bytes) -> dict[str, Registration]:
    """The registry's entries by id, as `EndpointRegistry.entries` returns them."""
    return _registrations_decoder.decode(data)


def decode_registration_list(data: bytes) -> list[Registration]:
    """A JSON list of registrations (the perception servers the driver hands each worker)."""
    return _registration_list_decoder.decode(data)
