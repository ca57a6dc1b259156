"""`ScriptedPolicy`: which reply a request gets (a plan, a code turn, a tool call, a final answer) and
the code episode's stage logic (perceive, compute, answer; planned errors and quiet mistakes, then their
corrections).
"""

from __future__ import annotations

import os
import re

from claw.agent.markers import (
    AGENT_SYSTEM_HEADER,
    ANSWER_SECTION,
    ERROR_SECTION,
    FINAL_ANSWER_TAG,
    PLANNER_SYSTEM_HEADER,
    SINGLE_PASS_TAG,
)
from claw.errors import ConfigError
from claw.llm.types import Message
from servers.mockllm.policies.scripted.question import Parsed, object_names
from servers.mockllm.policies.scripted.render import (
    answer_cell,
    compute_cell,
    perceive_cell,
    reply,
    single_pass_cell,
)
from servers.mockllm.policies.scripted.toolcalls import tool_call_reply
from servers.mockllm.policies.scripted.transcript import (
    Episode,
    fallback,
    final_answer,
    last_result,
    output_of,
    plan,
    problem,
    read_episode,
    rng,
)
from servers.mockllm.policy import PolicyReply

__all__ = ["ScriptedPolicy"]

_MAX_TURNS = 10
_STAGE = re.compile(r"^# stage: (\w+)", re.MULTILINE)


def _single_pass(parsed: Parsed) -> str:
    return reply(
        "Answer in one program.",
        "I will not see the output, so the cell measures and submits.",
        "An accepted answer.",
        single_pass_cell(parsed),
    )


def _guess(episode: Episode) -> str:
    return fallback(episode.parsed, rng(episode.rng_key, "guess"))


def _planned_mistake(episode: Episode, mistake_rate: float) -> str | None:
    if rng(episode.rng_key, "mistake").random() >= mistake_rate:
        return None
    choices = {"object_size": "slip", "height_comparison": "slip"}
    if episode.parsed.task in choices:
        return choices[episode.parsed.task]
    no_names = ("camera_motion", "camera_rotation", "room_size")
    return "vague" if episode.parsed.task not in no_names else None


def _rate(value: float | None, env: str, default: float) -> float:
    if value is None:
        text = os.environ.get(env, "")
        try:
            value = float(text) if text else default
        except ValueError:
            raise ConfigError(f"{env}={text!r} is not a number; give a rate between 0 and 1") from None
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"scripted policy rate {value} ({env}) must be between 0 and 1")
    return value


class ScriptedPolicy:
    """A deterministic, tool-using agent for the synthetic suite (see the module docstring).

    Args:
        error_rate: share of episodes whose first compute cell raises a NameError (default: the
            `CLAW_SCRIPTED_ERROR_RATE` environment variable, else 0.25).
        mistake_rate: share of episodes with a quiet mistake that the cell's own check exposes (default:
            `CLAW_SCRIPTED_MISTAKE_RATE`, else 0.1).

    Raises:
        ConfigError: a rate outside 0..1 or an environment value that is not a number.
    """

    name = "scripted"

    def __init__(self, error_rate: float | None = None, mistake_rate: float | None = None) -> None:
        self.error_rate = _rate(error_rate, "CLAW_SCRIPTED_ERROR_RATE", 0.25)
        self.mistake_rate = _rate(mistake_rate, "CLAW_SCRIPTED_MISTAKE_RATE", 0.1)

    def __repr__(self) -> str:
        return f"ScriptedPolicy(error_rate={self.error_rate}, mistake_rate={self.mistake_rate})"

    def respond(self, messages: list[Message], *, seed: int, tools: list[str] | None = None) -> PolicyReply:
        """The next reply: a plan, a code turn, or a final answer, depending on the request."""
        system = messages[0].text() if messages and messages[0].role == "system" else ""
        episode = read_episode(messages, seed)
        if system.startswith(PLANNER_SYSTEM_HEADER):
            return PolicyReply(content=plan(episode.parsed))
        last_user = next((m.text() for m in reversed(messages) if m.role == "user"), "")
        if not system.startswith(AGENT_SYSTEM_HEADER) or FINAL_ANSWER_TAG in last_user:
            return PolicyReply(content=final_answer(episode))
        if tools:
            return tool_call_reply(messages, episode.parsed, rng(episode.rng_key, "guess"))
        if SINGLE_PASS_TAG in system and episode.parsed.task != "unknown":
            return PolicyReply(content=_single_pass(episode.parsed))
        return PolicyReply(content=self._code_turn(episode))

    def _code_turn(self, episode: Episode) -> str:
        parsed = episode.parsed
        if parsed.task == "unknown" or len(episode.cells) >= _MAX_TURNS:
            answer = last_result(episode.observations) or fallback(parsed, rng(episode.rng_key, "guess"))
            return reply(
                "Answer with what I have.",
                "I cannot measure this question with my tools.",
                "Submit.",
                answer_cell(parsed, answer),
            )
        if not episode.cells:
            vague = _planned_mistake(episode, self.mistake_rate) == "vague"
            about = ", ".join(object_names(parsed)) or "the cameras"
            return reply(
                "Find the objects and reconstruct the scene.",
                f"The question is about {about}; I need their 3-D points from every frame.",
                "Point counts per object and a mask overlay.",
                perceive_cell(parsed, vague_prompts=vague),
            )
        return self._next_cell(episode)

    def _next_cell(self, episode: Episode) -> str:
        parsed, last_obs = episode.parsed, episode.observations[-1] if episode.observations else ""
        stage_match = _STAGE.search(episode.cells[-1])
        stage = stage_match.group(1) if stage_match else "perceive"
        failed = ERROR_SECTION in last_obs or "CHECK FAILED" in output_of(last_obs)
        result = last_result(episode.observations[-1:])
        if stage == "answer" or ANSWER_SECTION in last_obs or (result is not None and not failed):
            value = result or last_result(episode.observations) or _guess(episode)
            return reply(
                "Submit the measured answer.",
                f"The previous cell printed RESULT: {value}.",
                "The answer is accepted.",
                answer_cell(parsed, value),
            )
        if stage == "perceive" and failed:
            return reply(
                "Redo the segmentation with the objects' full names.",
                f"The last cell failed its check or raised:\n{problem(last_obs)}",
                "Non-empty masks for every object.",
                perceive_cell(parsed),
            )
        if stage == "compute" and failed:
            return reply(
                "Fix the measurement.",
                f"The last cell went wrong:\n{problem(last_obs)}\n"
                "I will correct that line and measure again.",
                "A plausible RESULT line.",
                compute_cell(parsed),
            )
        return self._first_compute(episode)

    def _first_compute(self, episode: Episode) -> str:
        wrong_name = rng(episode.rng_key, "raise").random() < self.error_rate
        slip = _planned_mistake(episode, self.mistake_rate) == "slip"
        return reply(
            "Measure what the question asks.",
            "The objects were found; now compute the quantity from their points.",
            "A RESULT line with the value to submit.",
            compute_cell(episode.parsed, slip=slip, wrong_name=wrong_name),
        )
