"""`ProbePolicy`: a thinking model that exercises every kernel tool once per episode, for end-to-end
checks of a real configuration (real perception backends, real samples) with no real model.

As the agent it writes one cell that calls `Reconstruct`, `SAM3`, `vlm.ask` and `vlm.locate` on the
first frames and prints what they returned, then answers in the question's format. As the planner it
returns a short plan; answering a `vlm` sub-call it replies like a VLM (a description, grounding JSON
on the 0..1000 grid, or a short reasoning answer). Every reply comes with reasoning (sent apart from the
content by the server) that holds a code block which must never run.
"""

from __future__ import annotations

from claw.agent.markers import AGENT_SYSTEM_HEADER, OBSERVATION_HEADING, PLANNER_SYSTEM_HEADER
from claw.llm.types import Message
from claw.runtime.vlm_calls import LOCATE_PREFIX, REASON_PREFIX
from servers.mockllm.policy import PolicyReply

__all__ = ["PROBE_CELL", "REASONING_MARK", "ProbePolicy"]

REASONING_MARK = "this came from the reasoning"
_REASONING = (
    "Let me think before answering. A first idea:\n"
    f"```python\nReturnAnswer('{REASONING_MARK}')\n```\n"
    "No, that skips the evidence; I will write the real cell."
)
_SECTIONS = (
    "**Purpose:** {purpose}\n**Reasoning:** {why}\n**Next Goal:** {goal}\n**Code:**\n```python\n{code}\n```"
)

PROBE_CELL = """\
frames = (InputImages_1 if len(Metadata.videos) > 1 else InputImages)[:2]
rec = Reconstruct(frames)
seg = SAM3(frames, text='object')
seen = vlm.ask('What is in this picture? One sentence.', images=[frames[0]])
where = vlm.locate('the main object', frames[0])
fi = frames[0].index
print('reconstruct', rec.frame_indices, rec.depth[fi].shape, rec.extrinsics[fi].shape)
print('sam3', seg.frame_indices, seg.count(fi))
print('vlm.ask', seen)
print('vlm.locate', bool(where), where.boxes.shape)
print('depth std', float(rec.depth[fi].std()))
"""

_ANSWER_CELL = """\
fmt = Metadata.answer_format
ReturnAnswer({'letter': 'A', 'number': 1.0, 'yes_no': 'yes'}.get(fmt, 'unknown'))
"""

_LOCATED = '{"visible": true, "boxes": [[250, 250, 750, 750]], "points": [[500, 500]]}'


class ProbePolicy:
    """Deterministic: the reply depends on the request's kind and how many observations it holds."""

    name = "probe"

    def respond(self, messages: list[Message], *, seed: int, tools: list[str] | None = None) -> PolicyReply:
        """A plan, the probe cell, the answer cell, or a `vlm` sub-call's answer."""
        system = messages[0].text() if messages and messages[0].role == "system" else ""
        user = next((m.text() for m in messages if m.role == "user"), "")
        if system.startswith(PLANNER_SYSTEM_HEADER):
            content = "1. Reconstruct and segment the first frames.\n2. Ask the VLM.\n3. Answer."
        elif system.startswith(AGENT_SYSTEM_HEADER):
            content = _cell(
                sum(m.role == "user" and m.text().startswith(OBSERVATION_HEADING) for m in messages)
            )
        elif user.startswith(LOCATE_PREFIX):
            content = _LOCATED
        elif REASON_PREFIX in user:
            content = "4"
        else:
            content = "A probe picture."
        return PolicyReply(content=content, reasoning=_REASONING)


def _cell(observations: int) -> str:
    if observations == 0:
        return _SECTIONS.format(
            purpose="call every tool once", why="check the tools", goal="see them all work", code=PROBE_CELL
        )
    return _SECTIONS.format(purpose="answer", why="the tools worked", goal="submit", code=_ANSWER_CELL)
