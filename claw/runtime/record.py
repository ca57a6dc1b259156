"""What an episode said to the model and what the model saw, turned into recordable form: each request as
the delta it adds to its conversation thread, images as files under the run's `media/` directory.

One `TranscriptRecorder` per episode owns that episode's media folder (`media/episodes/<episode id>/`).
Key frames already on disk are referenced where they lie; shown images and any other image sent inline
are written once, named by their content digest, so the event log stays small and an image sent in
every later request of the episode is stored once.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

import anyio

from claw.events import RecordedImage, RecordedMessage, RecordedText, RecordedToolCall
from claw.llm.images import bytes_data_url
from claw.llm.types import ImagePart, Message, TextPart, ToolCall
from claw.wire.kernel import ShownImage

__all__ = ["TranscriptRecorder", "episode_media_dir", "recorded_tool_calls"]

_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def episode_media_dir(run_dir: Path, episode_id: str) -> Path:
    """Where the images of `episode_id` are written (one folder per id component, made filesystem-safe)."""
    parts = [_UNSAFE.sub("_", p).strip(".") or "_" for p in episode_id.split("/")]
    return run_dir.joinpath("media", "episodes", *parts)


def recorded_tool_calls(calls: Sequence[ToolCall]) -> list[RecordedToolCall]:
    """The calls in recorded form."""
    return [RecordedToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments) for c in calls]


def _write_once(path: Path, data: bytes) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _decode_data_url(url: str) -> tuple[str, bytes]:
    header, _, payload = url.partition(",")
    mime = header.removeprefix("data:").split(";", 1)[0] or "application/octet-stream"
    return mime, base64.b64decode(payload)


def _common_prefix(old: Sequence[Message], new: Sequence[Message]) -> int:
    count = 0
    for before, after in zip(old, new, strict=False):
        if before != after:
            break
        count += 1
    return count


class TranscriptRecorder:
    """Records one episode's requests as deltas and its images as files.

    Without a run directory (`run_dir=None`, e.g. a unit test of the driver) images are recorded by digest
    only, with an empty path.
    """

    def __init__(self, run_dir: Path | None, episode_id: str) -> None:
        self._run_dir = run_dir
        self._media = episode_media_dir(run_dir, episode_id) if run_dir else None
        self._previous: dict[str, tuple[Message, ...]] = {}
        self._images: dict[str, RecordedImage] = {}

    def _relative(self, path: Path) -> str:
        if self._run_dir is None:
            return str(path)
        try:
            return str(path.resolve().relative_to(self._run_dir.resolve()))
        except ValueError:
            return str(path.resolve())

    def note_file(self, url: str, path: Path, data: bytes, mime: str) -> RecordedImage:
        """Remember that `url` is the file at `path` (whose bytes are `data`); return its record."""
        record = RecordedImage(path=self._relative(path), sha256=hashlib.sha256(data).hexdigest(), mime=mime)
        self._images[url] = record
        return record

    def _store(self, data: bytes, mime: str, caption: str = "") -> RecordedImage:
        digest = hashlib.sha256(data).hexdigest()
        if self._media is None:
            return RecordedImage(path="", sha256=digest, mime=mime, caption=caption)
        path = self._media / f"{digest[:20]}{_EXTENSIONS.get(mime, '.bin')}"
        _write_once(path, data)
        return RecordedImage(path=self._relative(path), sha256=digest, mime=mime, caption=caption)

    def _store_shown(self, images: Sequence[ShownImage]) -> list[RecordedImage]:
        records = []
        for image in images:
            record = self._store(image.png, "image/png", image.caption)
            self._images[bytes_data_url(image.png)] = record
            records.append(record)
        return records

    async def save_shown(self, images: Sequence[ShownImage]) -> list[RecordedImage]:
        """Write the images a cell showed (in a worker thread) and return their records."""
        if not images:
            return []
        return await anyio.to_thread.run_sync(self._store_shown, images)

    def image_for(self, url: str) -> RecordedImage:
        """The record of the image at data URL `url` (stored now unless it is a noted file or stored)."""
        known = self._images.get(url)
        if known is None:
            mime, data = _decode_data_url(url)
            known = self._images[url] = self._store(data, mime)
        return known

    def _message(self, message: Message) -> RecordedMessage:
        content: str | list[RecordedText | RecordedImage]
        if isinstance(message.content, str):
            content = message.content
        else:
            content = [
                RecordedText(text=p.text) if isinstance(p, TextPart) else self.image_for(p.image_url.url)
                for p in message.content
                if isinstance(p, TextPart | ImagePart)
            ]
        return RecordedMessage(
            role=message.role,
            content=content,
            name=message.name,
            tool_call_id=message.tool_call_id,
            tool_calls=recorded_tool_calls(message.tool_calls) if message.tool_calls else None,
        )

    def _delta(self, thread: str, messages: Sequence[Message]) -> tuple[int, list[RecordedMessage]]:
        previous = self._previous.get(thread, ())
        base = _common_prefix(previous, messages)
        self._previous[thread] = tuple(messages)
        return base, [self._message(m) for m in messages[base:]]

    async def delta(self, thread: str, messages: Sequence[Message]) -> tuple[int, list[RecordedMessage]]:
        """How many leading messages `messages` shares with the thread's previous request, and the rest in
        recorded form (new images are written in a worker thread; without one, no thread is needed)."""
        if self._has_unstored_image(messages):
            return await anyio.to_thread.run_sync(self._delta, thread, messages)
        return self._delta(thread, messages)

    def _has_unstored_image(self, messages: Sequence[Message]) -> bool:
        return any(
            isinstance(part, ImagePart) and part.image_url.url not in self._images
            for message in messages
            if not isinstance(message.content, str)
            for part in message.content
        )
