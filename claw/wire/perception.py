"""The perception wire format (shared by `servers/perception` and the kernel-side client in `claw/tools`,
so it lives in `claw`): msgpack bodies whose arrays travel as raw bytes + dtype + shape.

No pickle, no base64-in-JSON. Every request names the `scene` it comes from when the sample has one
(the synthetic backend answers from that scene's ground truth; real backends ignore it).

Endpoints (POST, `application/msgpack`): `/v1/reconstruct` takes `ReconstructRequest` and answers
`ReconstructResponse`; `/v1/segment` takes `SegmentRequest` and answers `SegmentResponse`. Failures answer
`ErrorResponse` with a 4xx/5xx status.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

import msgspec
import numpy as np
import numpy.typing as npt

__all__ = [
    "ErrorResponse",
    "NDArray",
    "PerceptionBackend",
    "ReconstructRequest",
    "ReconstructResponse",
    "SegmentRequest",
    "SegmentResponse",
    "decode",
    "encode",
]


class NDArray(msgspec.Struct, frozen=True, array_like=True):
    """A numpy array on the wire: dtype string, shape, raw C-order bytes."""

    dtype: str
    shape: tuple[int, ...]
    data: bytes

    @classmethod
    def from_numpy(cls, array: npt.NDArray[np.generic]) -> NDArray:
        """Wrap `array` (copied to C order if needed)."""
        contiguous = np.ascontiguousarray(array)
        return cls(contiguous.dtype.str, tuple(contiguous.shape), contiguous.tobytes())

    def to_numpy(self) -> npt.NDArray[np.generic]:
        """A read-only view of the bytes as an array (no copy)."""
        return np.frombuffer(self.data, dtype=np.dtype(self.dtype)).reshape(self.shape)


class ReconstructRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Depth, cameras and world points for a set of frames."""

    images: list[NDArray]
    """(H, W, 3) uint8 RGB per frame."""
    frame_indices: list[int]
    scene: str | None = None


class ReconstructResponse(msgspec.Struct, frozen=True, kw_only=True):
    """Per-frame geometry in metres; world frame +Y up, cameras camera-to-world, OpenCV axes."""

    depth: NDArray
    """(N, H, W) float32 planar depth (camera z)."""
    points: NDArray
    """(N, H, W, 3) float32 world XYZ."""
    confidence: NDArray
    """(N, H, W) float32 in 0..1."""
    intrinsics: NDArray
    """(N, 3, 3) float64 pinhole K at input resolution."""
    extrinsics: NDArray
    """(N, 4, 4) float64 camera-to-world."""


class SegmentRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Instance masks for frames, prompted by text, points or boxes (one prompt kind per request)."""

    images: list[NDArray]
    frame_indices: list[int]
    text: str | None = None
    points: list[list[float]] | None = None
    """Pixel [x, y] clicks on the first frame."""
    point_labels: list[int] | None = None
    """1 foreground, 0 background, one per point."""
    boxes: list[list[float]] | None = None
    """Pixel [x1, y1, x2, y2] on the first frame."""
    scene: str | None = None
    threshold: float = 0.3


class SegmentResponse(msgspec.Struct, frozen=True, kw_only=True):
    """Per-frame instances; `object_ids` link the same object across frames (video tracking)."""

    masks: list[NDArray]
    """Per frame, (K, H, W) bool."""
    scores: list[NDArray]
    """Per frame, (K,) float32."""
    boxes: list[NDArray]
    """Per frame, (K, 4) float32 pixel xyxy."""
    object_ids: list[list[int]]
    """Per frame, K track ids."""


class ErrorResponse(msgspec.Struct, frozen=True, kw_only=True):
    """A failed request: `error_type` is the claw error class name."""

    error_type: str
    message: str


class PerceptionBackend(Protocol):
    """A model (or ground-truth oracle) that serves whole batches. Selected by name from config."""

    name: str

    async def reconstruct(self, batch: list[ReconstructRequest]) -> list[ReconstructResponse]:
        """Answer every request in `batch`, in order.

        Raises:
            PerceptionError: the whole batch failed (the batcher fails only these requests).
        """
        ...

    async def segment(self, batch: list[SegmentRequest]) -> list[SegmentResponse]:
        """Answer every request in `batch`, in order.

        Raises:
            PerceptionError: the whole batch failed.
        """
        ...


_encoder = msgspec.msgpack.Encoder()
_T = TypeVar("_T")


def encode(message: msgspec.Struct) -> bytes:
    """msgpack bytes for any protocol struct."""
    return _encoder.encode(message)


def decode(data: bytes, type_: type[_T]) -> _T:
    """Decode msgpack `data` as `type_`.

    Raises:
        msgspec.ValidationError: the body does not match the type.
    """
    return msgspec.msgpack.decode(data, type=type_)
