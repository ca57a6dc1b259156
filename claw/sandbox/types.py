"""The `Kernel` protocol the pool and the episode work against; the records a kernel takes and returns
live in `claw.wire.kernel`.
"""

from __future__ import annotations

from typing import Protocol

from claw.wire.kernel import CellResult

__all__ = ["Kernel"]


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
