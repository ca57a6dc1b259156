"""The episode state machine, driven by hand: no event loop, no I/O."""

from __future__ import annotations

import pytest

from claw.agent.parsing import StepResponse
from claw.runtime.episode import (
    Begin,
    CallModel,
    CellFinished,
    CellJudged,
    CheckCell,
    EpisodeState,
    Finish,
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
from claw.suite import Frame, Sample, Video
from claw.wire.kernel import CellError, CellResult, SubmittedAnswer

GOOD_REPLY = "**Purpose:** p\n**Reasoning:** r\n**Next Goal:** g\n**Code:**\n```python\nx = 1\n```"
SAMPLE = Sample(
    id="s1",
    suite="unit",
    question="how far?",
    answer_format="number",
    ground_truth="1",
    videos=(Video(name="v", frames=(Frame(path="f.png", index=0),)),),
)


def begin(state: EpisodeState, *, plan: bool = False) -> tuple[EpisodeState, list[object]]:
    return advance(state, Begin(sample=SAMPLE, image_urls=("data:image/png;base64,AA==",), plan=plan))


def to_execution(state: EpisodeState) -> EpisodeState:
    state, _ = advance(state, ModelReplied(text=GOOD_REPLY))
    state, actions = advance(state, CellJudged())
    assert actions == [RunCell(code="x = 1")]
    return state


def ok(answer: SubmittedAnswer | None = None, stdout: str = "") -> CellFinished:
    return CellFinished(result=CellResult(status="ok", stdout=stdout, answer=answer))


def test_plan_then_code_appends_the_plan_after_the_first_message() -> None:
    state, actions = begin(initial_state("code", 5), plan=True)
    assert state.phase == "planning"
    assert isinstance(actions[0], CallModel) and actions[0].role == "planner"
    state, actions = advance(state, ModelReplied(text="1. segment\n2. measure"))
    assert state.phase == "coding"
    call = actions[0]
    assert isinstance(call, CallModel) and call.role == "agent"
    assert "how far?" in call.messages[1].text() and "segment" in call.messages[2].text()


def test_failed_plan_goes_on_without_one() -> None:
    state, _ = begin(initial_state("code", 5), plan=True)
    state, actions = advance(state, ModelFailed(error="down"))
    assert state.phase == "coding" and len(state.messages) == 2
    assert isinstance(actions[0], CallModel)


def test_valid_answer_finishes_the_episode() -> None:
    state, _ = begin(initial_state("code", 5))
    state = to_execution(state)
    state, actions = advance(state, ok(SubmittedAnswer(text="B", valid=True)))
    assert actions == [Finish(answer="B", reason="answered")]
    assert state.phase == "done" and state.step == 1


def test_raising_cell_becomes_an_observation_and_the_loop_goes_on() -> None:
    state, _ = begin(initial_state("code", 5))
    state = to_execution(state)
    error = CellError(ename="NameError", evalue="name 'y' is not defined", traceback="...", lineno=1)
    state, actions = advance(state, CellFinished(result=CellResult(status="error", error=error)))
    assert state.step == 1 and state.phase == "coding"
    recorded, call = actions
    assert isinstance(call, CallModel)
    observation = call.messages[-1].text()
    assert "[Error]" in observation and "NameError: name 'y' is not defined" in observation
    assert recorded == RecordObservation(step=0, text=observation, n_images=0)


def test_malformed_reply_costs_a_step_and_gets_a_correction() -> None:
    state, _ = begin(initial_state("code", 5))
    state, actions = advance(state, ModelReplied(text="I think the answer is B."))
    assert state.step == 1 and state.phase == "coding"
    recorded, call = actions
    assert (
        isinstance(recorded, RecordMalformed) and recorded.step == 0 and "no Python code" in recorded.reason
    )
    assert isinstance(call, CallModel)
    assert call.messages[-2].role == "assistant"
    assert "not in the required format" in call.messages[-1].text()


def test_rejected_cell_does_not_run_and_names_the_rule() -> None:
    state, _ = begin(initial_state("code", 5))
    state, actions = advance(state, ModelReplied(text=GOOD_REPLY))
    assert actions == [
        CheckCell(proposed=StepResponse(purpose="p", reasoning="r", next_goal="g", code="x = 1"))
    ]
    state, actions = advance(state, CellJudged(rule="import", lineno=1, message="os is not allowed"))
    (call,) = actions
    assert isinstance(call, CallModel)
    assert "rule: import" in call.messages[-1].text() and "line 1" in call.messages[-1].text()


def test_step_budget_forces_a_final_answer_turn_from_the_transcript() -> None:
    state, _ = begin(initial_state("code", 2))
    for _ in range(2):
        state = to_execution(state)
        state, actions = advance(state, ok(stdout="3.2"))
    assert state.phase == "final"
    call = actions[-1]
    assert isinstance(call, CallModel) and "[FINAL ANSWER REQUIRED]" in call.messages[-1].text()
    state, actions = advance(state, ModelReplied(text="So.\nFinal answer: 3.2"))
    assert actions == [Finish(answer="3.2", reason="forced", record_answer=True)]


def test_invalid_answer_is_fed_back_not_accepted() -> None:
    state, _ = begin(initial_state("code", 5))
    state = to_execution(state)
    bad = SubmittedAnswer(text="Z", valid=False, message="expected one of A, B")
    state, actions = advance(state, ok(bad))
    call = actions[-1]
    assert isinstance(call, CallModel) and "expected one of A, B" in call.messages[-1].text()


def test_transcript_is_append_only_across_steps() -> None:
    state, actions = begin(initial_state("code", 4))
    previous = actions[0].messages  # type: ignore[attr-defined]
    for reply in (GOOD_REPLY, "garbage", GOOD_REPLY):
        state, actions = advance(state, ModelReplied(text=reply))
        if state.phase == "checking":
            state, actions = advance(state, CellJudged())
            state, actions = advance(state, ok(stdout="1"))
        current = actions[-1].messages  # type: ignore[attr-defined]
        assert current[: len(previous)] == previous
        previous = current


def test_repeated_model_failures_end_the_episode_with_an_error() -> None:
    state, _ = begin(initial_state("code", 10))
    actions: list[object] = []
    for _ in range(3):
        state, actions = advance(state, ModelFailed(error="timeout"))
    assert actions == [Finish(answer=None, reason="error")]


def test_token_budget_forces_the_answer() -> None:
    state, _ = begin(initial_state("code", 10, token_budget=100))
    state, _ = advance(state, ModelReplied(text=GOOD_REPLY, tokens=150))
    state, _ = advance(state, CellJudged())
    state, _actions = advance(state, ok())
    assert state.phase == "final"


def test_cot_asks_once_and_extracts_the_answer() -> None:
    state, actions = begin(initial_state("cot", 30))
    assert state.phase == "final" and isinstance(actions[0], CallModel)
    _, actions = advance(state, ModelReplied(text="Final answer: A"))
    assert actions == [Finish(answer="A", reason="answered", record_answer=True)]


def test_single_pass_without_answer_ends_after_one_cell() -> None:
    state, _ = begin(initial_state("single-pass", 30))
    state = to_execution(state)
    _, actions = advance(state, ok())
    assert actions[-1] == Finish(answer=None, reason="budget", record_answer=True)


def test_impossible_input_is_a_bug_not_a_silent_pass() -> None:
    with pytest.raises(ValueError, match="cannot happen"):
        advance(initial_state("code", 3), ok())


def died() -> CellFinished:
    error = CellError(ename="KernelDied", evalue="the kernel process exited", traceback="")
    return CellFinished(result=CellResult(status="died", error=error))


def test_dead_kernel_is_replaced_and_the_model_told_its_variables_are_gone() -> None:
    state, _ = begin(initial_state("code", 5))
    state = to_execution(state)
    state, actions = advance(state, died())
    assert actions == [RestartKernel()] and state.phase == "restarting"
    state, actions = advance(state, KernelRestarted(ok=True))
    call = actions[-1]
    assert isinstance(call, CallModel) and state.step == 1
    assert "every variable is gone" in call.messages[-1].text()


def test_dead_kernel_ends_the_episode_when_configured_or_not_replaceable() -> None:
    state, _ = begin(initial_state("code", 5, restart_dead_kernels=False))
    state = to_execution(state)
    assert advance(state, died())[1] == [Finish(answer=None, reason="error")]
    state, _ = begin(initial_state("code", 5))
    state, _ = advance(to_execution(state), died())
    assert advance(state, KernelRestarted(ok=False))[1] == [Finish(answer=None, reason="error")]
