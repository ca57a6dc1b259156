"""`StuckPolicy`: a model whose every cell blocks inside C code, for fault tests. The cell sums a huge
range, a loop that runs for hours inside the interpreter's C code and, like any long C call that checks
no signal, ignores the kernel's interrupt, so the runtime must kill the kernel and the episode must still
end.
"""

from __future__ import annotations

from claw.agent.markers import PLANNER_SYSTEM_HEADER
from claw.llm.types import Message
from servers.mockllm.policy import PolicyReply

__all__ = ["STUCK_CELL", "StuckPolicy"]

STUCK_CELL = "total = sum(range(10**15))\nReturnAnswer('A')"
"""`sum` over a `range` stays in C for hours without checking for signals."""

_REPLY = "**Purpose:** look\n**Reasoning:** match\n**Next Goal:** answer\n**Code:**\n```python\n{code}\n```"


class StuckPolicy:
    """Deterministic: always the same blocking cell; a forced final answer is A."""

    name = "stuck"

    def respond(self, messages: list[Message], *, seed: int, tools: list[str] | None = None) -> PolicyReply:
        """A one-line plan, else the blocking cell (which would answer A if it ever finished)."""
        if messages and messages[0].text().startswith(PLANNER_SYSTEM_HEADER):
            return PolicyReply(content="1. match\n2. answer")
        return PolicyReply(content=_REPLY.format(code=STUCK_CELL) + "\nFinal answer: A")
