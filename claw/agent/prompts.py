"""How every episode opens: the system prompts of the four action interfaces, the planner's request and
the first user message (question, the benchmark's instruction, answer format, input description with the
key-frame map, key frames). The messages that follow turn by turn are in `claw.agent.observations`.

The agent's system prompt is the same for every episode of an interface (so a server's prefix cache
shares it across episodes); everything sample-specific goes into the first user message. Within an
episode, each request's messages extend the previous request's exactly: observations, corrections and
the forced-answer turn are appended, never rewritten. The standing guidance is in `claw.agent.guide`; the
tool contracts are generated from the kernel code by `claw.agent.toolref`, so they cannot drift apart.
"""

from __future__ import annotations

from claw.agent import guide
from claw.agent.input_map import input_description
from claw.agent.markers import (
    AGENT_SYSTEM_HEADER,
    ANSWER_FORMAT_HEADING,
    FINAL_ANSWER_PREFIX,
    OPTIONS_HEADING,
    PLANNER_SYSTEM_HEADER,
    QUESTION_HEADING,
    SINGLE_PASS_TAG,
)
from claw.agent.observations import image_parts
from claw.agent.toolref import render_reference
from claw.llm.types import ContentPart, Message, TextPart
from claw.suite import Sample

__all__ = [
    "agent_system_prompt",
    "cot_messages",
    "first_user_message",
    "planner_messages",
    "planner_system_prompt",
    "tool_reference",
    "tool_system_prompt",
]

_FORMAT_RULES = {
    "letter": "the letter of one option, e.g. ReturnAnswer('B')",
    "number": "one number, units optional, e.g. ReturnAnswer(2.35) or ReturnAnswer('2.35 m')",
    "yes_no": "ReturnAnswer('yes') or ReturnAnswer('no')",
    "text": "a short phrase, e.g. ReturnAnswer('the red chair')",
}

_AGENT_INTRO = (
    "You answer questions about 3-D space in images and videos by writing Python, one cell per turn, into "
    "a persistent kernel that holds the inputs and perception tools, reading what each cell printed and "
    "showed, correcting yourself, and ending with ReturnAnswer(...)."
)
_PLANNER_INTRO = (
    "You plan how an agent should answer a spatial question about images or a video. The agent writes "
    "Python in a kernel with the tools below, one cell per turn. You cannot see the images: you get the "
    "question, the benchmark's instruction and a description of the input. Your plan is given to the "
    "agent before its first cell."
)
_COT_BODY = """\
You answer questions about 3-D space in images and videos by looking at the frames. Think step by step,
then end with one line `{prefix} <answer>`.
"""


def tool_reference() -> str:
    """Every kernel name's contract and worked example, generated from the kernel code."""
    return render_reference()


def _sections(*sections: guide.Section) -> str:
    return "\n\n".join(f"## {title}\n{body}" for title, body in sections)


def _tools_section() -> str:
    note = "Contracts generated from the kernel's code; the examples form one running session."
    return f"## Tools\n{note}\n\n{tool_reference()}"


def agent_system_prompt(max_steps: int, *, single_pass: bool = False) -> str:
    """The code-interface system prompt (identical for every episode with the same step budget); with
    `single_pass`, the one-program variant of the same prompt."""
    if single_pass:
        workflow, budget = guide.SINGLE_PASS_WORKFLOW, f"{SINGLE_PASS_TAG} One cell, no feedback."
    else:
        workflow, budget = guide.WORKFLOW, f"You have at most {max_steps} cells."
    head = _sections(guide.RESPONSE_FORMAT, guide.KERNEL, guide.LOOKING, guide.EVIDENCE)
    tail = _sections(
        guide.COORDINATES, guide.ROBUST, guide.CROSS_CHECK, guide.ANSWERING, guide.CODE_RULES, workflow
    )
    return f"{AGENT_SYSTEM_HEADER}\n\n{_AGENT_INTRO}\n\n{head}\n\n{_tools_section()}\n\n{tail}\n\n{budget}\n"


def planner_system_prompt() -> str:
    """The planner's system prompt: the same tools and method as the agent's, then the plan it writes."""
    body = _sections(
        guide.KERNEL,
        guide.EVIDENCE,
        guide.PLANNER_TOOL_CHOICE,
        guide.COORDINATES,
        guide.ROBUST,
        guide.CROSS_CHECK,
    )
    return (
        f"{PLANNER_SYSTEM_HEADER}\n\n{_PLANNER_INTRO}\n\n{body}\n\n{_tools_section()}\n\n"
        f"{_sections(guide.PLANNER_TASK)}\n"
    )


def _question_block(sample: Sample) -> str:
    parts = [QUESTION_HEADING, sample.question.strip()]
    if sample.instruction:
        parts.extend(["", sample.instruction.strip()])
    if sample.options:
        parts.append(OPTIONS_HEADING)
        parts.extend(f"{chr(65 + i)}. {text}" for i, text in enumerate(sample.options))
    parts.extend([ANSWER_FORMAT_HEADING, sample.answer_format])
    parts.append(f"Submit {_FORMAT_RULES[sample.answer_format]}.")
    return "\n".join(parts)


def planner_messages(sample: Sample) -> list[Message]:
    """The text-only planning request (no images)."""
    user = f"{_question_block(sample)}\n\n{input_description(sample, with_images=False)}"
    return [Message(role="system", content=planner_system_prompt()), Message(role="user", content=user)]


def first_user_message(sample: Sample, image_urls: list[str]) -> Message:
    """The question, the benchmark's instruction, the input description with the key-frame map, and the
    key frames (chosen by `claw.suite.key_frames`, like the map)."""
    text = f"{_question_block(sample)}\n\n{input_description(sample)}"
    parts: list[ContentPart] = [TextPart(text=text), *image_parts(image_urls)]
    return Message(role="user", content=parts)


def cot_messages(sample: Sample, image_urls: list[str]) -> list[Message]:
    """The no-tools interface: look at the frames, think, answer."""
    body = _COT_BODY.format(prefix=FINAL_ANSWER_PREFIX)
    user = f"{_question_block(sample)}\n\n{input_description(sample)}"
    parts: list[ContentPart] = [TextPart(text=user), *image_parts(image_urls)]
    return [Message(role="system", content=body), Message(role="user", content=parts)]


_TOOL_BODY = """\
You answer questions about 3-D space in images and videos by calling tools, exactly one tool call per
turn. Each call's result is kept in the kernel as r1, r2, … (the name is in the tool's reply); pass an
earlier result or any kernel value to a later call as a string starting with "$", e.g. "$r1",
"$InputImages[0]", "$r2.mask(0, 1)". The frames are InputImages (FrameImage objects with .index, the
absolute frame index). Conventions: metres; world +Y up, ground near Y = 0; camera-to-world poses with
OpenCV axes. Index Reconstruct and SAM3 results by absolute frame index. Check a mask is non-empty before
you trust numbers computed from it. Finish by calling the `answer` tool.
"""


def tool_system_prompt(max_steps: int) -> str:
    """The tool-call interface's system prompt (the tools themselves travel in the request)."""
    method = _sections(guide.COORDINATES, guide.ROBUST, guide.CROSS_CHECK)
    return f"{AGENT_SYSTEM_HEADER}\n\n{_TOOL_BODY}\n{method}\n\nYou have at most {max_steps} tool calls.\n"
