"""One episode as a pure state machine (`advance`) and the thin I/O shell that drives it (`run_episode`).

`advance(state, happened)` is a pure function: it takes the episode's state and one thing that happened
(the run began, the model replied, the policy judged a cell, a cell finished, …) and returns the next
state and the actions to perform (call a model, check a cell, run a cell, finish). It does no I/O and
can be tested without an event loop. `run_episode` performs the actions, feeds their outcomes back in,
and emits one typed event per transition.

Loop for the `code` interface: Plan → Code → Check → Execute → Feedback, until a valid `ReturnAnswer`
or the step budget, then a forced final-answer turn that keeps the whole transcript as evidence. A
malformed reply, a rejected cell and a failed model call each consume a step and get an observation
that says what to fix; none of them crashes the episode.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from claw.config import Interface
from claw.llm import prompts
from claw.llm.parsing import Malformed, extract_final_answer, parse_step
from claw.llm.types import Message, Role, ToolCall
from claw.runtime import toolcall
from claw.wire.kernel import CellResult

__all__ = [
    "Action",
    "Begin",
    "CallModel",
    "CellFinished",
    "CellJudged",
    "CheckCell",
    "EpisodeState",
    "Finish",
    "Happened",
    "KernelRestarted",
    "ModelFailed",
    "ModelReplied",
    "RestartKernel",
    "RunCell",
    "advance",
    "initial_state",
]

Phase = Literal["start", "planning", "coding", "checking", "executing", "restarting", "final", "done"]
FinishReason = Literal["answered", "forced", "budget", "error"]

MAX_CONSECUTIVE_MODEL_FAILURES = 3


class EpisodeState(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the episode knows; replaced, never mutated."""

    interface: Interface
    max_steps: int
    token_budget: int = 0
    restart_dead_kernels: bool = True
    phase: Phase = "start"
    step: int = 0
    """Code turns consumed so far (malformed replies, rejected cells and failed calls included)."""
    messages: tuple[Message, ...] = ()
    pending_code: str = ""
    pending_call_id: str = ""
    """tool-call interface: the call whose cell is in flight."""
    extra_call_ids: tuple[str, ...] = ()
    """tool-call interface: further calls of the same reply, answered as not executed (one per step)."""
    pending_death: CellFinished | None = None
    """The cell whose kernel died, reported once the replacement kernel is up."""
    model_failures: int = 0
    """Consecutive failed model calls."""
    tokens_used: int = 0


# -- what happened --------------------------------------------------------------------------------------


class Begin(msgspec.Struct, frozen=True, kw_only=True):
    """The episode starts: its system prompt, first user message and (optionally) planner request."""

    system: str
    first_user: Message
    planner: tuple[Message, ...] = ()


class ModelReplied(msgspec.Struct, frozen=True, kw_only=True):
    """A model call returned text."""

    text: str
    tokens: int = 0
    tool_calls: tuple[ToolCall, ...] = ()


class ModelFailed(msgspec.Struct, frozen=True, kw_only=True):
    """A model call failed after its retries."""

    error: str


class CellJudged(msgspec.Struct, frozen=True, kw_only=True):
    """The safety policy's verdict on the pending cell (`rule` None = allowed)."""

    rule: str | None = None
    lineno: int = 0
    message: str = ""
    hint: str = ""


class CellFinished(msgspec.Struct, frozen=True, kw_only=True):
    """The pending cell ran; `image_urls` are its shown images, encoded for the model."""

    result: CellResult
    image_urls: tuple[str, ...] = ()


class KernelRestarted(msgspec.Struct, frozen=True, kw_only=True):
    """The shell replaced the episode's dead kernel (`ok`), or could not."""

    ok: bool


Happened = Begin | ModelReplied | ModelFailed | CellJudged | CellFinished | KernelRestarted


# -- what to do -----------------------------------------------------------------------------------------


class CallModel(msgspec.Struct, frozen=True, kw_only=True):
    """Send `messages` to the model serving `role`."""

    role: Role
    messages: tuple[Message, ...]
    offer_tools: bool = False
    """Offer the kernel tools as function tools (the tool-call interface)."""


class CheckCell(msgspec.Struct, frozen=True, kw_only=True):
    """Run the safety policy on `code`."""

    code: str


class RunCell(msgspec.Struct, frozen=True, kw_only=True):
    """Execute `code` in the episode's kernel."""

    code: str


class Finish(msgspec.Struct, frozen=True, kw_only=True):
    """The episode is over."""

    answer: str | None
    reason: FinishReason


