"""The `Kernel` protocol the pool and the episode work against, and the pool's `PoolStatistics`; the
records a kernel takes and returns live in `claw.wire.kernel`.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from claw.wire.kernel import CellResult

__all__ = ["Kernel", "PoolStatistics"]


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


class PoolStatistics(msgspec.Struct, frozen=True, kw_only=True):
    """A snapshot of the pool."""

    size: int
    idle: int
    busy: int
    starting: int
    started: int
    """Kernels started since the pool opened."""
    replaced: int
    """Kernels discarded after an episode (or after dying) and replaced."""
    died: int
    """Kernels found dead (crashed, killed by a limit or after an ignored interrupt)."""
    confined: bool
    reused: int = 0
    """Kernels kept for another episode because theirs provably left them clean (reset, not forked); one
    whose reset then fails is replaced, and counted in `replaced` too."""
