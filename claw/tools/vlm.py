"""`vlm` in the kernel: model sub-calls a cell can make, each answered by the runtime over the kernel's
Unix socket (the kernel holds no endpoint, key or client). Every call is a separate, isolated model
request, logged under the episode and counted in its token budget.

- `vlm.ask(question, images=None) -> str`: a focused question about up to 8 images.
- `vlm.locate(name, image) -> Located`: grounding; where `name` is in one image, as pixel boxes and
  points, or not visible.
- `vlm.reason(question, context="") -> str`: a text-only reasoning sub-call (no images).

Blocking on purpose (cells run synchronously); the kernel bootstrap calls `configure(socket=...,
episode_id=...)` once per episode and binds `api` (just these three functions, not this module and its
imports) as `vlm`.
"""

from __future__ import annotations

import http.client
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from claw.tools._client import _UnixConnection
from claw.tools._state import STATE
from claw.wire.vlm import GROUNDING_SCALE, MAX_ASK_IMAGES, AskError, AskKind, AskRequest, AskResponse

__all__ = ["Located", "VlmError", "api", "ask", "configure", "locate", "reason"]

_MAX_EDGE = 1024
_TIMEOUT_S = 3600.0
"""A thinking model may reason for many minutes; the cell's own time limit still applies."""


class VlmError(RuntimeError):
    """A `vlm` call failed (the message says why and what to do)."""


@dataclass(frozen=True)
class Located:
    """Where a named thing is in one image (`vlm.locate`); false when it is not visible.

    Attributes:
        name: what was looked for.
        visible: whether the model found it.
        boxes: (K, 4) float pixel [x1, y1, x2, y2], one per instance (empty when not visible).
        points: (K', 2) float pixel [x, y] on the instances (e.g. clicks for `SAM3(points=...)`).
        answer: the model's raw reply.
    """

    name: str
    visible: bool
    boxes: npt.NDArray[np.float64]
    points: npt.NDArray[np.float64]
    answer: str = ""

    def __bool__(self) -> bool:
        return self.visible

    def __repr__(self) -> str:
        if not self.visible:
            return f"Located({self.name!r}: not visible)"
        boxes, points = self.boxes.round(1).tolist(), self.points.round(1).tolist()
        return f"Located({self.name!r}: {len(boxes)} boxes {boxes}, points {points})"


def configure(*, socket: str | None, episode_id: str = "") -> None:
    """Point `vlm` at the runtime's socket for this episode (called by the kernel bootstrap)."""
    STATE.vlm_socket, STATE.vlm_episode_id = socket, episode_id


def ask(question: str, images: Sequence[Any] | Any = None) -> str:
    """Ask a separate vision model one focused question about some images; it sees only what you pass.

    Args:
        question: the question, self-contained (the model has not seen your transcript).
        images: one image or a list of up to 8 (FrameImage, (H, W, 3) array, PIL image).

    Returns:
        The model's answer text.

    Raises:
        VlmError: the model could not be reached or refused the request.
    """
    encoded = [_encode(image)[0] for image in _as_list(images)]
    if len(encoded) > MAX_ASK_IMAGES:
        raise VlmError(f"vlm.ask takes at most {MAX_ASK_IMAGES} images; pass fewer (got {len(encoded)})")
    return _call("ask", str(question), encoded).answer


def locate(name: str, image: Any) -> Located:
    """Find `name` in one image (grounding): pixel boxes and points per instance, or not visible.

    Args:
        name: what to find, e.g. "the red chair" or "door handle".
        image: one FrameImage, (H, W, 3) array or PIL image.

    Returns:
        A `Located`; `if found:` is False when the model did not see it.

    Raises:
        VlmError: the model could not be reached or its reply could not be read.
    """
    png, (width, height) = _encode(image)
    response = _call("locate", str(name), [png])
    scale = np.array([width, height], dtype=np.float64) / GROUNDING_SCALE
    boxes = np.asarray(response.boxes, dtype=np.float64).reshape(-1, 4) * np.tile(scale, 2)
    points = np.asarray(response.points, dtype=np.float64).reshape(-1, 2) * scale
    return Located(str(name), bool(response.visible), boxes, points, response.answer)


def reason(question: str, context: str = "") -> str:
    """A text-only reasoning sub-call: hand a separate model a problem and the facts it needs.

    Args:
        question: what to work out, e.g. "Which of these distances is the smallest?".
        context: the facts it may use (numbers your cells printed); it sees nothing else.

    Returns:
        The model's answer (its reasoning, if any, is kept out of it).

    Raises:
        VlmError: the model could not be reached.
    """
    return _call("reason", str(question), [], context=str(context)).answer


def _as_list(images: Sequence[Any] | Any) -> list[Any]:
    if images is None:
        return []
    if isinstance(images, list | tuple):
        return list(images)
    return [images]


def _encode(image: Any) -> tuple[bytes, tuple[int, int]]:
    """PNG bytes (long side at most 1024 px) and the image's original (width, height)."""
    from PIL import Image

    pil = image if isinstance(image, Image.Image) else Image.fromarray(_pixels(image))
    size = pil.size
    pil = pil.convert("RGB")
    pil.thumbnail((_MAX_EDGE, _MAX_EDGE))
    out = io.BytesIO()
    pil.save(out, format="png")
    return out.getvalue(), size


def _pixels(image: Any) -> npt.NDArray[np.uint8]:
    pixels = np.asarray(getattr(image, "array", image))
    if pixels.ndim not in (2, 3):
        raise TypeError(f"vlm needs (H, W, 3) or (H, W) images, got shape {pixels.shape}")
    if pixels.dtype != np.uint8:
        scale = 255.0 if pixels.size and float(np.nanmax(pixels)) <= 1.0 else 1.0
        pixels = np.clip(np.nan_to_num(pixels.astype(np.float64)) * scale, 0, 255).astype(np.uint8)
    return pixels


def _call(kind: AskKind, question: str, images: list[bytes], *, context: str = "") -> AskResponse:
    if STATE.vlm_socket is None:
        raise VlmError("vlm is not connected in this kernel (no runtime socket was configured)")
    request = AskRequest(
        episode_id=STATE.vlm_episode_id, question=question, images=images, kind=kind, context=context
    )
    status, payload = _post(msgspec.msgpack.encode(request))
    if status == 200:
        return msgspec.msgpack.decode(payload, type=AskResponse)
    try:
        error = msgspec.msgpack.decode(payload, type=AskError)
    except msgspec.DecodeError:
        raise VlmError(f"vlm.{kind} failed: the runtime answered HTTP {status}") from None
    raise VlmError(f"vlm.{kind} failed: {error.message}")


def _post(body: bytes) -> tuple[int, bytes]:
    assert STATE.vlm_socket is not None  # checked by the caller
    conn = _UnixConnection(STATE.vlm_socket, timeout=_TIMEOUT_S)
    try:
        conn.request("POST", "/v1/ask", body=body, headers={"Content-Type": "application/msgpack"})
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        failure = f"vlm: the runtime's vlm bridge is unreachable ({exc.__class__.__name__}: {exc})"
        STATE.tool_failures.append(failure)  # an infrastructure failure: the episode is not a score
        raise VlmError(f"{failure}; vlm cannot be used right now") from None
    finally:
        conn.close()


class _Api:
    """What a cell sees as `vlm`: `vlm.ask`, `vlm.locate`, `vlm.reason`."""

    ask = staticmethod(ask)
    locate = staticmethod(locate)
    reason = staticmethod(reason)
    Located = Located
    VlmError = VlmError

    def __repr__(self) -> str:
        return "vlm (ask, locate, reason)"


api = _Api()
