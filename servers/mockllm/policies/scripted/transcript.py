"""What the scripted policy reads back from a transcript: the question, its own earlier cells and the
observations they got (printed results, errors, failed checks), plus the deterministic random choices and
the text-only replies (the plan and the final answer).
"""

from __future__ import annotations

import hashlib
import random
import re

import msgspec

from claw.agent.markers import ERROR_SECTION, FINAL_ANSWER_PREFIX, OBSERVATION_HEADING, OUTPUT_SECTION
from claw.llm.types import Message
from servers.mockllm.policies.scripted.question import Parsed, object_names, parse_question

__all__ = [
    "Episode",
    "fallback",
    "final_answer",
    "last_result",
    "output_of",
    "plan",
    "problem",
    "read_episode",
    "rng",
]

_RESULT = re.compile(r"^RESULT:\s*(\S+)", re.MULTILINE)
_EXC_LINE = re.compile(r"^\w+(Error|Exception):")


class Episode(msgspec.Struct, frozen=True, kw_only=True):
    """The transcript as the policy reads it: the question, its own past cells and what they gave."""

    parsed: Parsed
    cells: tuple[str, ...]
    observations: tuple[str, ...]
    rng_key: str


def rng(key: str, salt: str) -> random.Random:
    return random.Random(hashlib.blake2b(f"{key}|{salt}".encode(), digest_size=8).hexdigest())


def _code_of(reply: str) -> str:
    match = re.search(r"```python\n(.*?)```", reply, re.DOTALL)
    return match.group(1) if match else ""


def output_of(observation: str) -> str:
    if OUTPUT_SECTION not in observation:
        return ""
    return observation.split(OUTPUT_SECTION, 1)[1]


def last_result(observations: tuple[str, ...]) -> str | None:
    for obs in reversed(observations):
        found = _RESULT.findall(output_of(obs).split(ERROR_SECTION, 1)[0])
        if found:
            return str(found[-1])
    return None


def fallback(parsed: Parsed, rng: random.Random) -> str:
    if parsed.answer_format == "letter" or parsed.options:
        return rng.choice([chr(65 + i) for i in range(max(len(parsed.options), 1))])
    if parsed.answer_format == "yes_no":
        return rng.choice(["yes", "no"])
    if parsed.answer_format == "number":
        return "1.0"
    return "unknown"


def problem(observation: str) -> str:
    lines = [ln for ln in observation.splitlines() if "CHECK FAILED" in ln or _EXC_LINE.match(ln)]
    return "\n".join(lines[:2]) or "(no message)"


def read_episode(messages: list[Message], seed: int) -> Episode:
    first_user = next((m.text() for m in messages if m.role == "user"), "")
    cells = tuple(_code_of(m.text()) for m in messages if m.role == "assistant")
    users = (m.text() for m in messages if m.role == "user")
    observations = tuple(text for text in users if text.startswith(OBSERVATION_HEADING))
    return Episode(
        parsed=parse_question(first_user),
        cells=cells,
        observations=observations,
        rng_key=f"{seed}|{first_user}",
    )


def plan(parsed: Parsed) -> str:
    objects = ", ".join(object_names(parsed)) or "nothing (camera poses only)"
    return (
        f"1. Segment by name in every frame: {objects}; check every mask is non-empty.\n"
        "2. Reconstruct all frames and gather each object's world points (erode mask edges).\n"
        f"3. Measure for a {parsed.task.replace('_', ' ')} question with tools.Geometry and print it.\n"
        "4. Sanity-check units (metres; +Y up), then ReturnAnswer in the requested format."
    )


def final_answer(episode: Episode) -> str:
    result = last_result(episode.observations)
    if result is not None:
        return f"My last measurement printed RESULT: {result}.\n{FINAL_ANSWER_PREFIX} {result}"
    guess = fallback(episode.parsed, rng(episode.rng_key, "guess"))
    return f"I have no measurement, so this is a guess.\n{FINAL_ANSWER_PREFIX} {guess}"
