"""The `costmodel` backend: answers every batch after sleeping `fixed + per_item * batch size`
(40 ms + 4 ms per item by default), like a GPU model whose batch cost is mostly fixed. For benchmarks of
the batcher; its answers are constant placeholders (unit depth, identity cameras, no instances).
"""

from __future__ import annotations

import anyio
import numpy as np

from claw.config import PerceptionConfig
from claw.wire.perception import (
    NDArray,
    ReconstructRequest,
    ReconstructResponse,
    SegmentRequest,
    SegmentResponse,
)

__all__ = ["CostModelBackend", "backend_class"]


class CostModelBackend:
    """Sleeps like a batched model; see the module docstring."""

    name = "costmodel"

    def __init__(self, config: PerceptionConfig, *, fixed_ms: float = 40.0, per_item_ms: float = 4.0) -> None:
        self.config = config
        self.fixed_s = fixed_ms / 1000.0
        self.per_item_s = per_item_ms / 1000.0
        self.batch_sizes: list[int] = []

    def __repr__(self) -> str:
        return f"<CostModelBackend fixed={self.fixed_s * 1000:g}ms per_item={self.per_item_s * 1000:g}ms>"

    async def _pay(self, size: int) -> None:
        self.batch_sizes.append(size)
        await anyio.sleep(self.fixed_s + self.per_item_s * size)

    async def reconstruct(self, batch: list[ReconstructRequest]) -> list[ReconstructResponse]:
        """Sleep for the batch's cost, then answer unit depth seen by identity cameras."""
        await self._pay(len(batch))
        return [_reconstruction(req) for req in batch]

    async def segment(self, batch: list[SegmentRequest]) -> list[SegmentResponse]:
        """Sleep for the batch's cost, then answer no instances in every frame."""
        await self._pay(len(batch))
        return [_no_instances(req) for req in batch]


def _reconstruction(request: ReconstructRequest) -> ReconstructResponse:
    n = len(request.images)
    h, w = request.images[0].shape[:2]
    depth = np.ones((n, h, w), dtype=np.float32)
    k = np.array([[w, 0.0, w / 2], [0.0, w, h / 2], [0.0, 0.0, 1.0]])
    return ReconstructResponse(
        depth=NDArray.from_numpy(depth),
        points=NDArray.from_numpy(np.zeros((n, h, w, 3), dtype=np.float32)),
        confidence=NDArray.from_numpy(depth),
        intrinsics=NDArray.from_numpy(np.repeat(k[None], n, axis=0)),
        extrinsics=NDArray.from_numpy(np.repeat(np.eye(4)[None], n, axis=0)),
    )


def _no_instances(request: SegmentRequest) -> SegmentResponse:
    shapes = [img.shape[:2] for img in request.images]
    return SegmentResponse(
        masks=[NDArray.from_numpy(np.zeros((0, h, w), dtype=bool)) for h, w in shapes],
        scores=[NDArray.from_numpy(np.zeros(0, dtype=np.float32)) for _ in shapes],
        boxes=[NDArray.from_numpy(np.zeros((0, 4), dtype=np.float32)) for _ in shapes],
        object_ids=[[] for _ in shapes],
    )


backend_class = CostModelBackend
