"""The chat types every part of `claw.llm` speaks, and the `ChatTransport` seam.

Messages encode straight to the OpenAI chat wire format (content parts are a tagged union on `type`), so
the transcript an episode keeps is byte-for-byte what goes on the wire. That is what keeps vLLM's prefix
cache warm: each request's messages extend the previous request's exactly.
"""

from __future__ import annotations

from typing import Literal, Protocol

import msgspec

__all__ = [
    "ChatRequest",
    "ChatResponse",
    "ChatTransport",
    "ContentPart",
    "ImagePart",
    "ImageURL",
    "Message",
    "Role",
    "TextPart",
    "Usage",
]

Role = Literal["agent", "planner", "vlm_ask"]
"""Which model role a request is for; each role has its own endpoint pool."""


class TextPart(msgspec.Struct, frozen=True, tag_field="type", tag="text"):
    """A text content part."""

    text: str


class ImageURL(msgspec.Struct, frozen=True):
    """An image as a `data:` URL (PNG/JPEG, base64)."""

    url: str


class ImagePart(msgspec.Struct, frozen=True, tag_field="type", tag="image_url"):
    """An image content part."""

    image_url: ImageURL


ContentPart = TextPart | ImagePart


class Message(msgspec.Struct, frozen=True, omit_defaults=True):
    """One chat message in OpenAI format."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[ContentPart]
    name: str | None = None
    tool_call_id: str | None = None

    def text(self) -> str:
        """All text parts joined; images are skipped."""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content if isinstance(p, TextPart))


class ChatRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A chat completion request as claw builds it (endpoint-independent)."""

    role: Role
    messages: list[Message]
    max_tokens: int = 4096
    temperature: float = 0.6
    session_id: str | None = None
    """Episode id: requests with the same session stick to one endpoint while it is healthy."""
    seed: int | None = None


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    """Token accounting for one completion."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    """Prompt tokens served from the prefix cache, when the server reports it."""


class ChatResponse(msgspec.Struct, frozen=True, kw_only=True):
    """A completed chat call."""

    content: str
    usage: Usage
    endpoint: str
    latency_s: float
    finish_reason: str = "stop"
    attempts: int = 1


class ChatTransport(Protocol):
    """Sends one chat request somewhere and returns the completion.

    Implementations: the aiohttp endpoint pool (real HTTP) and `ScriptedTransport` (tests).
    """

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Return the completion for `request`.

        Raises:
            LLMError: (a subclass) when no completion could be obtained within the call's deadline.
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
