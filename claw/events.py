"""Every event claw emits, as one msgspec tagged union, and the shared JSON-lines codec.

An event is a frozen Struct whose tag (field `event`) is its snake_case class name. Every event carries
`run_id`, `episode_id` (None for run-level events), `step`, `t_mono` and `t_wall`, and `format_version`.
`events.jsonl` opens with `RunStarted` and ends with `RunFinished`; a log without `RunFinished` is a run
that crashed, which is how resume knows to look for unfinished episodes.

Schema evolution (msgspec's rule): new fields get defaults, existing fields are never retyped or
renamed, and `FORMAT_VERSION` goes up when the meaning of a field changes. The line of `results.jsonl`
(`EpisodeResult`, `decode_result`) is defined in `claw.results` and re-exported here.
"""

from __future__ import annotations

import re
import time
from typing import Literal, TypedDict

import msgspec

from claw._format import FORMAT_VERSION as FORMAT_VERSION
from claw.recorded import RecordedImage, RecordedMessage, RecordedText, RecordedToolCall
from claw.results import EpisodeResult as EpisodeResult
from claw.results import decode_result as decode_result

__all__ = [
    "FORMAT_VERSION",
    "AnswerSubmitted",
    "CellChecked",
    "CellExecuted",
    "CellProposed",
    "EpisodeFailed",
    "EpisodeFinished",
    "EpisodeResult",
    "EpisodeStarted",
    "Event",
    "KernelFailed",
    "KeyFramesChosen",
    "LLMFailed",
    "LLMRequested",
    "LLMResponded",
    "ObservationMade",
    "PlanMade",
    "RecordedImage",
    "RecordedMessage",
    "RecordedText",
    "RecordedToolCall",
    "ResponseMalformed",
    "RunFinished",
    "RunStarted",
    "RunStatus",
    "Stamp",
    "decode_event",
    "decode_result",
    "encode_line",
    "stamp",
]

RunStatus = Literal["success", "cancelled", "error"]
"""How a run ended: every episode done, stopped by the user, or stopped by a failure of the runtime."""


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("l_l_m", "llm")


class _EventBase(msgspec.Struct, frozen=True, kw_only=True, tag_field="event", tag=_snake):
    run_id: str
    """The run this event belongs to."""
    episode_id: str | None = None
    """The episode, or None for run-level events."""
    step: int = 0
    """Code-turn index within the episode (0-based); 0 for events before the first turn."""
    t_mono: float = 0.0
    """`time.monotonic()` when the event was made: for durations within one process."""
    t_wall: float = 0.0
    """Unix time when the event was made."""
    format_version: int = FORMAT_VERSION


class RunStarted(_EventBase, frozen=True, kw_only=True):
    """A run began (or resumed)."""

    suite: str
    claw_version: str
    config: dict[str, object]
    """The full resolved config, as plain JSON."""
    resumed_episodes: int = 0
    """Episodes already finished in this run directory and skipped."""


class EpisodeStarted(_EventBase, frozen=True, kw_only=True):
    """An episode took a kernel and is about to plan."""

    sample_id: str
    suite: str
    category: str
    question: str
    answer_format: str
    interface: str = "code"
    kernel_id: str | None = None


class LLMRequested(_EventBase, frozen=True, kw_only=True):
    """A chat request was sent.

    The request's messages are recorded as a delta on the previous request of the same `thread`: the
    first `base` messages of that request, then `appended`. When `base` equals the previous request's
    length the transcript grew append-only (the prefix cache can hit); `claw transcript` rebuilds every
    request exactly from these deltas.
    """

    role: str
    n_messages: int
    n_images: int = 0
    thread: str = ""
    """The conversation this request belongs to: `agent`, `planner` or `vlm_ask` ('' in old logs)."""
    base: int = 0
    """How many leading messages of the thread's previous request this request repeats unchanged."""
    appended: list[RecordedMessage] = msgspec.field(default_factory=list)
    """The messages after those `base` messages."""
    tools: list[str] = msgspec.field(default_factory=list)
    """Names of the function tools offered with the request (the `tool-call` interface)."""


class LLMResponded(_EventBase, frozen=True, kw_only=True):
    """A chat request completed."""

    role: str
    endpoint: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    latency_s: float
    attempts: int = 1
    finish_reason: str = "stop"
    content: str = ""
    """The reply text exactly as the model wrote it."""
    reasoning: str = ""
    """The model's reasoning, kept apart from `content` (a separate server field or a `<think>` block);
    never parsed as code."""
    tool_calls: list[RecordedToolCall] = msgspec.field(default_factory=list)


class KeyFramesChosen(_EventBase, frozen=True, kw_only=True):
    """The frames sent to the model with the question, in the order sent."""

    frames: list[RecordedImage]


class LLMFailed(_EventBase, frozen=True, kw_only=True):
    """A chat request failed after its retries."""

    role: str
    error_type: str
    message: str
    endpoint: str | None = None


