"""`claw tail`: read a run's `events.jsonl`, decode every line with `claw.events`, filter, and render one
short line per event; optionally follow the file as it grows (until `RunFinished`), woken by inotify when
the writer appends rather than by a timer."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import msgspec

from claw._inotify import FileWatch
from claw.errors import ClawError
from claw.events import (
    CellExecuted,
    CellProposed,
    EpisodeFinished,
    Event,
    LLMResponded,
    ObservationMade,
    RunFinished,
    decode_event,
)

__all__ = ["render_event", "tail_events"]


def _kind(event: Event) -> str:
    return type(event).__struct_config__.tag or type(event).__name__  # type: ignore[return-value]


def _first_line(text: str, limit: int = 100) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _detail(event: Event) -> str:
    match event:
        case CellProposed(code=code):
            return _first_line(code)
        case CellExecuted(status=status, duration_s=d, error_type=err):
            return f"{status} {d:.2f}s" + (f" {err}" if err else "")
        case LLMResponded(role=role, prompt_tokens=p, completion_tokens=c, latency_s=lat):
            return f"{role} {p}+{c} tok {lat:.2f}s"
        case ObservationMade(text=text):
            return _first_line(text.split("\n", 1)[-1])
        case EpisodeFinished(answer=a, ground_truth=gt, score=s, reason=r):
            return f"answer={a!r} truth={gt!r} score={s:.2f} ({r})"
        case RunFinished(status=status, episodes=n, accuracy=acc):
            return f"{status} episodes={n} accuracy={acc:.3f}"
    return ""


def render_event(event: Event) -> str:
    """One line: wall time, episode, step, event type and the essentials."""
    episode = event.episode_id or "-"
    return f"{event.t_wall:.3f} {episode} #{event.step} {_kind(event)} {_detail(event)}".rstrip()


def _wanted(event: Event, episode: str | None, kinds: list[str] | None) -> bool:
    if episode and episode not in (event.episode_id or ""):
        return False
    return not kinds or _kind(event) in kinds


async def tail_events(
    run_dir: Path, *, follow: bool = False, episode: str | None = None, kinds: list[str] | None = None
) -> AsyncIterator[str]:
    """Rendered lines of the run's events; with `follow`, keep reading until the run finishes.

    Raises:
        ClawError: there is no event log, or a line is not a claw event.
    """
    path = run_dir / "events.jsonl"
    if not await anyio.Path(path).exists():
        raise ClawError(f"no event log at {path}; pass a run directory made by `claw eval`")
    with FileWatch(path) if follow else contextlib.nullcontext() as watch:
        async with await anyio.open_file(path, "rb") as handle:
            pending = b""
            while True:
                chunk = await handle.read()
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for number, line in enumerate(lines, start=1):
                    event = _decode(line, path, number)
                    if _wanted(event, episode, kinds):
                        yield render_event(event)
                    if isinstance(event, RunFinished) and follow:
                        return
                if watch is None:
                    return
                if not chunk:
                    await watch.changed()  # sleeps until the writer appends: no polling


def _decode(line: bytes, path: Path, number: int) -> Event:
    try:
        return decode_event(line)
    except msgspec.DecodeError as exc:
        raise ClawError(f"{path}: line {number} is not a claw event ({exc})") from None