class RestartKernel(msgspec.Struct, frozen=True, kw_only=True):
    """Give the episode a fresh kernel (the old one died)."""


Action = CallModel | CheckCell | RunCell | RestartKernel | Finish


def initial_state(
    interface: Interface, max_steps: int, token_budget: int = 0, *, restart_dead_kernels: bool = True
) -> EpisodeState:
    """A fresh episode (`max_steps` is 1 for the single-pass and cot interfaces)."""
    steps = max_steps if interface in ("code", "tool-call") else 1
    return EpisodeState(
        interface=interface,
        max_steps=steps,
        token_budget=token_budget,
        restart_dead_kernels=restart_dead_kernels,
    )


def advance(state: EpisodeState, happened: Happened) -> tuple[EpisodeState, list[Action]]:
    """The next state and the actions to perform after `happened`.

    Raises:
        ValueError: `happened` cannot occur in the current phase (a bug in the shell).
    """
    match (state.phase, happened):
        case ("start", Begin()):
            return _begin(state, happened)
        case ("planning", ModelReplied(text=text)):
            plan = prompts.plan_message(text) if text.strip() else None
            return _ask_for_code(state, (plan,) if plan else ())
        case ("planning", ModelFailed()):
            return _ask_for_code(state, ())
        case ("coding", ModelReplied()) if state.interface == "tool-call":
            return _on_tool_reply(_count_tokens(state, happened.tokens), happened)
        case ("coding", ModelReplied()):
            return _on_code_reply(_count_tokens(state, happened.tokens), happened.text)
        case ("coding", ModelFailed()):
            return _on_model_failure(state)
        case ("checking", CellJudged()):
            return _on_verdict(state, happened)
        case ("executing", CellFinished(result=CellResult(status="died"))):
            return _on_kernel_death(state, happened)
        case ("executing", CellFinished()):
            return _on_cell_finished(state, happened)
        case ("restarting", KernelRestarted(ok=True)) if state.pending_death is not None:
            return _on_cell_finished(state, state.pending_death)
        case ("restarting", KernelRestarted(ok=False)):
            return _done(state, None, "error")
        case ("final", ModelReplied(text=text)):
            return _done(
                state, extract_final_answer(text), "answered" if state.interface == "cot" else "forced"
            )
        case ("final", ModelFailed()):
            return _done(state, None, "error")
    raise ValueError(f"{type(happened).__name__} cannot happen in phase {state.phase!r}")


def _count_tokens(state: EpisodeState, tokens: int) -> EpisodeState:
    return msgspec.structs.replace(state, tokens_used=state.tokens_used + tokens)


def _begin(state: EpisodeState, begin: Begin) -> tuple[EpisodeState, list[Action]]:
    messages = (Message(role="system", content=begin.system), begin.first_user)
    state = msgspec.structs.replace(state, messages=messages)
    if state.interface == "cot":
        return _replace_phase(state, "final"), [CallModel(role="agent", messages=messages)]
    if begin.planner:
        return _replace_phase(state, "planning"), [CallModel(role="planner", messages=begin.planner)]
    return _ask_for_code(state, ())


def _replace_phase(state: EpisodeState, phase: Phase) -> EpisodeState:
    return msgspec.structs.replace(state, phase=phase)


def _ask_for_code(state: EpisodeState, appended: tuple[Message, ...]) -> tuple[EpisodeState, list[Action]]:
    messages = state.messages + appended
    state = msgspec.structs.replace(state, phase="coding", messages=messages)
    return state, [CallModel(role="agent", messages=messages, offer_tools=state.interface == "tool-call")]


def _steps_left(state: EpisodeState) -> int:
    return state.max_steps - state.step


def _next_turn(state: EpisodeState, appended: tuple[Message, ...]) -> tuple[EpisodeState, list[Action]]:
    """Count the turn just finished, then ask for more code or, with the budget spent, for the answer."""
    state = msgspec.structs.replace(state, step=state.step + 1, messages=state.messages + appended)
    over_tokens = state.token_budget > 0 and state.tokens_used >= state.token_budget
    if state.interface not in ("code", "tool-call"):
        return _done(state, None, "budget")
    if _steps_left(state) > 0 and not over_tokens:
        return _ask_for_code(state, ())
    reason = "The token budget is spent." if over_tokens else "The step budget is spent."
    messages = (*state.messages, prompts.final_answer_message(reason))
    state = msgspec.structs.replace(state, phase="final", messages=messages)
    return state, [CallModel(role="agent", messages=messages)]


