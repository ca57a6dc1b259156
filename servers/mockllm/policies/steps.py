"""`StepsPolicy`: a fixed-length code agent for runtime benchmarks. It plans in one line, writes
`STEPS` trivial cells (one for `TwoStepPolicy`), then submits option A, so every episode costs the same
number of model calls and the runtime's own overhead can be measured against an exact ideal.
"""

from __future__ import annotations

from claw.agent.markers import OBSERVATION_HEADING, PLANNER_SYSTEM_HEADER
from claw.llm.types import Message
from servers.mockllm.policy import PolicyReply

__all__ = ["STEPS", "StepsPolicy", "TwoStepPolicy"]

STEPS = 3
"""Cells before the answer; an episode makes STEPS + 1 agent calls and one planner call."""

_CELL = "**Purpose:** step\n**Reasoning:** measure\n**Next Goal:** go on\n**Code:**\n```python\n{code}\n```"


class StepsPolicy:
    """Deterministic: the reply depends only on how many observations the transcript holds."""

    name = "steps"
    steps = STEPS

    def respond(self, messages: list[Message], *, seed: int, tools: list[str] | None = None) -> PolicyReply:
        """A plan, a trivial cell, or the answer cell."""
        if messages and messages[0].text().startswith(PLANNER_SYSTEM_HEADER):
            return PolicyReply(content="1. compute\n2. answer")
        observations = sum(m.role == "user" and m.text().startswith(OBSERVATION_HEADING) for m in messages)
        code = (
            f"x{observations} = {observations}\nprint(x{observations})"
            if observations < self.steps
            else "ReturnAnswer('A')"
        )
        return PolicyReply(content=_CELL.format(code=code))


class TwoStepPolicy(StepsPolicy):
    """The trivial two-step episode: a plan, one cell, then the answer cell (three model calls)."""

    name = "two-step"
    steps = 1
