"""One episode as a pure state machine (`advance`) over the phases every action interface shares.

`advance(state, happened)` is a pure function: it takes the episode's state and one thing that happened
(the run began, the model replied, the policy judged a cell, a cell finished, …) and returns the next
state and the actions to perform (call a model, check a cell, run a cell, record what was read or shown,
finish). It does no I/O and can be tested without an event loop; `claw.runtime.driver` performs the
actions. What differs between interfaces (prompts, tools offered, how a reply becomes a cell, how a result
reaches the model) is asked of the interface's strategy (`claw.agent.interfaces`); the actions carry what
it parsed and rendered, so the driver records them instead of deriving them again.

The records it reads and returns (`Happened`, `Action`) are defined in `claw.runtime.episode_actions`
and re-exported here.

Phases: Plan → Code → Check → Execute → Feedback, until a valid `ReturnAnswer` or the step budget, then
(with feedback) a forced final-answer turn that keeps the whole transcript as evidence. A malformed reply,
a rejected cell and a failed model call each consume a step and get an observation that says what to fix;
none of them crashes the episode.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from claw.agent import observations, prompts
from claw.agent.interfaces import InterfaceName, get_interface
from claw.agent.interfaces.base import ActionInterface, AnswerTurn, CellTurn, UnusableTurn
from claw.agent.parsing import extract_final_answer
from claw.llm.types import Message
from claw.runtime.episode_actions import (
    Action,
    Begin,
    CallModel,
    CellFinished,
    CellJudged,
    CheckCell,
    Finish,
    FinishReason,
    Happened,
    KernelRestarted,
    ModelFailed,
    ModelReplied,
    RecordMalformed,
    RecordObservation,
    RestartKernel,
    RunCell,
)
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
    "RecordMalformed",
    "RecordObservation",
    "RestartKernel",
    "RunCell",
    "advance",
    "initial_state",
]

Phase = Literal["start", "planning", "coding", "checking", "executing", "restarting", "final", "done"]

MAX_CONSECUTIVE_MODEL_FAILURES = 3


class EpisodeState(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the episode knows; replaced, never mutated."""

    interface: InterfaceName
    max_steps: int
    token_budget: int = 0
    restart_dead_kernels: bool = True
    phase: Phase = "start"
    step: int = 0
    """Code turns consumed so far (malformed replies, rejected cells and failed calls included)."""
    messages: tuple[Message, ...] = ()
    pending: CellTurn | None = None
    """The turn whose cell is being checked or run."""
    pending_death: CellFinished | None = None
    """The cell whose kernel died, reported once the replacement kernel is up."""
    model_failures: int = 0
    """Consecutive failed model calls."""
    tokens_used: int = 0

    @property
    def strategy(self) -> ActionInterface:
        """The interface's strategy."""
        return get_interface(self.interface)


