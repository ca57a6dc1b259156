"""The chat messages, images and tool calls as the event log records them (inside `LLMRequested`,
`LLMResponded`, `KeyFramesChosen` and `CellExecuted`): text kept, images replaced by file references with
their digest, so `claw transcript` can rebuild every request exactly.
"""

from __future__ import annotations

import msgspec

__all__ = ["RecordedImage", "RecordedMessage", "RecordedText", "RecordedToolCall"]


class RecordedText(msgspec.Struct, frozen=True, tag_field="type", tag="text"):
    """A text part of a recorded message."""

    text: str


class RecordedImage(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="image"):
    """An image the model was sent or a cell showed, kept as a file instead of inline bytes."""

    path: str
    """The image file, relative to the run directory (absolute when it lies outside it)."""
    sha256: str
    """Digest of the file's bytes, exactly as they were sent."""
    mime: str = "image/png"
    caption: str = ""


class RecordedToolCall(msgspec.Struct, frozen=True, kw_only=True):
    """A function call the model made (the `tool-call` interface)."""

    id: str
    name: str
    arguments: str
    """The arguments object as JSON text, exactly as the model wrote it."""


class RecordedMessage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One chat message as the model received it, with images replaced by file references."""

    role: str
    content: str | list[RecordedText | RecordedImage]
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[RecordedToolCall] | None = None
