"""How the command line shows a run's progress: a live display (rich) on a terminal, plain lines when
the output is a file or a pipe. Both take `ProgressSnapshot`s and status lines; neither is used by the
library itself (embedders get the snapshots and render them their own way)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

import msgspec
from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from claw.runtime.progress import ProgressSnapshot, format_progress

__all__ = ["ProgressView", "progress_view"]

PLAIN_EVERY_S = 5.0
"""At most one plain progress line per this many seconds (besides the last)."""


class ProgressView(msgspec.Struct, frozen=True):
    """Callbacks for `run_eval`: `report` for status lines, `progress` for snapshots."""

    report: Callable[[str], None]
    progress: Callable[[ProgressSnapshot], None]


def _counts(snapshot: ProgressSnapshot) -> tuple[int, ...]:
    s = snapshot
    return (s.done, s.errors, s.failed, s.forced, s.kernel_deaths)


class _PlainLines:
    """A line when the counts changed and `PLAIN_EVERY_S` passed, and a last one unless it would repeat."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._printed: tuple[int, ...] | None = None
        self._at = float("-inf")

    def report(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()

    def progress(self, snapshot: ProgressSnapshot) -> None:
        counts = _counts(snapshot)
        due = snapshot.elapsed_s - self._at >= PLAIN_EVERY_S and counts != self._printed
        if due or (snapshot.finished and counts != self._printed):
            self._printed, self._at = counts, snapshot.elapsed_s
            self.report(format_progress(snapshot))


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def render_snapshot(s: ProgressSnapshot) -> Group:
    """The live display: a bar with counts, rate and ETA, then tokens, requests and failure counts."""
    ended = s.done + s.errors + s.failed
    bar = ProgressBar(total=s.total or None, completed=ended, width=36)
    top = Table.grid(padding=(0, 2))
    timing = f"elapsed {_clock(s.elapsed_s)}  ETA {_clock(s.eta_s)}"
    top.add_row(bar, Text(f"{ended}/{s.total or '?'} episodes"), Text(f"accuracy {s.accuracy:.3f}"),
                Text(f"{s.rate:.2f} ep/s"), Text(timing))  # fmt: skip
    tokens = f"tokens {s.prompt_tokens:,} in + {s.completion_tokens:,} out"
    bad = f"forced {s.forced}  errors {s.errors}  failed {s.failed}  kernel deaths {s.kernel_deaths}"
    bottom = Text(f"{tokens}   requests in flight {s.requests_in_flight}   {bad}", style="dim")
    return Group(top, bottom)


@contextmanager
def _live(stream: TextIO) -> Iterator[ProgressView]:
    console = Console(file=stream)
    with Live(console=console, refresh_per_second=4, transient=False) as live:

        def progress(snapshot: ProgressSnapshot) -> None:
            live.update(render_snapshot(snapshot), refresh=snapshot.finished)

        yield ProgressView(report=lambda line: live.console.print(line, highlight=False), progress=progress)


@contextmanager
def progress_view(stream: TextIO, *, quiet: bool = False, live: bool | None = None) -> Iterator[ProgressView]:
    """The display for `stream`: live when it is a terminal (or `live`), plain lines otherwise, nothing
    but status lines when `quiet`."""
    if quiet:
        yield ProgressView(report=lambda _line: None, progress=lambda _snapshot: None)
        return
    if live if live is not None else stream.isatty():
        with _live(stream) as view:
            yield view
        return
    plain = _PlainLines(stream)
    yield ProgressView(report=plain.report, progress=plain.progress)
