"""Frame inputs and per-frame results: turning what a cell passes (a FrameImage, a list of them,
`InputImages`, plain arrays) into pixel arrays plus absolute frame indices, and `FrameMap`, the read-only
mapping from absolute frame index to a per-frame array that `Reconstruction` and `Segmentation` expose.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol, TypeVar, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["FrameLike", "FrameMap", "as_image", "collect_frames"]

_V = TypeVar("_V")


@runtime_checkable
class FrameLike(Protocol):
    """What the tools need from a frame: its pixels and its absolute index (a `FrameImage` has both)."""

    @property
    def array(self) -> npt.NDArray[np.uint8]:
        """(H, W, 3) uint8 RGB."""
        ...

    @property
    def index(self) -> int:
        """Absolute frame index in its video."""
        ...


def as_image(image: object) -> npt.NDArray[np.uint8]:
    """(H, W, 3) uint8 RGB pixels of a FrameImage, PIL image or array ((H, W) grey is expanded).

    Raises:
        TypeError: `image` is none of those.
    """
    if isinstance(image, FrameLike):
        pixels = np.asarray(image.array)
    elif isinstance(image, np.ndarray):
        pixels = image
    elif hasattr(image, "convert") and hasattr(image, "size"):
        pixels = np.asarray(image.convert("RGB"))
    else:
        raise TypeError(
            f"expected a FrameImage, PIL image or (H, W, 3) uint8 array, got {type(image).__name__}"
        )
    return _to_rgb_uint8(pixels)


def _to_rgb_uint8(pixels: npt.NDArray[np.generic]) -> npt.NDArray[np.uint8]:
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise TypeError(f"expected an (H, W, 3) image array, got shape {pixels.shape}")
    if pixels.dtype != np.uint8:
        scale = 255.0 if pixels.dtype.kind == "f" and float(np.nanmax(pixels, initial=0.0)) <= 1.0 else 1.0
        pixels = np.clip(np.asarray(pixels, dtype=np.float64) * scale, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(pixels[:, :, :3])


def collect_frames(frames: object, *, limit: int, tool: str) -> tuple[list[npt.NDArray[np.uint8]], list[int]]:
    """Pixels and absolute indices of `frames` (one frame or a sequence of them).

    Plain arrays without an index get their position in the sequence as index.

    Raises:
        ValueError: no frames, more than `limit`, or the same index twice.
        TypeError: an item is not an image.
    """
    items = _as_sequence(frames)
    if not items:
        raise ValueError(f"{tool} needs at least one frame, got an empty list")
    if len(items) > limit:
        stride = -(-len(items) // limit)
        raise ValueError(
            f"{tool} takes at most {limit} frames, got {len(items)}; pass a subset such as "
            f"InputImages[::{stride}]"
        )
    indices = [item.index if isinstance(item, FrameLike) else pos for pos, item in enumerate(items)]
    if len(set(indices)) != len(indices):
        raise ValueError(f"{tool} got the same frame index twice: {indices}")
    return [as_image(item) for item in items], indices


def _as_sequence(frames: object) -> list[object]:
    if isinstance(frames, FrameLike | np.ndarray) or hasattr(frames, "convert"):
        return [frames]
    if isinstance(frames, Sequence):
        return list(frames)
    raise TypeError(f"expected a FrameImage, a list of them or InputImages, got {type(frames).__name__}")


class FrameMap(Mapping[int, _V]):
    """A read-only mapping from absolute frame index to that frame's value, in input order.

    `fmap[fi]` is the value for frame `fi`; iterating yields the frame indices (like a dict). A frame that
    is not in the map raises KeyError naming the valid indices.
    """

    def __init__(self, name: str, indices: Sequence[int], values: Sequence[_V]) -> None:
        self._name = name
        self._values = dict(zip(indices, values, strict=True))

    def __getitem__(self, frame_index: int) -> _V:
        try:
            return self._values[frame_index]
        except KeyError:
            valid = list(self._values)
            raise KeyError(
                f"{self._name} has no frame {frame_index!r}; valid absolute frame indices: {valid}"
            ) from None

    def __iter__(self) -> Iterator[int]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"<{self._name}: frames {list(self._values)}>"
