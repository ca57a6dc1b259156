"""`claw transcript`: rebuild, from `events.jsonl` alone, every request an episode sent to a model and the
reply it got, and render them as the conversation the model saw.

Each `LLMRequested` event carries its messages as a delta on the previous request of its thread (`base`
messages kept, then `appended`); replaying the deltas in order gives each request's full message list.
Images come back from the files the log references, so `wire_messages` reproduces the request bytes.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

import msgspec

from claw._text import printable
from claw.errors import ClawError
from claw.events import (
    Event,
    LLMFailed,
    LLMRequested,
    LLMResponded,
    RecordedImage,
    RecordedMessage,
    RecordedText,
    decode_event,
)
from claw.llm.turns import merge_user_runs
from claw.llm.types import ContentPart, FunctionCall, ImagePart, ImageURL, Message, TextPart, ToolCall

__all__ = [
    "Exchange",
    "episode_events",
    "exchanges",
    "find_episode",
    "read_events",
    "render_transcript",
    "wire_messages",
]


class Exchange(msgspec.Struct, kw_only=True):
    """One model request rebuilt in full, and how it ended."""

    thread: str
    role: str
    step: int
    messages: list[RecordedMessage]
    base: int
    """Messages repeated from the thread's previous request."""
    previous: int
    """Length of the thread's previous request (0 for the first): `base == previous` means append-only."""
    tools: list[str]
    reply: LLMResponded | None = None
    failure: LLMFailed | None = None

    @property
    def appended(self) -> list[RecordedMessage]:
        """The messages this request added to its thread."""
        return self.messages[self.base :]


def read_events(path: Path) -> Iterator[Event]:
    """Every complete event in an `events.jsonl` (a partial last line, still being written, is skipped).

    Raises:
        ClawError: the file is missing or a complete line is not a claw event.
    """
    if not path.exists():
        raise ClawError(f"no event log at {path}; pass a run directory made by `claw eval`")
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n"):
                return
            try:
                yield decode_event(line)
            except msgspec.DecodeError as exc:
                raise ClawError(f"{path}:{number} is not a claw event ({exc})") from None


def episode_events(run_dir: Path, episode_id: str) -> list[Event]:
    """The events of one episode, in log order.

    Raises:
        ClawError: no event log, or a corrupt line.
    """
    return [e for e in read_events(run_dir / "events.jsonl") if e.episode_id == episode_id]


def find_episode(run_dir: Path, wanted: str) -> str:
    """The episode id `wanted` names: an exact id, or a sample id or substring that matches one episode.

    Raises:
        ClawError: none or several episodes match (the message lists some of them).
    """
    ids = list(dict.fromkeys(e.episode_id for e in read_events(run_dir / "events.jsonl") if e.episode_id))
    if wanted in ids:
        return wanted
    matches = [i for i in ids if wanted in i.split("/") or wanted in i]
    if len(matches) == 1:
        return matches[0]
    shown = ", ".join((matches or ids)[:5]) + (" …" if len(matches or ids) > 5 else "")
    what = "matches several episodes" if matches else "names no episode of this run"
    raise ClawError(f"{wanted!r} {what}; give one episode id, e.g. {shown or '(the run has none)'}")


def _rebuild(event: LLMRequested, threads: dict[str, list[RecordedMessage]]) -> Exchange:
    thread = event.thread or event.role
    previous = threads.get(thread, [])
    messages = previous[: event.base] + list(event.appended)
    threads[thread] = messages
    return Exchange(
        thread=thread,
        role=event.role,
        step=event.step,
        messages=messages,
        base=event.base,
        previous=len(previous),
        tools=list(event.tools),
    )


def exchanges(events: Iterable[Event]) -> list[Exchange]:
    """Each request of the events (one episode's) rebuilt in full, paired with its reply or failure."""
    threads: dict[str, list[RecordedMessage]] = {}
    result: list[Exchange] = []
    waiting: dict[str, list[Exchange]] = {}
    for event in events:
        if isinstance(event, LLMRequested):
            result.append(_rebuild(event, threads))
            waiting.setdefault(event.role, []).append(result[-1])
        elif isinstance(event, LLMResponded | LLMFailed) and waiting.get(event.role):
            exchange = waiting[event.role].pop(0)
            if isinstance(event, LLMResponded):
                exchange.reply = event
            else:
                exchange.failure = event
    return result