def _on_code_reply(state: EpisodeState, text: str) -> tuple[EpisodeState, list[Action]]:
    state = msgspec.structs.replace(state, model_failures=0)
    reply = prompts.assistant_message(text)
    parsed = parse_step(text)
    if isinstance(parsed, Malformed):
        note = prompts.malformed_message(state.step, parsed.reason, _steps_left(state) - 1)
        return _next_turn(state, (reply, note))
    state = msgspec.structs.replace(
        state, phase="checking", pending_code=parsed.code, messages=(*state.messages, reply)
    )
    return state, [CheckCell(code=parsed.code)]


def _on_model_failure(state: EpisodeState) -> tuple[EpisodeState, list[Action]]:
    failures = state.model_failures + 1
    state = msgspec.structs.replace(state, model_failures=failures)
    if failures >= MAX_CONSECUTIVE_MODEL_FAILURES:
        return _done(state, None, "error")
    # Nothing is appended: the retry sends the same transcript, so the prefix cache still hits.
    return _next_turn(state, ())


def _on_verdict(state: EpisodeState, verdict: CellJudged) -> tuple[EpisodeState, list[Action]]:
    if verdict.rule is None:
        return _replace_phase(state, "executing"), [RunCell(code=state.pending_code)]
    note = prompts.rejection_message(
        state.step, verdict.rule, verdict.lineno, verdict.message, _steps_left(state) - 1, hint=verdict.hint
    )
    if state.interface == "tool-call":
        return _next_turn(
            state, _tool_replies(state, (prompts.tool_note_message(state.pending_call_id, note.text()),))
        )
    return _next_turn(state, (note,))


def _on_cell_finished(state: EpisodeState, finished: CellFinished) -> tuple[EpisodeState, list[Action]]:
    answer = finished.result.answer
    if answer is not None and answer.valid:
        return _done(msgspec.structs.replace(state, step=state.step + 1), answer.text, "answered")
    if state.interface == "tool-call":
        replies = prompts.tool_result_messages(
            state.pending_call_id,
            state.step,
            finished.result,
            _steps_left(state) - 1,
            list(finished.image_urls),
        )
        return _next_turn(state, _tool_replies(state, replies))
    note = prompts.observation_message(
        state.step, finished.result, _steps_left(state) - 1, list(finished.image_urls)
    )
    return _next_turn(state, (note,))


def _on_kernel_death(state: EpisodeState, finished: CellFinished) -> tuple[EpisodeState, list[Action]]:
    if not state.restart_dead_kernels:
        return _done(state, None, "error")
    return msgspec.structs.replace(state, phase="restarting", pending_death=finished), [RestartKernel()]


_ONE_PER_STEP = "Not executed: one tool call per turn. Call it again in your next turn if you still need it."


def _tool_replies(state: EpisodeState, first: tuple[Message, ...]) -> tuple[Message, ...]:
    """The pending call's reply, then a reply to every extra call of the same turn (the API needs one per
    call id), then any images the first reply carried."""
    tool_messages = tuple(m for m in first if m.role == "tool")
    others = tuple(m for m in first if m.role != "tool")
    extras = tuple(prompts.tool_note_message(call_id, _ONE_PER_STEP) for call_id in state.extra_call_ids)
    return tool_messages + extras + others


def _on_tool_reply(state: EpisodeState, replied: ModelReplied) -> tuple[EpisodeState, list[Action]]:
    state = msgspec.structs.replace(state, model_failures=0)
    calls = replied.tool_calls
    reply = Message(role="assistant", content=replied.text, tool_calls=list(calls) or None)
    if not calls:
        answer = extract_final_answer(replied.text)
        if answer is not None:
            return _done(
                msgspec.structs.replace(state, messages=(*state.messages, reply)), answer, "answered"
            )
        note = prompts.malformed_message(
            state.step, "call one of the tools (one per turn)", _steps_left(state) - 1
        )
        return _next_turn(state, (reply, note))
    state = msgspec.structs.replace(
        state,
        messages=(*state.messages, reply),
        pending_call_id=calls[0].id,
        extra_call_ids=tuple(c.id for c in calls[1:]),
    )
    cell = toolcall.cell_for_call(calls[0], state.step)
    if isinstance(cell, toolcall.ToolCellError):
        return _next_turn(
            state, _tool_replies(state, (prompts.tool_note_message(calls[0].id, cell.message),))
        )
    return msgspec.structs.replace(state, phase="checking", pending_code=cell), [CheckCell(code=cell)]


def _done(state: EpisodeState, answer: str | None, reason: FinishReason) -> tuple[EpisodeState, list[Action]]:
    return _replace_phase(state, "done"), [Finish(answer=answer, reason=reason)]
