"""The I/O shell around `episode.advance`: performs each action (model call, policy check, cell run,
kernel restart), feeds the outcome back in, and emits one typed event per transition. It records what the
actions carry (the parsed step, the rendered observation) and never parses a reply or renders a prompt
itself.

Everything the shell touches is passed in (`EpisodeServices`): a chat transport, a kernel, the cell
checker, the event sink and a clock. The shell itself owns nothing, so it can run against in-process fakes
in tests and against real servers in `claw eval` alike.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import msgspec

from claw.errors import LLMError, SandboxError
from claw.events import (
    AnswerSubmitted,
    CellChecked,
    CellExecuted,
    CellProposed,
    EpisodeFinished,
    EpisodeStarted,
    Event,
    KernelFailed,
    KeyFramesChosen,
    LLMRequested,
    ObservationMade,
    PlanMade,
    ResponseMalformed,
    Stamp,
    stamp,
)
from claw.llm.images import bytes_data_url
from claw.llm.types import ChatRequest, ChatResponse, ImagePart, Message
from claw.runtime.episode import (
    Action,
    Begin,
    CallModel,
    CellFinished,
    CellJudged,
    CheckCell,
    EpisodeState,
    Finish,
    Happened,
    KernelRestarted,
    ModelFailed,
    ModelReplied,
    RecordMalformed,
    RecordObservation,
    RestartKernel,
    RunCell,
    advance,
    initial_state,
)
from claw.runtime.episode_services import EpisodeOutcome, EpisodeServices
from claw.runtime.llm_events import llm_failed, llm_responded
from claw.runtime.record import TranscriptRecorder
from claw.sandbox.types import Kernel
from claw.suite import Sample, key_frames
from claw.wire.kernel import CellResult

__all__ = ["run_episode"]


_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def _key_frame_urls(sample: Sample, per_video: int | None, recorder: TranscriptRecorder) -> list[str]:
    """The key frames as data URLs; each is noted in `recorder` under its file."""
    urls = []
    for path in (Path(k.frame.path) for k in key_frames(sample, per_video)):
        data, mime = path.read_bytes(), _MIME.get(path.suffix.lower(), "image/png")
        urls.append(bytes_data_url(data, mime))
        recorder.note_file(urls[-1], path, data, mime)
    return urls


class _Episode:
    """Mutable bookkeeping for one run of the shell (the decisions live in `EpisodeState`)."""

    def __init__(self, sample: Sample, episode_id: str, services: EpisodeServices) -> None:
        self.sample, self.episode_id, self.s = sample, episode_id, services
        agent = services.agent
        restart = agent.on_kernel_death == "restart" and services.replace_kernel is not None
        self.state: EpisodeState = initial_state(
            agent.interface, agent.max_steps, agent.token_budget, restart_dead_kernels=restart
        )
        self.kernel: Kernel = services.kernel
        self.recorder = TranscriptRecorder(services.run_dir, episode_id)
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.tool_failures = 0
        """Tool calls that met an infrastructure failure; any makes the episode an `error`."""

    def stamp(self, *, step: int | None = None) -> Stamp:
        """The stamp of an event of this episode at the current step, or at `step` when an action names
        its turn."""
        at = self.state.step if step is None else step
        return stamp(self.s.run_id, episode_id=self.episode_id, step=at, t_mono=self.s.clock())

    async def emit(self, event: Event) -> None:
        await self.s.emit(event)

    async def feed(self, happened: Happened) -> list[Action]:
        self.state, actions = advance(self.state, happened)
        return actions


async def run_episode(sample: Sample, episode_id: str, services: EpisodeServices) -> EpisodeOutcome:
    """Run one episode to its end and emit its events (`EpisodeStarted` … `EpisodeFinished`).

    Raises:
        ClawError: only for failures of the runtime itself (the caller records `EpisodeFailed`); what the
            model or its code does wrong becomes observations, not exceptions.
    """
    ep = _Episode(sample, episode_id, services)
    started = services.clock()
    await ep.emit(
        EpisodeStarted(
            **ep.stamp(),
            sample_id=sample.id,
            suite=sample.suite,
            category=sample.category,
            question=sample.question,
            answer_format=sample.answer_format,
            interface=services.agent.interface,
            kernel_id=services.kernel.kernel_id,
        )
    )
    actions = await ep.feed(await _begin(ep))
    while actions:
        action = actions.pop(0)
        if isinstance(action, Finish):
            return await _finish(ep, action, started)
        happened = await _perform(ep, action)
        if happened is not None:
            actions.extend(await ep.feed(happened))
    raise AssertionError("the episode state machine stopped without finishing")


async def _begin(ep: _Episode) -> Begin:
    sample, agent = ep.sample, ep.s.agent
    if agent.key_frames is not None:  # the run's count replaces the benchmark's, for images and map alike
        sample = msgspec.structs.replace(sample, key_frames=agent.key_frames)
    urls = await anyio.to_thread.run_sync(_key_frame_urls, sample, None, ep.recorder)
    await ep.emit(KeyFramesChosen(**ep.stamp(), frames=[ep.recorder.image_for(u) for u in urls]))
    return Begin(sample=sample, image_urls=tuple(urls), plan=agent.plan)


async def _perform(ep: _Episode, action: Action) -> Happened | None:
    """Perform `action`; what happened, or None for an action that only records."""
    match action:
        case CallModel():
            return await _call_model(ep, action)
        case CheckCell():
            return await _check(ep, action)
        case RunCell(code=code):
            return await _run_cell(ep, code)
        case RestartKernel():
            return await _restart_kernel(ep)
        case RecordMalformed():
            await ep.emit(
                ResponseMalformed(
                    **ep.stamp(step=action.step), reason=action.reason, raw_chars=action.raw_chars
                )
            )
            return None
        case RecordObservation():
            await ep.emit(
                ObservationMade(**ep.stamp(step=action.step), text=action.text, n_images=action.n_images)
            )
            return None
    raise AssertionError(f"unexpected action {action!r}")


def _count_images(messages: tuple[Message, ...]) -> int:
    return sum(
        isinstance(part, ImagePart) for m in messages if not isinstance(m.content, str) for part in m.content
    )


async def _call_model(ep: _Episode, action: CallModel) -> Happened:
    base, appended = await ep.recorder.delta(action.role, action.messages)
    await ep.emit(
        LLMRequested(
            **ep.stamp(),
            role=action.role,
            n_messages=len(action.messages),
            n_images=_count_images(action.messages),
            thread=action.role,
            base=base,
            appended=appended,
            tools=[t.name for t in action.tools],
        )
    )
    try:
        response = await ep.s.llm.complete(_chat_request(ep, action))
    except LLMError as exc:
        await ep.emit(llm_failed(ep.stamp(), action.role, exc))
        return ModelFailed(error=exc.message)
    await _record_response(ep, action, response)
    if action.role == "planner":
        await ep.emit(PlanMade(**ep.stamp(), plan=response.content))
    tokens = response.usage.prompt_tokens + response.usage.completion_tokens
    if ep.s.subcall_tokens is not None:
        tokens += ep.s.subcall_tokens(ep.episode_id)
    return ModelReplied(text=response.content, tokens=tokens, tool_calls=tuple(response.tool_calls))


def _chat_request(ep: _Episode, action: CallModel) -> ChatRequest:
    agent = ep.s.agent
    return ChatRequest(
        role=action.role,
        messages=list(action.messages),
        max_tokens=agent.max_tokens,
        temperature=agent.temperature,
        session_id=ep.episode_id,
        tools=list(action.tools) or None,
    )


async def _record_response(ep: _Episode, action: CallModel, response: ChatResponse) -> None:
    ep.prompt_tokens += response.usage.prompt_tokens
    ep.completion_tokens += response.usage.completion_tokens
    await ep.emit(llm_responded(ep.stamp(), action.role, response))


async def _check(ep: _Episode, action: CheckCell) -> Happened:
    proposed = action.proposed
    await ep.emit(
        CellProposed(
            **ep.stamp(),
            purpose=proposed.purpose,
            reasoning=proposed.reasoning,
            next_goal=proposed.next_goal,
            code=proposed.code,
        )
    )
    verdict = ep.s.check(action.code)
    if verdict is None:
        await ep.emit(CellChecked(**ep.stamp(), ok=True))
        return CellJudged()
    await ep.emit(
        CellChecked(**ep.stamp(), ok=False, rule=verdict.rule, lineno=verdict.lineno, message=verdict.message)
    )
    return CellJudged(rule=verdict.rule, lineno=verdict.lineno, message=verdict.message, hint=verdict.hint)


async def _run_cell(ep: _Episode, code: str) -> Happened:
    result: CellResult = await ep.kernel.execute(code, timeout=ep.s.agent.cell_timeout_s)
    error = result.error
    tool_failures = [*result.tool_failures, *_subcall_failures(ep)]
    shown = await ep.recorder.save_shown(result.images)
    await ep.emit(
        CellExecuted(
            **ep.stamp(),
            status=result.status,
            duration_s=result.duration_s,
            stdout=result.stdout,
            stderr=result.stderr,
            error_type=error.ename if error else None,
            error_message=error.evalue if error else None,
            n_images=len(result.images),
            variables=[v.name for v in result.variables],
            traceback=error.traceback if error else "",
            images=shown,
            variable_notes=[v.describe() for v in result.variables],
            tool_failures=tool_failures,
        )
    )
    ep.tool_failures += len(tool_failures)
    if result.status == "died":
        await ep.emit(
            KernelFailed(**ep.stamp(), kernel_id=ep.kernel.kernel_id, message=error.evalue if error else "")
        )
    if result.answer is not None:
        answer = result.answer
        await ep.emit(
            AnswerSubmitted(**ep.stamp(), answer=answer.text, valid=answer.valid, message=answer.message)
        )
    urls = tuple(bytes_data_url(img.png) for img in result.images)
    return CellFinished(result=result, image_urls=urls)


def _subcall_failures(ep: _Episode) -> tuple[str, ...]:
    """The `vlm` calls of the episode whose model endpoint failed since the last look."""
    take = ep.s.subcall_failures
    return take(ep.episode_id) if take is not None else ()


async def _restart_kernel(ep: _Episode) -> Happened:
    assert ep.s.replace_kernel is not None, "restart_dead_kernels is only set when replace_kernel exists"
    try:
        ep.kernel = await ep.s.replace_kernel()
    except SandboxError as exc:
        await ep.emit(
            KernelFailed(**ep.stamp(), kernel_id=ep.kernel.kernel_id, message=f"no replacement kernel: {exc}")
        )
        return KernelRestarted(ok=False)
    return KernelRestarted(ok=True)


async def _finish(ep: _Episode, finish: Finish, started: float) -> EpisodeOutcome:
    if finish.record_answer:
        await ep.emit(
            AnswerSubmitted(
                **ep.stamp(), answer=finish.answer or "", valid=finish.answer is not None, forced=True
            )
        )
    score = ep.s.score(ep.sample, finish.answer)
    # A tool whose infrastructure failed (e.g. the perception server died, or a `vlm` call's endpoint,
    # even one that failed after its cell gave up waiting) leaves the answer without its evidence: the
    # episode is an infrastructure error to run again, never a score.
    ep.tool_failures += len(_subcall_failures(ep))
    reason = "error" if ep.tool_failures else finish.reason
    finished = EpisodeFinished(
        **ep.stamp(),
        sample_id=ep.sample.id,
        suite=ep.sample.suite,
        category=ep.sample.category,
        answer=finish.answer,
        ground_truth=ep.sample.ground_truth,
        score=score.value,
        metric=score.metric,
        reason=reason,
        steps=ep.state.step,
        duration_s=ep.s.clock() - started,
        prompt_tokens=ep.prompt_tokens,
        completion_tokens=ep.completion_tokens,
    )
    # Shielded: a cancellation (the episode's time limit, a stop) must not land between the event log
    # and the results file, leaving an ended episode in one and not the other.
    with anyio.CancelScope(shield=True):
        await ep.emit(finished)
    return EpisodeOutcome(answer=finish.answer, reason=reason, score=score, steps=ep.state.step)