class PlanMade(_EventBase, frozen=True, kw_only=True):
    """The planner returned a plan (text only; it saw no images)."""

    plan: str


class CellProposed(_EventBase, frozen=True, kw_only=True):
    """The agent's response parsed into its sections and one cell."""

    purpose: str
    reasoning: str
    next_goal: str
    code: str


class ResponseMalformed(_EventBase, frozen=True, kw_only=True):
    """The agent's response could not be parsed; a corrective observation follows."""

    reason: str
    raw_chars: int


class CellChecked(_EventBase, frozen=True, kw_only=True):
    """The AST policy judged the cell."""

    ok: bool
    rule: str | None = None
    lineno: int | None = None
    message: str = ""


class CellExecuted(_EventBase, frozen=True, kw_only=True):
    """A cell ran in the kernel."""

    status: Literal["ok", "error", "timeout", "rejected", "died"]
    duration_s: float
    stdout: str = ""
    stderr: str = ""
    error_type: str | None = None
    error_message: str | None = None
    n_images: int = 0
    variables: list[str] = msgspec.field(default_factory=list)
    traceback: str = ""
    images: list[RecordedImage] = msgspec.field(default_factory=list)
    """The images the cell showed, written under `media/`."""
    variable_notes: list[str] = msgspec.field(default_factory=list)
    """One line per new or changed variable: name, type, shape, dtype, range."""
    tool_failures: list[str] = msgspec.field(default_factory=list)
    """Infrastructure failures the cell's tool calls met; the episode then ends in `error`."""


class KernelFailed(_EventBase, frozen=True, kw_only=True):
    """The episode's kernel died; the pool replaced it."""

    kernel_id: str
    message: str


class ObservationMade(_EventBase, frozen=True, kw_only=True):
    """The next user message was built from the cell's results."""

    text: str
    n_images: int = 0


class AnswerSubmitted(_EventBase, frozen=True, kw_only=True):
    """An answer was submitted (by `ReturnAnswer`, or by the forced final turn)."""

    answer: str
    valid: bool
    forced: bool = False
    message: str = ""


class EpisodeFinished(_EventBase, frozen=True, kw_only=True):
    """An episode ended with a scored answer (possibly empty)."""

    sample_id: str
    category: str
    answer: str | None
    ground_truth: str
    score: float
    metric: str
    reason: Literal["answered", "forced", "budget", "error"]
    steps: int
    duration_s: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    suite: str = ""
    """The sample's own suite (inside a composite suite such as paper20, the benchmark it came from)."""


class EpisodeFailed(_EventBase, frozen=True, kw_only=True):
    """An episode the runtime could not end normally (its wall-clock limit, its kernel restarts spent, a
    bug in the runtime; not the model's code); it is recorded in `results.jsonl` as an `error` with
    `error_type`, and the run goes on."""

    sample_id: str
    error_type: str
    message: str
    traceback: str = ""
    suite: str = ""
    category: str = ""
    ground_truth: str = ""
    duration_s: float = 0.0


class RunFinished(_EventBase, frozen=True, kw_only=True):
    """A run ended."""

    status: RunStatus
    episodes: int
    failed: int
    accuracy: float
    duration_s: float


Event = (
    RunStarted
    | EpisodeStarted
    | KeyFramesChosen
    | LLMRequested
    | LLMResponded
    | LLMFailed
    | PlanMade
    | CellProposed
    | ResponseMalformed
    | CellChecked
    | CellExecuted
    | KernelFailed
    | ObservationMade
    | AnswerSubmitted
    | EpisodeFinished
    | EpisodeFailed
    | RunFinished
)


class Stamp(TypedDict):
    """The fields every event carries. Spread into an event's constructor, `CellChecked(**stamp(...),
    ok=True)`, so mypy checks every other field of the event by name and type."""

    run_id: str
    episode_id: str | None
    step: int
    t_mono: float
    t_wall: float


def stamp(run_id: str, *, episode_id: str | None = None, step: int = 0, t_mono: float | None = None) -> Stamp:
    """The stamp of an event made now: `t_mono` (default `time.monotonic()`) and the wall time."""
    mono = time.monotonic() if t_mono is None else t_mono
    return Stamp(run_id=run_id, episode_id=episode_id, step=step, t_mono=mono, t_wall=time.time())


_encoder = msgspec.json.Encoder()
_event_decoder = msgspec.json.Decoder(Event)


def encode_line(record: Event | EpisodeResult) -> bytes:
    """One JSON line (with trailing newline) for an event or a result."""
    return _encoder.encode(record) + b"\n"


def decode_event(line: bytes | str) -> Event:
    """Decode one line of `events.jsonl`.

    Raises:
        msgspec.DecodeError: the line is not a known event.
    """
    event: Event = _event_decoder.decode(line)
    return event
