"""The one state object of a kernel's bootstrap: what it resolved once per kernel (`prepare`), what it
was told once per episode (`install`) and what the current cell produced (reset before every cell by the
report hook). A kernel is one process serving one episode at a time, so there is exactly one: `STATE`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

from claw.wire.kernel import ShownImage, SubmittedAnswer

__all__ = ["STATE", "CellOutputs", "KernelState"]


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

    def begin_cell(self) -> None:
        """Forget the previous cell's images and answer."""
        self.cell = CellOutputs()


STATE = KernelState()
