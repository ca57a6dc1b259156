"""`Stacked`: the async-context-manager scaffolding the kernel launcher and the kernel pool share. A
subclass's `_open` enters everything it holds on `self._stack`; if opening fails part-way, what was already
entered is closed before the error propagates, and leaving the context closes all of it in reverse order.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from types import TracebackType
from typing import Self

__all__ = ["Stacked"]


class Stacked:
    """Base of an async context manager whose resources live on one exit stack."""

    def __init__(self) -> None:
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Self:
        try:
            await self._open()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()

    async def _open(self) -> None:
        """Enter the resources on `self._stack` (a subclass's job)."""
        raise NotImplementedError
