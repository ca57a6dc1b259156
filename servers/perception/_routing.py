"""Perception as a set of operations: one server process hosts several backends and routes each operation
to the backend configured for it (`perception.operations`, else `perception.backend`).

A `RoutedBackend` is itself a `PerceptionBackend`, so the server keeps one dynamic batcher per operation
and needs no other change: the reconstruct batcher calls, say, Depth Anything 3 while the segment batcher
calls SAM 3. Each model backend runs its batches on its own worker thread (`ModelRunner`), so a SAM 3
batch and a DA3 batch run at the same time. Every distinct backend is loaded once, with the one shared
`perception.weights` table, however many operations it serves.
"""

from __future__ import annotations

from collections.abc import Callable

from claw.config import PERCEPTION_OPERATIONS, PerceptionConfig
from claw.wire.perception import (
    PerceptionBackend,
    ReconstructRequest,
    ReconstructResponse,
    SegmentRequest,
    SegmentResponse,
)

__all__ = ["RoutedBackend", "load_routed"]


class RoutedBackend:
    """Sends `reconstruct` batches to one backend and `segment` batches to another."""

    def __init__(self, reconstruct: PerceptionBackend, segment: PerceptionBackend) -> None:
        self.reconstructor = reconstruct
        self.segmenter = segment
        self.name = describe({"reconstruct": reconstruct.name, "segment": segment.name})

    def __repr__(self) -> str:
        return f"<RoutedBackend {self.name}>"

    async def reconstruct(self, batch: list[ReconstructRequest]) -> list[ReconstructResponse]:
        """Answer with the reconstruction backend."""
        return await self.reconstructor.reconstruct(batch)

    async def segment(self, batch: list[SegmentRequest]) -> list[SegmentResponse]:
        """Answer with the segmentation backend."""
        return await self.segmenter.segment(batch)


def describe(routes: dict[str, str]) -> str:
    """`reconstruct=da3,segment=sam3`, or the one name when a single backend serves everything."""
    names = set(routes.values())
    if len(names) == 1:
        return names.pop()
    return ",".join(f"{op}={routes[op]}" for op in PERCEPTION_OPERATIONS)


def load_routed(config: PerceptionConfig, load_one: Callable[[str], PerceptionBackend]) -> PerceptionBackend:
    """The backend serving every operation of `config`; `load_one(name)` loads one backend by name.

    A single backend for all operations is returned as is (no routing layer).
    """
    routes = {op: config.backend_for(op) for op in PERCEPTION_OPERATIONS}
    loaded: dict[str, PerceptionBackend] = {}
    for name in dict.fromkeys(routes.values()):
        loaded[name] = load_one(name)
    if len(loaded) == 1:
        return next(iter(loaded.values()))
    return RoutedBackend(reconstruct=loaded[routes["reconstruct"]], segment=loaded[routes["segment"]])
