"""Two model-free policies: `EchoPolicy` (repeats the last user text) and `RandomPolicy` (answers at chance).

`RandomPolicy` reads the answer format from the transcript the way a model would (the `## Answer format`
line, the `## Options` list) and picks uniformly: an option letter, a number, yes/no, or a word. Its
reply ends with `Final answer: <answer>`. Both are deterministic given (messages, seed).
"""

from __future__ import annotations

import hashlib
import random
import re

from claw.agent.markers import ANSWER_FORMAT_HEADING, FINAL_ANSWER_PREFIX, OPTIONS_HEADING
from claw.llm.types import Message
from servers.mockllm.policy import PolicyReply

__all__ = ["EchoPolicy", "RandomPolicy"]

_OPTION = re.compile(r"^\s*\(?([A-Z])[).:]\s", re.MULTILINE)


class EchoPolicy:
    """Replies with the text of the last user message."""

    name = "echo"

    def respond(self, messages: list[Message], *, seed: int, tools: list[str] | None = None) -> PolicyReply:
        """The last user message's text (empty when there is none)."""
        last = next((m for m in reversed(messages) if m.role == "user"), None)
        return PolicyReply(content=last.text() if last is not None else "")


def _section(text: str, heading: str) -> str:
    """The lines after `heading` up to the next `## ` heading."""
    if heading not in text:
        return ""
    after = text.split(heading, 1)[1]
    return after.split("\n## ", 1)[0]


def _rng(messages: list[Message], seed: int) -> random.Random:
    first_user = next((m.text() for m in messages if m.role == "user"), "")
    digest = hashlib.blake2b(first_user.encode(), digest_size=8).hexdigest()
    return random.Random(f"{seed}:{digest}")


def random_answer(question: str, rng: random.Random) -> str:
    """A uniformly random answer in the format `question` asks for."""
    answer_format = _section(question, ANSWER_FORMAT_HEADING).strip().split("\n", 1)[0].strip().lower()
    letters: list[str] = _OPTION.findall(_section(question, OPTIONS_HEADING))
    if letters or answer_format == "letter":
        return rng.choice(letters or ["A", "B", "C", "D"])
    if answer_format == "number":
        return f"{rng.uniform(0.0, 10.0):.2f}"
    if answer_format == "yes_no":
        return rng.choice(["yes", "no"])
    return rng.choice(["left", "right", "front", "behind", "above", "below"])


class RandomPolicy:
    """Answers every question at chance, in the right format, ending with `Final answer: <answer>`."""

    name = "random"

    def respond(self, messages: list[Message], *, seed: int, tools: list[str] | None = None) -> PolicyReply:
        """A random answer to the question in the first user message (same answer on every turn)."""
        question = "\n".join(m.text() for m in messages if m.role == "user")
        answer = random_answer(question, _rng(messages, seed))
        return PolicyReply(content=f"I will guess.\n{FINAL_ANSWER_PREFIX} {answer}")
