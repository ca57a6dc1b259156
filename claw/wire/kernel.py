"""The records that cross the kernel boundary: the episode's `KernelSetup` going in, the `CellReport` the
in-kernel hook publishes after every cell (a display_data message of type `REPORT_MIME`), and the
`CellResult` the host assembles from it and the streamed output. The kernel side imports this module,
never `claw.sandbox`.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from claw.suite import AnswerFormat, MetaValue, Video

__all__ = [
    "REPORT_MIME",
    "CellError",
    "CellReport",
    "CellResult",
    "CellStatus",
    "KernelSetup",
    "ShownImage",
    "SubmittedAnswer",
    "VariableSummary",
]

REPORT_MIME = "application/vnd.claw.report+json"
"""Mime type of the display_data message that carries a `CellReport` after every cell."""

CellStatus = Literal["ok", "error", "timeout", "rejected", "died"]


class KernelSetup(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a kernel needs to serve one episode (never ground truth, never a secret)."""

    episode_id: str
    videos: tuple[Video, ...]
    answer_format: AnswerFormat
    options: tuple[str, ...] = ()
    metadata: dict[str, MetaValue] = msgspec.field(default_factory=dict)
    perception_socket: str | None = None
    """Unix socket of the perception server; the kernel connects lazily on first tool use."""
    perception_url: str | None = None
    """TCP alternative for unconfined kernels (`http://127.0.0.1:PORT`)."""
    perception_token: str | None = None
    vlm_socket: str | None = None
    """Unix socket on which the runtime answers `vlm.ask`; the kernel never holds an LLM client."""
    max_images_per_step: int = 4
    perception_connect_timeout_s: float = 10.0
    """How long a tool call waits to connect to the perception server."""
    perception_request_timeout_s: float = 45.0
    """How long a tool call waits for the perception server's answer once connected."""


class CellError(msgspec.Struct, frozen=True, kw_only=True):
    """The exception a cell raised."""

    ename: str
    evalue: str
    traceback: str
    """ANSI-free traceback text."""
    lineno: int | None = None
    """Line in the cell where it was raised, when known."""


class VariableSummary(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One new or changed variable, summarised (never its full value)."""

    name: str
    type: str
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    min: float | None = None
    max: float | None = None
    length: int | None = None
    preview: str | None = None
    """repr of small scalars and short strings, bounded in size."""

    def describe(self) -> str:
        """One line: name, type and what is known of the contents. The model reads it in its observation
        and the event log records it (`CellExecuted.variable_notes`), so both say the same."""
        facts = [self.type]
        if self.shape is not None:
            facts.append(f"shape={list(self.shape)}")
        if self.dtype:
            facts.append(f"dtype={self.dtype}")
        if self.min is not None and self.max is not None:
            facts.append(f"range=[{self.min:.4g}, {self.max:.4g}]")
        if self.length is not None:
            facts.append(f"len={self.length}")
        if self.preview:
            facts.append(f"value={self.preview}")
        return f"{self.name}: " + ", ".join(facts)


class ShownImage(msgspec.Struct, frozen=True, kw_only=True):
    """An image the cell registered with `show()`."""

    png: bytes
    caption: str = ""


class SubmittedAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """What `ReturnAnswer` received in this cell."""

    text: str
    valid: bool
    message: str = ""
    """Why it is invalid (and what is expected), when it is."""


class CellResult(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one cell produced."""

    status: CellStatus
    stdout: str = ""
    stderr: str = ""
    stdout_cut_chars: int = 0
    """Characters removed from the middle of stdout by the output limit."""
    error: CellError | None = None
    duration_s: float = 0.0
    variables: tuple[VariableSummary, ...] = ()
    images: tuple[ShownImage, ...] = ()
    images_dropped: int = 0
    answer: SubmittedAnswer | None = None
    tool_failures: tuple[str, ...] = ()
    """Infrastructure failures the cell's tool calls met (perception server unreachable, not answering,
    or its batch failed): the episode's evidence is incomplete, so it ends as an error, not a score."""


class CellReport(msgspec.Struct, frozen=True, kw_only=True):
    """What the in-kernel hook publishes after each cell, besides the streamed output."""

    variables: tuple[VariableSummary, ...] = ()
    variables_omitted: int = 0
    images: tuple[ShownImage, ...] = ()
    images_dropped: int = 0
    answer: SubmittedAnswer | None = None
    error_lineno: int | None = None
    tool_failures: tuple[str, ...] = ()
    """Infrastructure failures of tool calls during the cell (see `CellResult.tool_failures`)."""
