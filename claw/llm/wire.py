"""The OpenAI chat-completions wire format as msgspec Structs, shared by the client and the mock server.

Only the fields claw sends or reads are declared; unknown fields in a body are ignored on decode, so a
real server's extra fields (vLLM's `reasoning_content`, hosted APIs' `system_fingerprint`) pass through
harmlessly. Tool parameter schemas are kept as raw JSON (`msgspec.Raw`) because claw never inspects them.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from claw.llm.types import ContentPart, FunctionCall, Message, ToolCall, ToolSpec

__all__ = [
    "ErrorBody",
    "ErrorDetail",
    "ModelCard",
    "ModelList",
    "OutgoingRequest",
    "PromptTokensDetails",
    "StreamChoice",
    "StreamChunk",
    "StreamDelta",
    "WireChoice",
    "WireChoiceMessage",
    "WireFunction",
    "WireFunctionCall",
    "WireMessage",
    "WireRequest",
    "WireResponse",
    "WireTool",
    "WireToolCall",
    "WireUsage",
    "wire_tools",
]


WireFunctionCall = FunctionCall
"""The function part of a tool call (the same Struct claw's messages carry)."""
WireToolCall = ToolCall
"""One tool call made by the assistant (the same Struct claw's messages carry)."""


class WireFunction(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A callable tool's declaration."""

    name: str
    description: str | None = None
    parameters: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    """The JSON schema, kept raw."""


class WireTool(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of a request's `tools` list."""

    function: WireFunction
    type: Literal["function"] = "function"


class WireMessage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A message as a server receives it: content may be null (assistant tool calls) or absent."""

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[WireToolCall] | None = None

    def to_message(self) -> Message:
        """The claw `Message` a policy reads (`developer` reads as `system`, null content as empty)."""
        role = "system" if self.role == "developer" else self.role
        content = "" if self.content is None else self.content
        return Message(
            role=role,
            content=content,
            name=self.name,
            tool_call_id=self.tool_call_id,
            tool_calls=self.tool_calls,
        )


class WireRequest(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A `POST /v1/chat/completions` body."""

    model: str
    messages: list[WireMessage]
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    seed: int | None = None
    stream: bool = False
    tools: list[WireTool] | None = None
    top_p: float | None = None
    top_k: int | None = None
    chat_template_kwargs: dict[str, Any] | None = None


class PromptTokensDetails(msgspec.Struct, frozen=True, kw_only=True):
    """Where the server reports prefix-cache hits."""

    cached_tokens: int = 0


class WireUsage(msgspec.Struct, frozen=True, kw_only=True):
    """Token counts of one completion."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: PromptTokensDetails | None = None


class WireChoiceMessage(msgspec.Struct, frozen=True, kw_only=True):
    """The assistant message of a choice; vLLM puts thinking in `reasoning_content` (newer versions:
    `reasoning`) when started with a reasoning parser."""

    role: Literal["assistant"] = "assistant"
    content: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None
    tool_calls: list[WireToolCall] | None = None


class WireChoice(msgspec.Struct, frozen=True, kw_only=True):
    """One choice of a completion."""

    index: int = 0
    message: WireChoiceMessage
    finish_reason: str | None = "stop"


class WireResponse(msgspec.Struct, frozen=True, kw_only=True):
    """A chat completion body."""

    id: str
    choices: list[WireChoice]
    created: int = 0
    model: str = ""
    object: Literal["chat.completion"] = "chat.completion"
    usage: WireUsage | None = None


class StreamDelta(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The increment one streamed chunk carries."""

    role: Literal["assistant"] | None = None
    content: str | None = None


class StreamChoice(msgspec.Struct, frozen=True, kw_only=True):
    """One choice of a streamed chunk."""

    delta: StreamDelta
    index: int = 0
    finish_reason: str | None = None


class StreamChunk(msgspec.Struct, frozen=True, kw_only=True):
    """One `data:` event of a streamed completion."""

    id: str
    choices: list[StreamChoice]
    created: int = 0
    model: str = ""
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    usage: WireUsage | None = None


class ModelCard(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of `GET /v1/models`."""

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "claw"


class ModelList(msgspec.Struct, frozen=True, kw_only=True):
    """The `GET /v1/models` body."""

    data: list[ModelCard]
    object: Literal["list"] = "list"


class ErrorDetail(msgspec.Struct, frozen=True, kw_only=True):
    """What went wrong, OpenAI style."""

    message: str
    type: str
    code: int | None = None


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True):
    """An error response body."""

    error: ErrorDetail


class OutgoingRequest(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What the client sends: claw `Message`s encode to the wire format as they are."""

    model: str
    messages: list[Message]
    max_tokens: int
    temperature: float
    seed: int | None = None
    tools: list[WireTool] | None = None
    top_p: float | None = None
    top_k: int | None = None
    chat_template_kwargs: dict[str, Any] | None = None


def wire_tools(tools: list[ToolSpec] | None) -> list[WireTool] | None:
    """Tool specs in the wire's `{"type": "function", "function": {...}}` shape."""
    if not tools:
        return None
    return [
        WireTool(
            function=WireFunction(name=t.name, description=t.description or None, parameters=t.parameters)
        )
        for t in tools
    ]
