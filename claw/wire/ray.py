"""What crosses the wire between the Ray driver and its workers: msgspec-encoded bytes only.

Ray moves these bytes as opaque payloads; no claw object is ever pickled. Samples go out as MessagePack
(`encode_work`); events come back as the exact JSON lines `events.jsonl` holds, batched (`EventBatch`),
so the driver's sinks see the same typed events a single-process run emits.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from claw.events import Event, decode_event
from claw.suite import Sample

__all__ = ["EventBatch", "WorkerInfo", "decode_batch", "decode_work", "encode_batch", "encode_work"]


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
