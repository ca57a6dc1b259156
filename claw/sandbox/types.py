"""What crosses the kernel boundary, as typed records: the episode's `KernelSetup` going in, and the
`CellResult` coming out of every cell; plus the `Kernel` protocol the pool and the episode work against.
"""

from __future__ import annotations

from typing import Literal, Protocol

import msgspec

from claw.suite import AnswerFormat, MetaValue, Video

__all__ = [
    "CellError",
    "CellResult",
    "CellStatus",
    "Kernel",
    "KernelSetup",
    "ShownImage",
    "SubmittedAnswer",
    "VariableSummary",
]

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


class Kernel(Protocol):
    """One live kernel, owned by exactly one episode at a time."""

    @property
    def kernel_id(self) -> str:
        """Stable id for logs and events."""
        ...

    async def execute(self, code: str, *, timeout: float) -> CellResult:
        """Run `code` as one cell and collect what it produced.

        A timed-out cell comes back with status `timeout` (namespace kept when the interrupt worked); a
        kernel that died comes back with status `died`. Never raises for anything the cell did.

        Raises:
            KernelDied: the kernel was already dead before the cell was sent.
        """
        ...
