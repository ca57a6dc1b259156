"""The wire records of the `vlm` bridge: a kernel asks the runtime (over a Unix socket, msgpack bodies)
and the runtime asks the model. The kernel never holds an LLM client, an endpoint or a key.

`POST /v1/ask` takes `AskRequest` and answers `AskResponse` (status 200) or `AskError` (4xx/5xx). One
request kind per kernel function: `ask` (a focused question about images), `locate` (grounding: where a
named thing is in one image, as boxes and points, or not visible) and `reason` (a text-only reasoning
sub-call).
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "GROUNDING_SCALE",
    "MAX_ASK_IMAGES",
    "MAX_ASK_IMAGE_PIXELS",
    "AskError",
    "AskKind",
    "AskRequest",
    "AskResponse",
]

AskKind = Literal["ask", "locate", "reason"]

GROUNDING_SCALE = 1000.0
"""`locate` coordinates on the wire are fractions of the image's width and height times this."""

MAX_ASK_IMAGES = 8
"""Images per `vlm.ask` call; more are refused with a message saying so."""

MAX_ASK_IMAGE_PIXELS = 4096 * 4096
"""Pixels one `vlm` image may declare (the kernel client sends at most 1024 px on the long side); a larger
one is refused from its header, before anything decodes it."""


class AskRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One isolated question to the VLM, with PNG/JPEG-encoded images."""

    episode_id: str
    question: str
    """The question (`ask`, `reason`) or the name of the thing to find (`locate`)."""
    images: list[bytes] = msgspec.field(default_factory=list)
    kind: AskKind = "ask"
    context: str = ""
    """`reason` only: facts the question builds on (e.g. numbers a cell printed)."""


class AskResponse(msgspec.Struct, frozen=True, kw_only=True):
    """The VLM's answer; for `locate`, also what it found."""

    answer: str
    reasoning: str = ""
    """A thinking model's reasoning, kept apart from the answer."""
    visible: bool | None = None
    """`locate` only: whether the named thing is in the image."""
    boxes: list[list[float]] = msgspec.field(default_factory=list)
    """`locate` only: [x1, y1, x2, y2] per instance, in GROUNDING_SCALE units of width and height."""
    points: list[list[float]] = msgspec.field(default_factory=list)
    """`locate` only: [x, y] per instance, in GROUNDING_SCALE units."""


class AskError(msgspec.Struct, frozen=True, kw_only=True):
    """Why the question was not answered (shown to the model as the exception message)."""

    error_type: str
    message: str
