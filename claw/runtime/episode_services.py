"""What one episode needs from the outside (`EpisodeServices`: a chat transport, a kernel, the cell
checker, the event sink, the scorer, the agent settings, a clock) and what it hands back
(`EpisodeOutcome`). The driver owns none of these, so it runs against in-tree fakes in tests and against
real servers in `claw eval` alike.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

import msgspec

from claw.config import AgentConfig
from claw.events import Event
from claw.llm.types import ChatTransport
from claw.sandbox.types import Kernel
from claw.suite import Sample, Score

__all__ = ["CellChecker", "EpisodeOutcome", "EpisodeServices", "Verdict"]


class Verdict(Protocol):
    """What a cell checker reports about a rejected cell (e.g. `claw.sandbox.Violation`)."""

    @property
    def rule(self) -> str:
        """Stable rule id."""
        ...

    @property
    def lineno(self) -> int:
        """Line of the cell that broke the rule."""
        ...

    @property
    def message(self) -> str:
        """What was wrong."""
        ...

    @property
    def hint(self) -> str:
        """What to do instead."""
        ...


CellChecker = Callable[[str], Verdict | None]


class EpisodeServices(msgspec.Struct, frozen=True, kw_only=True):
    """What one episode needs from the outside."""

    run_id: str
    llm: ChatTransport
    kernel: Kernel
    check: CellChecker
    emit: Callable[[Event], Awaitable[None]]
    score: Callable[[Sample, str | None], Score]
    agent: AgentConfig
    clock: Callable[[], float] = time.monotonic
    replace_kernel: Callable[[], Awaitable[Kernel]] | None = None
    """Checks out a fresh kernel when the episode's kernel dies (None: episodes end instead)."""
    run_dir: Path | None = None
    """The run directory: shown images are written under its `media/` (None: recorded by digest only)."""
    subcall_tokens: Callable[[str], int] | None = None
    """Takes the tokens the episode's kernel spent on `vlm` calls since the last take (counted with the
    next model reply, towards the token budget)."""
    subcall_failures: Callable[[str], tuple[str, ...]] | None = None
    """Takes the infrastructure failures the episode's `vlm` calls met since the last take (the model
    endpoint behind them failed); any makes the episode an `error`."""


class EpisodeOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """How the episode ended."""

    answer: str | None
    reason: str
    score: Score
    steps: int
