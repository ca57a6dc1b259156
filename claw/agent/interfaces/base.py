"""What an action interface decides, as a small strategy object, and the records it returns.

The episode core (`claw.runtime.episode`) owns the phases (plan, code, check, execute, feedback, answer);
a strategy owns what differs between interfaces: the opening prompt, the tools offered, how a reply
becomes a cell (`read_reply`), and how a message about that cell reaches the model (`deliver`). Strategies
are pure and stateless; what they read from a reply travels in the returned `Turn`.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from claw.agent import observations
from claw.agent.parsing import Malformed, StepResponse, parse_step
from claw.llm.types import Message, ToolCall, ToolSpec
from claw.suite import Sample

__all__ = ["ActionInterface", "AnswerTurn", "CellTurn", "Opening", "Turn", "UnusableTurn"]


class Opening(msgspec.Struct, frozen=True, kw_only=True):
    """How an episode opens: the system prompt and the first user message."""

    system: str
    first_user: Message


class CellTurn(msgspec.Struct, frozen=True, kw_only=True):
    """A reply that proposed a cell: the reply as appended, the parsed step and (tool calls) the call ids,
    the first of which the cell answers."""

    reply: Message
    proposed: StepResponse
    call_ids: tuple[str, ...] = ()


class AnswerTurn(msgspec.Struct, frozen=True, kw_only=True):
    """A reply that gave the final answer directly."""

    reply: Message
    answer: str


class UnusableTurn(msgspec.Struct, frozen=True, kw_only=True):
    """A reply with nothing to run: why, and the messages that tell the model what to fix."""

    reply: Message
    reason: str
    notes: tuple[Message, ...]


Turn = CellTurn | AnswerTurn | UnusableTurn


class ActionInterface:
    """One action interface. The defaults are the code-turn format shared by `code` and `single-pass`."""

    name: ClassVar[str]
    feedback: ClassVar[bool] = True
    """The model sees each cell's result and may write another; a spent budget ends in a forced answer.
    Without feedback the episode gets one turn and no forced answer."""
    answers_at_once: ClassVar[bool] = False
    """The opening request is already the answer turn (no cells at all)."""
    plans: ClassVar[bool] = True
    """A planner call precedes the first turn when the run asks for one."""

    def step_budget(self, max_steps: int) -> int:
        """Turns the episode may take."""
        return max_steps if self.feedback else 1

    def opening(self, sample: Sample, image_urls: tuple[str, ...], max_steps: int) -> Opening:
        """The system prompt and first user message of an episode on `sample`."""
        raise NotImplementedError

    def tools(self) -> tuple[ToolSpec, ...]:
        """Function tools offered with every turn's request (none by default)."""
        return ()

    def read_reply(self, text: str, tool_calls: tuple[ToolCall, ...], step: int, steps_left: int) -> Turn:
        """What the reply of turn `step` amounts to (`steps_left` counts the turns after this one)."""
        reply = observations.assistant_message(text)
        parsed = parse_step(text)
        if isinstance(parsed, Malformed):
            note = observations.malformed_message(step, parsed.reason, steps_left)
            return UnusableTurn(reply=reply, reason=parsed.reason, notes=(note,))
        return CellTurn(reply=reply, proposed=parsed)

    def deliver(self, turn: CellTurn, message: Message) -> tuple[Message, ...]:
        """`message` (an observation or a rejection of the turn's cell) as appended to the transcript."""
        return (message,)
