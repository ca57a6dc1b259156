"""The wire records of the `vlm.ask` bridge: a kernel asks the runtime (over a Unix socket, msgpack
bodies) and the runtime asks the model. The kernel never holds an LLM client, an endpoint or a key.

`POST /v1/ask` takes `AskRequest` and answers `AskResponse` (status 200) or `AskError` (4xx/5xx).
"""

from __future__ import annotations

import msgspec

__all__ = ["MAX_ASK_IMAGES", "AskError", "AskRequest", "AskResponse"]

MAX_ASK_IMAGES = 8
"""Images per `vlm.ask` call; more are refused with a message saying so."""


class AskRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One isolated question to the VLM, with PNG/JPEG-encoded images."""

    episode_id: str
    question: str
    images: list[bytes] = msgspec.field(default_factory=list)


class AskResponse(msgspec.Struct, frozen=True, kw_only=True):
    """The VLM's answer text."""

    answer: str


class AskError(msgspec.Struct, frozen=True, kw_only=True):
    """Why the question was not answered (shown to the model as the exception message)."""

    error_type: str
    message: str
