"""The scripted policy: what it replies to each request kind, that its cells pass the AST policy and
solve every task through the real tool API, and that its planted mistakes are corrected from feedback."""

from __future__ import annotations

from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from bench.suites.synthetic import TASKS, SyntheticSuite
from claw.agent import observations, prompts
from claw.agent.markers import FINAL_ANSWER_PREFIX
from claw.agent.parsing import StepResponse, extract_final_answer, parse_step
from claw.config import PerceptionConfig
from claw.errors import ConfigError
from claw.llm.types import Message
from claw.sandbox._policy import check_cell
from claw.suite import Sample, SuiteOptions
from servers.mockllm.policies.scripted import ScriptedPolicy, parse_question
from servers.mockllm.policy import load_policy
from servers.perception.server import serve_perception
from tests.synthetic._harness import backend, routed_perception, run_episode, run_tool_episode


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> SyntheticSuite:
    return SyntheticSuite(SuiteOptions(n=len(TASKS), seed=5, media_dir=str(tmp_path_factory.mktemp("media"))))


@pytest.fixture(scope="module")
def samples(suite: SyntheticSuite) -> list[Sample]:
    return list(suite.samples())


def _agent_messages(sample: Sample) -> list[Message]:
    return [
        Message(role="system", content=prompts.agent_system_prompt(30)),
        prompts.first_user_message(sample, []),
    ]


def test_policy_is_registered_by_name() -> None:
    policy = load_policy("scripted")
    assert isinstance(policy, ScriptedPolicy) and policy.name == "scripted"


def test_every_task_is_recognised(samples: list[Sample]) -> None:
    for sample in samples:
        parsed = parse_question(prompts.first_user_message(sample, []).text())
        assert parsed.task == sample.category
        assert parsed.options == sample.options and parsed.answer_format == sample.answer_format


def test_planner_gets_a_numbered_plan_without_code(samples: list[Sample]) -> None:
    reply = ScriptedPolicy().respond(prompts.planner_messages(samples[0]), seed=0).content
    assert reply.startswith("1.") and "```" not in reply
    assert "Segment" in reply


@pytest.mark.parametrize("index", range(len(TASKS)))
def test_first_turn_is_a_checked_four_section_cell(samples: list[Sample], index: int) -> None:
    sample = samples[index]
    reply = ScriptedPolicy().respond(_agent_messages(sample), seed=1).content
    step = parse_step(reply)
    assert isinstance(step, StepResponse) and step.purpose and step.reasoning and step.next_goal
    assert step.code.startswith("# stage: perceive")
    assert check_cell(step.code) is None
    assert reply == ScriptedPolicy().respond(_agent_messages(sample), seed=1).content


def test_cot_and_forced_answers_end_with_the_final_answer_line(samples: list[Sample]) -> None:
    policy = ScriptedPolicy()
    for sample in samples:
        reply = policy.respond(prompts.cot_messages(sample, []), seed=3).content
        assert reply.splitlines()[-1].startswith(FINAL_ANSWER_PREFIX)
        assert extract_final_answer(reply) is not None
    mcq = next(s for s in samples if s.answer_format == "letter")
    answer = extract_final_answer(policy.respond(prompts.cot_messages(mcq, []), seed=3).content)
    assert answer in [chr(65 + i) for i in range(len(mcq.options))]


def test_forced_answer_reuses_the_last_printed_result(samples: list[Sample]) -> None:
    sample = samples[0]
    observation = Message(
        role="user", content="## Observation (step 1)\nstatus: ok\n[Output]\nRESULT: 2.345\n"
    )
    messages = [
        *_agent_messages(sample),
        Message(role="assistant", content="..."),
        observation,
        observations.final_answer_message("The step budget is used up."),
    ]
    reply = ScriptedPolicy().respond(messages, seed=0).content
    assert extract_final_answer(reply) == "2.345"


@pytest.mark.parametrize("index", range(len(TASKS)))
def test_episode_solves_every_task_with_exact_perception(
    suite: SyntheticSuite, samples: list[Sample], index: int
) -> None:
    with routed_perception(backend()):
        outcome = run_episode(suite, samples[index], ScriptedPolicy(error_rate=0.0, mistake_rate=0.0))
    assert outcome.score >= 0.9, outcome.transcript
    assert outcome.errors == 0 and outcome.steps == 3


