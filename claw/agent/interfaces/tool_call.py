"""The `tool-call` interface: the kernel tools offered as function tools, one call per turn; each call
becomes a one-line cell (`claw.agent.toolcall`) that runs through the same policy and kernel as code."""

from __future__ import annotations

from claw.agent import observations, prompts, toolcall
from claw.agent.interfaces.base import ActionInterface, AnswerTurn, CellTurn, Opening, Turn, UnusableTurn
from claw.agent.parsing import StepResponse, extract_final_answer
from claw.llm.types import Message, ToolCall, ToolSpec
from claw.suite import Sample

__all__ = ["ToolCallInterface", "interface"]

_ONE_PER_STEP = "Not executed: one tool call per turn. Call it again in your next turn if you still need it."
_CALL_A_TOOL = "call one of the tools (one per turn)"


class ToolCallInterface(ActionInterface):
    """JSON tool calls as the action interface, one call executed per turn."""

    name = "tool-call"

    def opening(self, sample: Sample, image_urls: tuple[str, ...], max_steps: int) -> Opening:
        """The tool-call system prompt (the tools travel in the request) and the question."""
        return Opening(
            system=prompts.tool_system_prompt(max_steps),
            first_user=prompts.first_user_message(sample, list(image_urls)),
        )

    def tools(self) -> tuple[ToolSpec, ...]:
        """Every kernel tool as a function tool, in a stable order."""
        return tuple(toolcall.tool_specs())

    def read_reply(self, text: str, tool_calls: tuple[ToolCall, ...], step: int, steps_left: int) -> Turn:
        """The first call becomes the turn's cell; further calls are answered as not executed."""
        reply = Message(role="assistant", content=text, tool_calls=list(tool_calls) or None)
        if not tool_calls:
            answer = extract_final_answer(text)
            if answer is not None:
                return AnswerTurn(reply=reply, answer=answer)
            note = observations.malformed_message(step, _CALL_A_TOOL, steps_left)
            return UnusableTurn(reply=reply, reason=_CALL_A_TOOL, notes=(note,))
        call_ids = tuple(call.id for call in tool_calls)
        cell = toolcall.cell_for_call(tool_calls[0], step)
        if isinstance(cell, toolcall.ToolCellError):
            notes = _with_extras(call_ids, (observations.tool_note_message(call_ids[0], cell.message),))
            return UnusableTurn(reply=reply, reason=cell.message, notes=notes)
        proposed = StepResponse(purpose="tool call", reasoning="", next_goal="", code=cell)
        return CellTurn(reply=reply, proposed=proposed, call_ids=call_ids)

    def deliver(self, turn: CellTurn, message: Message) -> tuple[Message, ...]:
        """`message` as the reply to the executed call (tool messages hold no images: any follow in a user
        message), after a reply to every extra call of the turn (the API needs one per call id)."""
        return _with_extras(turn.call_ids, observations.tool_result_messages(turn.call_ids[0], message))


def _with_extras(call_ids: tuple[str, ...], first: tuple[Message, ...]) -> tuple[Message, ...]:
    tool_messages = tuple(m for m in first if m.role == "tool")
    others = tuple(m for m in first if m.role != "tool")
    extras = tuple(observations.tool_note_message(call_id, _ONE_PER_STEP) for call_id in call_ids[1:])
    return tool_messages + extras + others


interface = ToolCallInterface()
