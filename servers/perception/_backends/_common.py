"""Helpers shared by the model backends (`sam3`, `da3`): locating local weights from config, running
blocking model code off the event loop one batch at a time, and linking per-frame instances into tracks.
No torch here, so all of it is testable without the GPU extra.

Nothing here downloads anything: weights come only from the local paths in `perception.weights`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import anyio
import numpy as np
import numpy.typing as npt

from claw.config import PerceptionConfig
from claw.errors import ConfigError

__all__ = ["ModelRunner", "link_tracks", "weights_path"]

_T = TypeVar("_T")


def weights_path(config: PerceptionConfig, name: str, *, hint: str) -> Path:
    """The local weights folder for backend `name`, from `config.weights[name]`.

    Raises:
        ConfigError: the setting is missing or the folder does not exist (names `perception.weights.NAME`).
    """
    field = f"perception.weights.{name}"
    raw = config.weights.get(name)
    if not raw:
        raise ConfigError(
            f"the {name} backend needs local weights: set {field} to a folder holding {hint} "
            "(nothing is downloaded at run time)",
            field=field,
        )
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise ConfigError(f"{field} = {raw!r} is not a folder; point it at {hint}", field=field)
    return path


class ModelRunner:
    """Runs blocking model calls in a worker thread, one at a time (one model, one device)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._limiter = anyio.CapacityLimiter(1)

    def __repr__(self) -> str:
        return f"<ModelRunner {self.name} busy={self._limiter.borrowed_tokens}>"

    async def run(self, fn: Callable[[], _T]) -> _T:
        """Call `fn()` in a worker thread once the model is free."""
        return await anyio.to_thread.run_sync(fn, limiter=self._limiter)


def link_tracks(frames: list[npt.NDArray[np.bool_]], *, min_iou: float = 0.1) -> list[list[int]]:
    """Track ids for per-frame instance masks: greedy mask-IoU matching against each track's last mask.

    Args:
        frames: per frame, (K, H, W) bool masks, in time order.
        min_iou: below this overlap an instance starts a new track.

    Returns:
        Per frame, K ids; the same id marks the same object across frames. Ids start at 1.
    """
    last: dict[int, npt.NDArray[np.bool_]] = {}
    out: list[list[int]] = []
    for masks in frames:
        ids = _match(masks, last, min_iou)
        last.update(zip(ids, masks, strict=True))
        out.append(ids)
    return out


def _match(masks: npt.NDArray[np.bool_], last: dict[int, npt.NDArray[np.bool_]], min_iou: float) -> list[int]:
    tracks = list(last)
    pairs = sorted(
        ((_iou(mask, last[t]), k, t) for k, mask in enumerate(masks) for t in tracks),
        reverse=True,
    )
    ids: dict[int, int] = {}
    for iou, k, track in pairs:
        if iou >= min_iou and k not in ids and track not in ids.values():
            ids[k] = track
    next_id = max(tracks, default=0) + 1
    for k in range(len(masks)):
        if k not in ids:
            ids[k], next_id = next_id, next_id + 1
    return [ids[k] for k in range(len(masks))]


def _iou(a: npt.NDArray[np.bool_], b: npt.NDArray[np.bool_]) -> float:
    if a.shape != b.shape:
        return 0.0
    union = int(np.count_nonzero(a | b))
    return int(np.count_nonzero(a & b)) / union if union else 0.0
