"""Requests whose turns alternate: each run of consecutive user messages is sent as one message.

An episode's transcript can hold two user messages in a row (the question, then the plan; an observation,
then a note). Several chat templates (Gemma's, Mistral's) refuse that ("Conversation roles must alternate
user/assistant/..."), so the server would answer 400 to every request of such an episode. Every request
merges those runs, and the rebuilt transcript does the same (`claw.runtime.transcript`). A merged
message only ever gains content at its end, so each request still extends the previous one (prefix
caching keeps working).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from claw.llm.types import ContentPart, Message, TextPart

__all__ = ["merge_user_runs"]

_SEPARATOR = "\n\n"


def merge_user_runs(messages: Sequence[Message]) -> list[Message]:
    """`messages` with every run of consecutive user messages joined into its first, in order."""
    merged: list[Message] = []
    for message in messages:
        if merged and message.role == "user" and merged[-1].role == "user":
            merged[-1] = _joined(merged[-1], message)
        else:
            merged.append(message)
    return merged


def _joined(first: Message, second: Message) -> Message:
    if isinstance(first.content, str) and isinstance(second.content, str):
        return msgspec.structs.replace(first, content=first.content + _SEPARATOR + second.content)
    head, tail = _parts(first.content), _parts(second.content)
    if head and tail and isinstance(head[-1], TextPart) and isinstance(tail[0], TextPart):
        head[-1] = TextPart(text=head[-1].text + _SEPARATOR + tail[0].text)
        tail = tail[1:]
    return msgspec.structs.replace(first, content=head + tail)


def _parts(content: str | list[ContentPart]) -> list[ContentPart]:
    return [TextPart(text=content)] if isinstance(content, str) else list(content)
