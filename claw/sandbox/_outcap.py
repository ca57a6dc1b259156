"""Output capped at the source, inside the kernel: however much a cell prints (a 1 GB string, an endless
loop, C code writing to fd 1), at most a fixed head and tail of each stream per cell leave the kernel, so
a flood never reaches the runner's memory and the host's cell timeout is not spent draining it. Tracebacks,
the value of a trailing expression and every display message are cut the same way. Output the C level
would also echo to the kernel's log file on the host is sent to /dev/null instead (the log is for
start-up failures), and IPython's copy of every cell's output for its history is not kept.

Installed once per kernel by the template (`install`), before the kernel serves its first request.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["HEAD_CHARS", "TAIL_CHARS", "install"]

HEAD_CHARS = 64_000
"""Characters of each stream per cell sent as they are printed."""
TAIL_CHARS = 16_000
"""Characters of each stream per cell kept from the end and sent when the cell finishes."""
MAX_DISPLAY_CHARS = 32 * 2**20
"""Largest non-text value of one display message (a base64 image, the per-cell report); larger ones are
replaced by a note. Text values are cut like the streams."""


class _CappedWrite:
    """Wraps a stream's `write`: the first HEAD_CHARS pass, the rest is counted and only its tail kept."""

    def __init__(self, write: Callable[[Any], Any]) -> None:
        self._write = write
        self._lock = threading.Lock()  # the fd-watcher thread writes too
        self._passed = 0
        self._cut = 0
        self._tail = ""

    def __call__(self, text: object) -> int:
        if not isinstance(text, str):
            return int(self._write(text))  # let the stream raise its own TypeError
        written = len(text)
        with self._lock:
            room = HEAD_CHARS - self._passed
            if room > 0:
                head = text[:room]
                self._passed += len(head)
                self._write(head)
                text = text[room:]
            if text:
                self._cut += len(text)
                self._tail = (self._tail + text[-TAIL_CHARS:])[-TAIL_CHARS:]
        return written

    def finish(self) -> None:
        """At the end of a cell: send the kept tail, then say how much was cut (last, so that a host
        keeping only the tail still shows it), and start counting afresh."""
        with self._lock:
            total = self._passed + self._cut
            dropped, tail = self._cut - len(self._tail), self._tail
            self._passed, self._cut, self._tail = 0, 0, ""
        if tail:
            self._write(tail)
        if dropped > 0:
            newline = "" if tail.endswith("\n") else "\n"
            self._write(
                f"{newline}[the cell wrote {total} characters here; {dropped} from the middle were cut]\n"
            )


class _DiscardedOutputs(dict[int, list[Any]]):
    """IPython keeps every cell's printed output for its history (all of it, every cell); no kernel here
    reads it back, and a flood would fill the kernel's memory with it. Writes land in a throw-away list."""

    def __contains__(self, key: object) -> bool:
        return False

    def __getitem__(self, key: int) -> list[Any]:
        return []


def _cut(text: str, limit: int = HEAD_CHARS + TAIL_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:HEAD_CHARS]}\n... [{len(text) - limit} characters cut] ...\n{text[-TAIL_CHARS:]}"


def _silence_log_echo(stream: object) -> None:
    copy = getattr(stream, "_original_stdstream_copy", None)
    if isinstance(copy, int):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, copy)
        os.close(null)


def install(shell: Any) -> None:
    """Cap sys.stdout, sys.stderr, tracebacks and expression values of the kernel that owns `shell`."""
    history = getattr(shell, "history_manager", None)
    if history is not None:
        history.outputs = _DiscardedOutputs()
    caps = []
    for stream in (sys.stdout, sys.stderr):
        cap = _CappedWrite(stream.write)
        stream.write = cap  # type: ignore[method-assign]  # an instance attribute: ipykernel's fd watcher calls `self.write` too
        _silence_log_echo(stream)
        caps.append(cap)

    def finish(result: object) -> None:
        for stream, cap in zip((sys.stdout, sys.stderr), caps, strict=True):
            stream.flush()
            cap.finish()

    shell.events.register("post_run_cell", finish)
    show_traceback = shell._showtraceback

    def capped_traceback(etype: Any, evalue: Any, stb: list[str]) -> None:
        message = _cut(str(evalue))
        lines = [_cut(line) for line in stb[-200:]]
        show_traceback(etype, message, lines)

    shell._showtraceback = capped_traceback
    formatter = shell.display_formatter
    compute = formatter.format

    def capped_format(obj: Any, *args: Any, **kwargs: Any) -> Any:
        data, metadata = compute(obj, *args, **kwargs)
        if isinstance(data.get("text/plain"), str):
            data["text/plain"] = _cut(data["text/plain"])
        return data, metadata

    formatter.format = capped_format
    _cap_display(shell.display_pub)


def _cap_display(publisher: Any) -> None:
    """Every display message (`display(...)`, images, HTML) is bounded too, whoever builds it."""
    publish = publisher.publish

    def capped_publish(data: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        return publish({mime: _capped_value(mime, value) for mime, value in data.items()}, *args, **kwargs)

    publisher.publish = capped_publish


def _capped_value(mime: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if mime.startswith("text/"):
        return _cut(value)
    if len(value) > MAX_DISPLAY_CHARS:
        return f"[a {mime} value of {len(value)} characters was not sent]"
    return value
