"""The chat types every part of `claw.llm` speaks, and the `ChatTransport` seam.

Messages encode straight to the OpenAI chat wire format (content parts are a tagged union on `type`), so
the transcript an episode keeps is byte-for-byte what goes on the wire. That is what keeps vLLM's prefix
cache warm: each request's messages extend the previous request's exactly.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import msgspec

__all__ = [
    "ChatRequest",
    "ChatResponse",
    "ChatTransport",
    "ContentPart",
    "FunctionCall",
    "ImagePart",
    "ImageURL",
    "Message",
    "Role",
    "TextPart",
    "ToolCall",
    "ToolSpec",
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


class FunctionCall(msgspec.Struct, frozen=True, kw_only=True):
    """The function part of a tool call."""

    name: str
    arguments: str
    """The arguments object, JSON-encoded, exactly as the model wrote it."""


class ToolCall(msgspec.Struct, frozen=True, kw_only=True):
    """A tool call the model made (the `tool-call` interface), in wire shape."""

    id: str
    function: FunctionCall
    type: Literal["function"] = "function"


class ToolSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A tool offered to the model: its name, description and JSON-schema parameters (raw JSON)."""

    name: str
    description: str = ""
    parameters: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b'{"type":"object"}'))


class Message(msgspec.Struct, frozen=True, omit_defaults=True):
    """One chat message in OpenAI format."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[ContentPart]
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[ToolCall] | None = None
    """Assistant messages only: the calls the model made, kept in wire shape for the next request."""

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
    tools: list[ToolSpec] | None = None
    """Tools the model may call (the `tool-call` interface); None offers none."""
    top_p: float | None = None
    top_k: int | None = None
    chat_template_kwargs: dict[str, Any] | None = None
    """Chat-template options for the server (e.g. `{"enable_thinking": True}`)."""
    extra_body: dict[str, Any] | None = None
    """Further request-body fields, sent verbatim."""


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
    tool_calls: list[ToolCall] = msgspec.field(default_factory=list)
    """Calls the model made instead of (or besides) replying with text."""
    reasoning: str = ""
    """What a thinking model reasoned before replying (the server's `reasoning_content`/`reasoning`
    field, or a `<think>` block split off the content); never part of `content`."""


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
