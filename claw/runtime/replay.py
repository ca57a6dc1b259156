"""`claw replay`: run recorded episodes again, in fresh kernels, with the model's recorded replies, and say
where the cells' outputs differ from the recording (a determinism check); or replay up to step K and go
on live with the configured model from there, into a new run directory (branching a run at one step).

The replay is an ordinary run (`run_eval`) of the same config restricted to the episodes' samples, whose
model transport answers each request from the recording (`ReplayTransport`, keyed by episode and role)
and, when branching, hands every later request to the live model. Everything else (suite, perception,
kernels, policy, prompts) is the real code path, so a difference is a real non-determinism.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

import anyio
import msgspec

from claw.config import EvalConfig
from claw.errors import ClawError, LLMBadResponse
from claw.events import CellExecuted, EpisodeFinished, EpisodeStarted, Event
from claw.llm.types import ChatRequest, ChatResponse, ChatTransport, FunctionCall, ToolCall, Usage
from claw.runtime.runner import run_eval
from claw.runtime.transcript import Exchange, exchanges, read_events

__all__ = [
    "EpisodeComparison",
    "ReplayResult",
    "ReplayTransport",
    "compare_episode",
    "episode_samples",
    "recorded_exchanges",
    "replay_config",
    "replay_run",
]


class ReplayTransport:
    """Answers each request from the recorded exchanges of its episode (`session_id`) and role, in order;
    once those run out, from `live` (or, without one, with an error saying the replay diverged)."""

    def __init__(self, recorded: dict[tuple[str, str], list[Exchange]], live: ChatTransport | None) -> None:
        self._queues = {key: deque(items) for key, items in recorded.items()}
        self._live = live
        self.replayed = 0
        self.live_requests = 0

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """The recorded reply, or the live model's once the recording is used up.

        Raises:
            LLMError: the recording holds a failure here, or it is used up and there is no live model.
        """
        queue = self._queues.get((request.session_id or "", request.role))
        if queue:
            self.replayed += 1
            return _recorded_response(queue.popleft())
        if self._live is None:
            raise LLMBadResponse(
                f"the replay of {request.session_id} asked for more {request.role} replies than were "
                "recorded (its cells' outputs diverged from the recording)",
                endpoint="replay",
            )
        self.live_requests += 1
        return await self._live.complete(request)

    async def aclose(self) -> None:
        """Nothing to release: the live transport belongs to the run that opened it."""


def _recorded_response(exchange: Exchange) -> ChatResponse:
    if exchange.failure is not None:
        raise LLMBadResponse(f"(recorded failure) {exchange.failure.message}", endpoint="replay")
    reply = exchange.reply
    if reply is None:
        raise LLMBadResponse("the recording has a request without a reply here", endpoint="replay")
    calls = [
        ToolCall(id=c.id, function=FunctionCall(name=c.name, arguments=c.arguments)) for c in reply.tool_calls
    ]
    usage = Usage(
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
        cached_tokens=reply.cached_tokens,
    )
    return ChatResponse(
        content=reply.content, usage=usage, endpoint="replay", latency_s=0.0,
        finish_reason=reply.finish_reason, tool_calls=calls, reasoning=reply.reasoning,
    )  # fmt: skip


def _request_role(event_role: str) -> str:
    """The role the request went out under: every `vlm` sub-call kind (`vlm_ask`, `vlm_locate`, …) is
    sent to the `vlm_ask` model role."""
    return "vlm_ask" if event_role.startswith("vlm_") else event_role


def recorded_exchanges(
    events: Sequence[Event], episodes: Sequence[str], *, before_step: int | None = None
) -> dict[tuple[str, str], list[Exchange]]:
    """Per (episode, role), the recorded exchanges to replay (only those of steps before `before_step`)."""
    keyed: dict[tuple[str, str], list[Exchange]] = {}
    for episode in episodes:
        for item in exchanges(e for e in events if e.episode_id == episode):
            if before_step is None or item.step < before_step:
                keyed.setdefault((episode, _request_role(item.role)), []).append(item)
    return keyed


def replay_config(run_dir: Path, out_dir: Path, sample_ids: Sequence[str]) -> EvalConfig:
    """The recorded run's config, restricted to `sample_ids` and writing into `out_dir`.

    Raises:
        ClawError: `run_dir` has no readable `config.json`.
    """
    path = run_dir / "config.json"
    try:
        config = msgspec.json.decode(path.read_bytes(), type=EvalConfig)
    except (OSError, msgspec.DecodeError) as exc:
        raise ClawError(f"cannot read {path} ({exc}); pass a run directory made by `claw eval`") from None
    return msgspec.structs.replace(config, run_dir=str(out_dir), run_id=None, samples=list(sample_ids))


class EpisodeComparison(msgspec.Struct, kw_only=True):
    """How one replayed episode compares with its recording."""

    episode_id: str
    cells: int
    """Cells compared."""
    differences: list[str]
    """One line per difference, first the step and the field."""

    @property
    def identical(self) -> bool:
        """Every compared cell, the answer and the score are the same."""
        return not self.differences


def _cells(events: Sequence[Event], episode: str) -> dict[int, CellExecuted]:
    return {e.step: e for e in events if isinstance(e, CellExecuted) and e.episode_id == episode}


def _finish(events: Sequence[Event], episode: str) -> EpisodeFinished | None:
    return next((e for e in events if isinstance(e, EpisodeFinished) and e.episode_id == episode), None)


def _first_difference(before: str, after: str) -> str:
    old, new = before.splitlines(), after.splitlines()
    if len(old) <= 1 and len(new) <= 1:
        return f"{before[:80]!r} → {after[:80]!r}"
    for number, (a, b) in enumerate(itertools.zip_longest(old, new), start=1):
        if a != b:
            shown = [repr(x[:80]) if x is not None else "(no line)" for x in (a, b)]
            return f"line {number}: {shown[0]} → {shown[1]}"
    return "only in line endings"


def _cell_differences(step: int, old: CellExecuted, new: CellExecuted) -> list[str]:
    out = []
    for field in ("status", "stdout", "stderr", "error_type", "error_message"):
        a, b = getattr(old, field), getattr(new, field)
        if a != b:
            detail = (
                _first_difference(a, b) if isinstance(a, str) and isinstance(b, str) else f"{a!r} → {b!r}"
            )
            out.append(f"step {step}: {field} differs: {detail}")
    if old.variable_notes != new.variable_notes:
        changed = sorted(set(old.variable_notes) ^ set(new.variable_notes))
        out.append(f"step {step}: variables differ: {changed[:3]}")
    if [i.sha256 for i in old.images] != [i.sha256 for i in new.images]:
        out.append(f"step {step}: shown images differ ({len(old.images)} → {len(new.images)} images)")
    return out


def compare_episode(
    original: Sequence[Event], replayed: Sequence[Event], episode: str, *, up_to_step: int | None = None
) -> EpisodeComparison:
    """Compare the cells (up to `up_to_step`, exclusive) and, for a full replay, the answer and score."""
    old, new = _cells(original, episode), _cells(replayed, episode)
    steps = sorted(s for s in old.keys() | new.keys() if up_to_step is None or s < up_to_step)
    differences: list[str] = []
    for step in steps:
        if step not in old or step not in new:
            differences.append(f"step {step}: ran only in the {'replay' if step in new else 'recording'}")
        else:
            differences += _cell_differences(step, old[step], new[step])
    if up_to_step is None:
        a, b = _finish(original, episode), _finish(replayed, episode)
        if (a and (a.answer, a.score)) != (b and (b.answer, b.score)):
            differences.append(f"outcome differs: {a and (a.answer, a.score)} → {b and (b.answer, b.score)}")
    return EpisodeComparison(episode_id=episode, cells=len(steps), differences=differences)


def episode_samples(run_dir: Path, wanted: Sequence[str]) -> dict[str, str]:
    """Episode id → sample id for the `wanted` episode ids (all episodes of the run when empty).

    Raises:
        ClawError: no event log, or a wanted episode never started in it.
    """
    started = {e.episode_id: e.sample_id for e in read_events(run_dir / "events.jsonl")
               if isinstance(e, EpisodeStarted) and e.episode_id}  # fmt: skip
    missing = [w for w in wanted if w not in started]
    if missing:
        raise ClawError(
            f"{run_dir} has no episode {missing[0]!r}; see `claw tail {run_dir} --event episode_started`"
        )
    return {e: started[e] for e in wanted} if wanted else started


class ReplayResult(msgspec.Struct, kw_only=True):
    """What a replay did."""

    out_dir: Path
    comparisons: list[EpisodeComparison]
    replayed_requests: int
    live_requests: int


def _events(path: Path) -> list[Event]:
    return list(read_events(path))


async def replay_run(
    run_dir: Path,
    episodes: Sequence[str],
    out_dir: Path,
    *,
    from_step: int | None = None,
    report: Callable[[str], None] = lambda _line: None,
) -> ReplayResult:
    """Replay `episodes` of `run_dir` (all when empty) into `out_dir` and compare them with the recording.

    With `from_step`, only the model replies of steps before it are replayed; from step `from_step` on the
    configured model answers, and the comparison covers the replayed steps.

    Raises:
        ClawError: the run directory cannot be read, an episode is unknown, or the replay run fails.
    """
    samples = await anyio.to_thread.run_sync(episode_samples, run_dir, list(episodes))
    original = await anyio.to_thread.run_sync(_events, run_dir / "events.jsonl")
    recorded = recorded_exchanges(original, list(samples), before_step=from_step)
    config = await anyio.to_thread.run_sync(replay_config, run_dir, out_dir, sorted(set(samples.values())))
    transports: list[ReplayTransport] = []

    def wrap(live: ChatTransport) -> ChatTransport:
        transports.append(ReplayTransport(recorded, live if from_step is not None else None))
        return transports[-1]

    await run_eval(config, report=report, wrap_llm=wrap)
    replayed = await anyio.to_thread.run_sync(_events, out_dir / "events.jsonl")
    comparisons = [compare_episode(original, replayed, e, up_to_step=from_step) for e in samples]
    transport = transports[0]
    return ReplayResult(out_dir=out_dir, comparisons=comparisons, replayed_requests=transport.replayed,
                        live_requests=transport.live_requests)  # fmt: skip