def _data_url(image: RecordedImage, run_dir: Path) -> str:
    if not image.path:
        raise ClawError(f"image {image.sha256[:12]} was recorded without a file; it cannot be rebuilt")
    data = (run_dir / image.path).read_bytes()
    return f"data:{image.mime};base64,{base64.b64encode(data).decode('ascii')}"


_ROLES: dict[str, Literal["system", "user", "assistant", "tool"]] = {
    "system": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
}


def _wire_message(message: RecordedMessage, run_dir: Path) -> Message:
    content: str | list[ContentPart]
    if isinstance(message.content, str):
        content = message.content
    else:
        content = [
            TextPart(text=p.text)
            if isinstance(p, RecordedText)
            else ImagePart(image_url=ImageURL(url=_data_url(p, run_dir)))
            for p in message.content
        ]
    calls = None
    if message.tool_calls is not None:
        calls = [
            ToolCall(id=c.id, function=FunctionCall(name=c.name, arguments=c.arguments))
            for c in message.tool_calls
        ]
    role = _ROLES.get(message.role)
    if role is None:
        raise ClawError(f"a recorded message has the unknown role {message.role!r}")
    return Message(role=role, content=content, name=message.name, tool_call_id=message.tool_call_id,
                   tool_calls=calls)  # fmt: skip


def wire_messages(exchange: Exchange, run_dir: Path) -> list[Message]:
    """The request's messages exactly as sent: images read back from their files as `data:` URLs, and
    consecutive user messages joined (`claw.llm.turns`).

    Raises:
        ClawError: an image was recorded without a file.
        OSError: an image file is missing.
    """
    return merge_user_runs([_wire_message(m, run_dir) for m in exchange.messages])


def _render_message(message: RecordedMessage) -> list[str]:
    head = f"--- {message.role}" + (f" (reply to {message.tool_call_id})" if message.tool_call_id else "")
    lines = [head]
    if isinstance(message.content, str):
        lines.append(message.content)
    else:
        for part in message.content:
            if isinstance(part, RecordedText):
                lines.append(part.text)
            else:
                caption = f" {part.caption!r}" if part.caption else ""
                lines.append(f"[image {part.path or part.sha256[:12]}{caption}]")
    lines += [f"[tool call {c.id}: {c.name}({c.arguments})]" for c in message.tool_calls or ()]
    return lines


def _request_header(number: int, exchange: Exchange) -> str:
    n = len(exchange.messages)
    if exchange.previous == 0:
        how = "new thread"
    elif exchange.base == exchange.previous:
        how = f"repeats the previous {exchange.base} messages, appends {n - exchange.base}"
    else:
        how = f"NOT append-only: keeps {exchange.base} of the previous {exchange.previous} messages"
    tools = f", tools: {', '.join(exchange.tools)}" if exchange.tools else ""
    return f"=== request {number} · {exchange.thread} · step {exchange.step} · {n} messages ({how}){tools}"


def _render_outcome(exchange: Exchange) -> list[str]:
    if exchange.failure is not None:
        return [f"=== failed: {exchange.failure.error_type}: {exchange.failure.message}"]
    reply = exchange.reply
    if reply is None:
        return ["=== (no reply recorded)"]
    source = " · replayed from the recording" if reply.endpoint == "replay" else ""
    lines = [
        f"=== reply · {reply.prompt_tokens}+{reply.completion_tokens} tokens · {reply.finish_reason}{source}"
    ]
    if reply.reasoning:
        lines += ["--- reasoning", reply.reasoning]
    lines += ["--- assistant", reply.content]
    lines += [f"[tool call {c.id}: {c.name}({c.arguments})]" for c in reply.tool_calls]
    return lines


def render_transcript(items: list[Exchange], *, full: bool = False) -> str:
    """The conversation as text: each request (only what it appended, or all of it with `full`), then
    its reply."""
    lines: list[str] = []
    for number, exchange in enumerate(items, start=1):
        lines.append(_request_header(number, exchange))
        for message in exchange.messages if full else exchange.appended:
            lines += _render_message(message)
        lines += _render_outcome(exchange)
        lines.append("")
    return printable("\n".join(lines))  # replies, reasoning and cell output go to a terminal