def initial_state(
    interface: InterfaceName, max_steps: int, token_budget: int = 0, *, restart_dead_kernels: bool = True
) -> EpisodeState:
    """A fresh episode (the interface decides how many of `max_steps` turns it takes)."""
    return EpisodeState(
        interface=interface,
        max_steps=get_interface(interface).step_budget(max_steps),
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
            plan = observations.plan_message(text) if text.strip() else None
            return _ask_for_code(state, (plan,) if plan else ())
        case ("planning", ModelFailed()):
            return _ask_for_code(state, ())
        case ("coding", ModelReplied()):
            return _on_reply(_count_tokens(state, happened.tokens), happened)
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
            reason: FinishReason = "answered" if state.strategy.answers_at_once else "forced"
            return _done(state, extract_final_answer(text), reason, record_answer=True)
        case ("final", ModelFailed()):
            return _done(state, None, "error")
    raise ValueError(f"{type(happened).__name__} cannot happen in phase {state.phase!r}")


def _count_tokens(state: EpisodeState, tokens: int) -> EpisodeState:
    return msgspec.structs.replace(state, tokens_used=state.tokens_used + tokens)


def _begin(state: EpisodeState, begin: Begin) -> tuple[EpisodeState, list[Action]]:
    strategy = state.strategy
    opening = strategy.opening(begin.sample, begin.image_urls, state.max_steps)
    messages = (Message(role="system", content=opening.system), opening.first_user)
    state = msgspec.structs.replace(state, messages=messages)
    if strategy.answers_at_once:
        return _replace_phase(state, "final"), [CallModel(role="agent", messages=messages)]
    if begin.plan and strategy.plans:
        planner = tuple(prompts.planner_messages(begin.sample))
        return _replace_phase(state, "planning"), [CallModel(role="planner", messages=planner)]
    return _ask_for_code(state, ())


def _replace_phase(state: EpisodeState, phase: Phase) -> EpisodeState:
    return msgspec.structs.replace(state, phase=phase)


def _ask_for_code(state: EpisodeState, appended: tuple[Message, ...]) -> tuple[EpisodeState, list[Action]]:
    messages = state.messages + appended
    state = msgspec.structs.replace(state, phase="coding", messages=messages, pending=None)
    return state, [CallModel(role="agent", messages=messages, tools=state.strategy.tools())]


def _steps_left(state: EpisodeState) -> int:
    return state.max_steps - state.step


def _next_turn(state: EpisodeState, appended: tuple[Message, ...]) -> tuple[EpisodeState, list[Action]]:
    """Count the turn just finished, then ask for more code or, with the budget spent, for the answer."""
    state = msgspec.structs.replace(state, step=state.step + 1, messages=state.messages + appended)
    over_tokens = state.token_budget > 0 and state.tokens_used >= state.token_budget
    if not state.strategy.feedback:
        return _done(state, None, "budget", record_answer=True)
    if _steps_left(state) > 0 and not over_tokens:
        return _ask_for_code(state, ())
    reason = "The token budget is spent." if over_tokens else "The step budget is spent."
    messages = (*state.messages, observations.final_answer_message(reason))
    state = msgspec.structs.replace(state, phase="final", messages=messages)
    return state, [CallModel(role="agent", messages=messages)]


def _on_reply(state: EpisodeState, replied: ModelReplied) -> tuple[EpisodeState, list[Action]]:
    state = msgspec.structs.replace(state, model_failures=0)
    turn = state.strategy.read_reply(replied.text, replied.tool_calls, state.step, _steps_left(state) - 1)
    match turn:
        case AnswerTurn():
            state = msgspec.structs.replace(state, messages=(*state.messages, turn.reply))
            return _done(state, turn.answer, "answered", record_answer=True)
        case UnusableTurn():
            noted = RecordMalformed(step=state.step, reason=turn.reason, raw_chars=len(replied.text))
            state, actions = _next_turn(state, (turn.reply, *turn.notes))
            return state, [noted, *actions]
        case CellTurn():
            messages = (*state.messages, turn.reply)
            state = msgspec.structs.replace(state, phase="checking", pending=turn, messages=messages)
            return state, [CheckCell(proposed=turn.proposed)]


def _on_model_failure(state: EpisodeState) -> tuple[EpisodeState, list[Action]]:
    failures = state.model_failures + 1
    state = msgspec.structs.replace(state, model_failures=failures)
    if failures >= MAX_CONSECUTIVE_MODEL_FAILURES:
        return _done(state, None, "error")
    # Nothing is appended: the retry sends the same transcript, so the prefix cache still hits.
    return _next_turn(state, ())


def _pending(state: EpisodeState) -> CellTurn:
    if state.pending is None:
        raise ValueError(f"no pending cell in phase {state.phase!r}")
    return state.pending


def _on_verdict(state: EpisodeState, verdict: CellJudged) -> tuple[EpisodeState, list[Action]]:
    turn = _pending(state)
    if verdict.rule is None:
        return _replace_phase(state, "executing"), [RunCell(code=turn.proposed.code)]
    note = observations.rejection_message(
        state.step, verdict.rule, verdict.lineno, verdict.message, _steps_left(state) - 1, hint=verdict.hint
    )
    return _next_turn(state, state.strategy.deliver(turn, note))


def _on_cell_finished(state: EpisodeState, finished: CellFinished) -> tuple[EpisodeState, list[Action]]:
    answer = finished.result.answer
    if answer is not None and answer.valid:
        return _done(msgspec.structs.replace(state, step=state.step + 1), answer.text, "answered")
    urls = list(finished.image_urls)
    note = observations.observation_message(state.step, finished.result, _steps_left(state) - 1, urls)
    observed = RecordObservation(step=state.step, text=note.text(), n_images=len(urls))
    state, actions = _next_turn(state, state.strategy.deliver(_pending(state), note))
    return state, [observed, *actions]


def _on_kernel_death(state: EpisodeState, finished: CellFinished) -> tuple[EpisodeState, list[Action]]:
    if not state.restart_dead_kernels:
        return _done(state, None, "error")
    return msgspec.structs.replace(state, phase="restarting", pending_death=finished), [RestartKernel()]


def _done(
    state: EpisodeState, answer: str | None, reason: FinishReason, *, record_answer: bool = False
) -> tuple[EpisodeState, list[Action]]:
    return _replace_phase(state, "done"), [Finish(answer=answer, reason=reason, record_answer=record_answer)]