def test_a_raising_cell_is_read_and_corrected(suite: SyntheticSuite, samples: list[Sample]) -> None:
    with routed_perception(backend()):
        outcome = run_episode(suite, samples[0], ScriptedPolicy(error_rate=1.0, mistake_rate=0.0))
    assert outcome.errors == 1 and outcome.score >= 0.9 and outcome.steps == 4
    assert any("NameError" in text for text in outcome.transcript)


@pytest.mark.parametrize("task", ["object_size", "height_comparison", "abs_distance_closest"])
def test_quiet_mistakes_are_caught_by_the_cells_own_check(
    suite: SyntheticSuite, samples: list[Sample], task: str
) -> None:
    sample = samples[TASKS.index(task)]
    with routed_perception(backend()):
        outcome = run_episode(suite, sample, ScriptedPolicy(error_rate=0.0, mistake_rate=1.0))
    assert any("CHECK FAILED" in text for text in outcome.transcript)
    assert outcome.score >= 0.9 and outcome.steps == 4


def test_planted_errors_hit_a_deterministic_share_of_episodes(samples: list[Sample]) -> None:
    policy = ScriptedPolicy(error_rate=0.25, mistake_rate=0.0)
    sample = samples[0]
    raising = []
    for seed in range(80):
        messages = _agent_messages(sample)
        first = policy.respond(messages, seed=seed).content
        messages += [
            Message(role="assistant", content=first),
            Message(role="user", content="## Observation (step 1)\nstatus: ok\n[Output]\nfine\n"),
        ]
        raising.append("point_clouds" in policy.respond(messages, seed=seed).content)
    assert 8 <= sum(raising) <= 32
    again = [("point_clouds" in policy.respond([*_agent_messages(sample)], seed=s).content) for s in range(3)]
    assert again == [False, False, False]  # the perceive cell never raises on purpose


def test_unknown_question_gets_a_valid_guess() -> None:
    sample = Sample(
        id="x",
        suite="t",
        question="What colour is the sky?",
        answer_format="yes_no",
        ground_truth="yes",
        videos=(),
    )
    messages = [
        Message(role="system", content=prompts.agent_system_prompt(30)),
        prompts.first_user_message(sample, []),
    ]
    step = parse_step(ScriptedPolicy().respond(messages, seed=0).content)
    assert isinstance(step, StepResponse) and "ReturnAnswer(" in step.code


async def test_episode_through_the_real_perception_server(
    tmp_path: Path, suite: SyntheticSuite, samples: list[Sample]
) -> None:
    socket = str(tmp_path / "perception.sock")
    sample = samples[TASKS.index("abs_distance_closest")]
    async with serve_perception(PerceptionConfig(), socket_path=socket, backend=backend()):
        outcome = await anyio.to_thread.run_sync(
            lambda: run_episode(suite, sample, ScriptedPolicy(mistake_rate=0.0), socket=socket)
        )
    assert outcome.score >= 0.9, outcome.transcript


def test_rates_come_from_arguments_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAW_SCRIPTED_MISTAKE_RATE", "0.5")
    policy = ScriptedPolicy(error_rate=0.0)
    assert (policy.error_rate, policy.mistake_rate) == (0.0, 0.5)
    assert "mistake_rate=0.5" in repr(policy)
    monkeypatch.setenv("CLAW_SCRIPTED_ERROR_RATE", "often")
    with pytest.raises(ConfigError, match="CLAW_SCRIPTED_ERROR_RATE"):
        ScriptedPolicy()
    with pytest.raises(ConfigError, match="between 0 and 1"):
        ScriptedPolicy(error_rate=0.1, mistake_rate=2.0)


@pytest.mark.parametrize("index", range(len(TASKS)))
def test_single_pass_answers_in_one_cell(suite: SyntheticSuite, samples: list[Sample], index: int) -> None:
    with routed_perception(backend()):
        outcome = run_episode(suite, samples[index], ScriptedPolicy(), single_pass=True)
    assert outcome.steps == 1 and outcome.errors == 0
    assert outcome.score >= 0.9, outcome.transcript


@pytest.mark.parametrize(
    "task", ["abs_distance_closest", "object_count", "relative_direction_camera", "camera_rotation"]
)
def test_tool_call_interface_answers_through_one_call_per_turn(
    suite: SyntheticSuite, samples: list[Sample], task: str
) -> None:
    with routed_perception(backend()):
        outcome = run_tool_episode(suite, samples[TASKS.index(task)], ScriptedPolicy())
    assert outcome.errors == 0 and outcome.steps >= 3
    assert outcome.score >= 0.9, outcome.transcript
