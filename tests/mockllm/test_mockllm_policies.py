"""The echo and random policies."""

from __future__ import annotations

import re

import pytest

from claw.agent.markers import ANSWER_FORMAT_HEADING, FINAL_ANSWER_PREFIX, OPTIONS_HEADING, QUESTION_HEADING
from claw.llm.types import Message
from servers.mockllm.policies.simple import EchoPolicy, RandomPolicy
from servers.mockllm.policy import load_policy


def _question(i: int, answer_format: str, options: list[str] | None = None) -> list[Message]:
    text = f"{QUESTION_HEADING}\nQuestion number {i}?\n"
    if options:
        text += (
            f"{OPTIONS_HEADING}\n" + "\n".join(f"{chr(65 + k)}. {o}" for k, o in enumerate(options)) + "\n"
        )
    text += f"{ANSWER_FORMAT_HEADING}\n{answer_format}\n"
    return [Message(role="system", content="sys"), Message(role="user", content=text)]


def _final(reply: str) -> str:
    last = reply.strip().splitlines()[-1]
    assert last.startswith(FINAL_ANSWER_PREFIX)
    return last[len(FINAL_ANSWER_PREFIX) :].strip()


def test_policies_load_by_name() -> None:
    assert isinstance(load_policy("echo"), EchoPolicy)
    assert isinstance(load_policy("random"), RandomPolicy)


def test_echo_repeats_last_user_text() -> None:
    messages = [Message(role="user", content="one"), Message(role="assistant", content="x")]
    messages.append(Message(role="user", content="two"))
    assert EchoPolicy().respond(messages, seed=0).content == "two"
    assert EchoPolicy().respond([], seed=0).content == ""


def test_random_mcq_is_at_chance() -> None:
    policy = RandomPolicy()
    answers = [
        _final(policy.respond(_question(i, "letter", ["a", "b", "c", "d"]), seed=0).content)
        for i in range(800)
    ]
    assert set(answers) == {"A", "B", "C", "D"}
    share_a = answers.count("A") / len(answers)
    assert 0.19 < share_a < 0.31


def test_random_respects_three_options() -> None:
    answers = {
        _final(RandomPolicy().respond(_question(i, "letter", ["x", "y", "z"]), seed=1).content)
        for i in range(60)
    }
    assert answers == {"A", "B", "C"}


@pytest.mark.parametrize(
    ("answer_format", "pattern"), [("number", r"^\d+\.\d\d$"), ("yes_no", r"^(yes|no)$")]
)
def test_random_formats(answer_format: str, pattern: str) -> None:
    answers = {_final(RandomPolicy().respond(_question(i, answer_format), seed=2).content) for i in range(40)}
    assert all(re.match(pattern, a) for a in answers) and len(answers) > 1


def test_random_is_deterministic_per_question_and_seed() -> None:
    question = _question(5, "letter", ["a", "b", "c", "d"])
    replies = {RandomPolicy().respond(question, seed=3).content for _ in range(5)}
    assert len(replies) == 1
    other_seeds = {RandomPolicy().respond(question, seed=s).content for s in range(20)}
    assert len(other_seeds) > 1
