"""The one state object of a kernel: what the bootstrap resolved once per kernel (`prepare`), what it was
told once per episode (`install`: the answer format, the perception server and the `vlm` bridge to use),
the perception client's one connection and the infrastructure failures it met, and what the current cell
produced (reset before every cell by the report hook). A kernel is one process serving one episode at a
time, so there is exactly one: `STATE`.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

from claw.wire.kernel import ShownImage, SubmittedAnswer

__all__ = ["STATE", "CellOutputs", "ClientSettings", "KernelState"]


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Where the perception server is and how long to wait for it."""

    socket: str | None = None
    url: str | None = None
    token: str | None = None
    scene: str | None = None
    connect_timeout_s: float = 10.0
    request_timeout_s: float = 600.0
    fps: float | None = None

    @property
    def endpoint(self) -> str:
        """A human-readable name for the server, for error messages."""
        if self.socket is not None:
            return f"unix:{self.socket}"
        return self.url or "<not configured>"


@dataclass
class CellOutputs:
    """What the running cell has produced besides its streams."""

    images: list[ShownImage] = field(default_factory=list)
    images_dropped: int = 0
    answer: SubmittedAnswer | None = None


@dataclass
class KernelState:
    """Per-kernel bootstrap state."""

    tools_error: str | None = None
    """Why `claw.tools` failed to import in the template (raised at `install`, not at fork)."""
    prepared: bool = False
    vlm_module: ModuleType | None = None
    configure_client: Callable[..., None] | None = None
    configure_takes_fps: bool = False
    max_images: int = 4
    answer_format: str = "text"
    options: tuple[str, ...] = ()
    hidden: frozenset[str] = frozenset()
    """Names bound by the bootstrap, never reported as the cell's variables."""
    signatures: dict[str, tuple[object, ...]] = field(default_factory=dict)
    """Identity, type, shape and length of every reported variable after the last cell."""
    cell: CellOutputs = field(default_factory=CellOutputs)
    perception: ClientSettings = field(default_factory=ClientSettings)
    """Where the perception server is (`claw.tools._client.configure`)."""
    perception_connection: http.client.HTTPConnection | None = None
    """The perception client's one cached connection (the kernel is single-threaded)."""
    tool_failures: list[str] = field(default_factory=list)
    """Infrastructure failures the tools met since the per-cell report last drained them."""
    vlm_socket: str | None = None
    """The runtime's `vlm` bridge for this episode (`claw.tools.vlm.configure`)."""
    vlm_episode_id: str = ""

    def begin_cell(self) -> None:
        """Forget the previous cell's images and answer."""
        self.cell = CellOutputs()


STATE = KernelState()
