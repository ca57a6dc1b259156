"""Where a run's episodes execute: the seam between `run_eval` (run directory, resume set, suite, sinks,
`RunStarted`/`RunFinished`, summary) and the place episodes run. The default is this process
(`claw.runtime.local.LocalExecutor`: helper services, kernel pool, episodes under `[limits]`);
`claw.distributed.RayExecutor` runs them on Ray workers and feeds their events into the same bus.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol

import anyio

from claw.errors import ServiceError
from claw.runtime.bus import Bus
from claw.runtime.episode_task import Tally
from claw.suite import Suite

if TYPE_CHECKING:
    from claw.runtime.layout import RunLayout

__all__ = ["EpisodeExecutor", "RunEpisodes"]

RunEpisodes = Callable[[Suite, Tally, set[str], anyio.Event | None], Awaitable[ServiceError | None]]
"""Run every episode of `suite` whose id is not in the finished set, updating the tally, until done or
until the stop event is set; return the error of a helper service whose loss ended the run early."""


class EpisodeExecutor(Protocol):
    """Opens what episodes need (services, workers) for one run and yields the function that runs them."""

    def open(self, layout: RunLayout, bus: Bus) -> AbstractAsyncContextManager[RunEpisodes]:
        """Start the services or workers; closing stops them (episodes still running are cancelled)."""
        ...
