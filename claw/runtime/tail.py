"""`claw tail`: read a run's `events.jsonl`, decode every line with `claw.events`, filter, and render one
short line per event; optionally follow the file as it grows (until `RunFinished`), woken by inotify when
the writer appends rather than by a timer."""

from __future__ import annotations

import contextlib
import difflib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import get_args

import anyio
import msgspec

from claw._inotify import FileWatch
from claw._text import printable
from claw.errors import ClawError
from claw.events import (
    AnswerSubmitted,
    CellChecked,
    CellExecuted,
    CellProposed,
    EpisodeFailed,
    EpisodeFinished,
    EpisodeStarted,
    Event,
    KernelFailed,
    LLMFailed,
    LLMResponded,
    ObservationMade,
    ResponseMalformed,
    RunFinished,
    decode_event,
)

__all__ = ["EVENT_NAMES", "check_event_names", "render_event", "tail_events"]

EVENT_NAMES: tuple[str, ...] = tuple(sorted(str(t.__struct_config__.tag) for t in get_args(Event)))
"""Every event type's name, as `--event` takes it."""


def _kind(event: Event) -> str:
    return type(event).__struct_config__.tag or type(event).__name__  # type: ignore[return-value]


def _first_line(text: str, limit: int = 100) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def check_event_names(names: list[str] | None) -> None:
    """Refuse event names that no event has, suggesting the closest.

    Raises:
        ClawError: a name is unknown (the message lists the valid names).
    """
    for name in names or ():
        if name not in EVENT_NAMES:
            close = difflib.get_close_matches(name, EVENT_NAMES, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ClawError(f"no event is named {name!r}; {hint}event names: {', '.join(EVENT_NAMES)}")


def _failure_detail(event: Event) -> str | None:
    match event:
        case LLMFailed(role=role, error_type=kind, message=message):
            return f"{role} {kind}: {_first_line(message)}"
        case EpisodeFailed(error_type=kind, message=message):
            return f"{kind}: {_first_line(message)}"
        case KernelFailed(message=message):
            return _first_line(message)
        case CellChecked(ok=False, rule=rule, message=message):
            return f"rejected {rule}: {_first_line(message)}"
        case ResponseMalformed(reason=reason):
            return _first_line(reason)
    return None


def _detail(event: Event) -> str:
    failure = _failure_detail(event)
    if failure is not None:
        return failure
    match event:
        case EpisodeStarted(category=category, question=question):
            return f"[{category}] {_first_line(question, 140)}"
        case AnswerSubmitted(answer=answer, valid=valid, forced=forced):
            return f"{answer!r}" + (" forced" if forced else "") + ("" if valid else " (invalid)")
        case CellProposed(code=code):
            return _first_line(code)
        case CellExecuted(status=status, duration_s=d, error_type=err, error_message=message):
            return f"{status} {d:.2f}s" + (f" {err}: {_first_line(message or '')}" if err else "")
        case LLMResponded(role=role, prompt_tokens=p, completion_tokens=c, latency_s=lat):
            return f"{role} {p}+{c} tok {lat:.2f}s"
        case ObservationMade(text=text):
            return _first_line(text.split("\n", 1)[-1])
        case EpisodeFinished(answer=a, ground_truth=gt, score=s, reason=r):
            return f"answer={a!r} truth={gt!r} score={s:.2f} ({r})"
        case RunFinished(status=status, episodes=n, accuracy=acc):
            return f"{status} episodes={n} accuracy={acc:.3f}"
    return ""


def _when(t_wall: float, origin: float | None) -> str:
    if origin is not None:
        return f"+{t_wall - origin:9.3f}s"
    return time.strftime("%H:%M:%S", time.localtime(t_wall)) + f".{int(t_wall * 1000) % 1000:03d}"


def render_event(event: Event, *, origin: float | None = None) -> str:
    """One line: the time (of day, or seconds since `origin`), episode, step, event type, essentials."""
    episode = event.episode_id or "-"
    when = _when(event.t_wall, origin)
    # Model replies and cell output reach the terminal: no control sequence may pass (claw._text).
    return printable(f"{when} {episode} #{event.step} {_kind(event)} {_detail(event)}".rstrip())


def _wanted(event: Event, episode: str | None, kinds: list[str] | None) -> bool:
    if episode and episode not in (event.episode_id or ""):
        return False
    return not kinds or _kind(event) in kinds


async def tail_events(
    run_dir: Path,
    *,
    follow: bool = False,
    episode: str | None = None,
    kinds: list[str] | None = None,
    relative: bool = False,
) -> AsyncIterator[str]:
    """Rendered lines of the run's events; with `follow`, keep reading until the run finishes. With
    `relative`, times are seconds since the first event, else the wall-clock time of day.

    Raises:
        ClawError: an unknown event name, no event log, or a line that is not a claw event.
    """
    check_event_names(kinds)
    origin: float | None = None
    path = run_dir / "events.jsonl"
    if not await anyio.Path(path).exists():
        if not follow:
            raise ClawError(f"no event log at {path}; pass a run directory made by `claw eval`")
        await _until_exists(path)
    with FileWatch(path) if follow else contextlib.nullcontext() as watch:
        async with await anyio.open_file(path, "rb") as handle:
            pending = b""
            while True:
                chunk = await handle.read()
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for number, line in enumerate(lines, start=1):
                    event = _decode(line, path, number)
                    if relative and origin is None:
                        origin = event.t_wall
                    if _wanted(event, episode, kinds):
                        yield render_event(event, origin=origin)
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


_APPEAR_POLL_S = 0.25
"""How often `claw tail -f` looks for a log that is not there yet (a stat: nothing to watch before the
run directory exists)."""


async def _until_exists(path: Path) -> None:
    """Wait for a run that has not written its log yet (`claw tail -f` started before `claw eval`)."""
    while True:  # nothing to watch with inotify until the run directory exists
        if await anyio.Path(path).exists():
            return
        await anyio.sleep(_APPEAR_POLL_S)
