"""How every episode opens: the system prompts of the four action interfaces, the planner's request and
the first user message (question, answer format, input description, key frames). The messages that follow
turn by turn are in `claw.agent.observations`.

The agent's system prompt is the same for every episode of an interface (so a server's prefix cache
shares it across episodes); everything sample-specific goes into the first user message. Within an
episode, each request's messages extend the previous request's exactly: observations, corrections and
the forced-answer turn are appended, never rewritten. The tool reference inside the system prompt is
generated from the docstrings of `claw.tools`, so the prompt and the tools cannot drift apart.
"""

from __future__ import annotations

import importlib
import inspect
from functools import cache

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
from claw.llm.types import ContentPart, Message, TextPart
from claw.suite import Sample

__all__ = [
    "agent_system_prompt",
    "cot_messages",
    "first_user_message",
    "planner_messages",
    "tool_reference",
    "tool_system_prompt",
]

_FORMAT_RULES = {
    "letter": "the letter of one option, e.g. ReturnAnswer('B')",
    "number": "one number, units optional, e.g. ReturnAnswer(2.35) or ReturnAnswer('2.35 m')",
    "yes_no": "ReturnAnswer('yes') or ReturnAnswer('no')",
    "text": "a short phrase, e.g. ReturnAnswer('the red chair')",
}

_AGENT_BODY = """\
You answer questions about 3-D space in images and videos. You do it by writing Python, one cell per
turn, into a persistent kernel. Variables survive between cells. After each cell you see what it printed,
its error if it raised, a summary of the variables it made, and any image it passed to show().

Each turn has exactly four sections:
**Purpose:** what this cell is for, in one line.
**Reasoning:** what you know so far and why this is the right next step.
**Next Goal:** what you expect to learn from it.
**Code:**
```python
# one cell
```

Already in the kernel:
- InputImages: the frames (FrameImage objects: .array (H,W,3) uint8, .index absolute frame index,
  .timestamp_s, .size). For several videos also InputImages_1..N.
- Metadata: is_video, fps, duration_s, total_frames, num_images, videos, answer_format, options, extra.
- tools (also the bare names Reconstruct, SAM3, Geometry, Mask, Draw, Time), documented below.
- show(image, caption=""): put an image into your next observation. Use it to check masks and overlays.
- vlm: separate model calls that see only what you pass them (each costs tokens from your budget):
  vlm.ask(question, images=None) -> str: a focused question about up to 8 images;
  vlm.locate(name, image) -> Located: where `name` is in one image: .visible, .boxes (K, 4) pixel
  x1 y1 x2 y2, .points (K, 2) pixel x y (usable as SAM3 point prompts); false when not visible;
  vlm.reason(question, context="") -> str: a text-only reasoning call on facts you give it.
- ReturnAnswer(answer): submit your final answer; it is checked against the answer format.
- np, math, scipy and plt (matplotlib) are imported. Imports outside the standard numeric stack, file
  access, subprocesses, sockets, eval/exec and dunder attributes are rejected before the cell runs.

Conventions: lengths in metres; world frame +Y up with the ground near Y = 0; camera poses are
camera-to-world with OpenCV axes (+x right, +y down, +z forward). Index Reconstruct and SAM3 results by
ABSOLUTE frame index (frame.index), not by list position.

How to work well:
- Segment the objects the question names, reconstruct the frames you need, and compute with
  tools.Geometry; print the numbers you rely on before you answer.
- Check that a mask is non-empty and on the right object before you trust a number computed from it.
- Prefer medians over means, metres over pixels, and two independent lines of evidence over one.
- If a cell fails, read the error, fix the cause, and go on; your earlier variables are still there.
- Submit with ReturnAnswer once the printed evidence supports the answer.
"""

_PLANNER_BODY = """\
You plan how an agent should answer a spatial question with Python tools. You cannot see the images.
Write a short numbered plan: which objects to segment, which frames to reconstruct, what to compute with
which tool, how to check the result (e.g. a non-empty mask, a plausible size in metres), and what to do
if a step fails. Do not write code and do not guess the answer.
"""

_COT_BODY = """\
You answer questions about 3-D space in images and videos by looking at the frames. Think step by step,
then end with one line `{prefix} <answer>`.
"""


@cache
def tool_reference() -> str:
    """Signatures and first docstring paragraphs of every public tool in `claw.tools`."""
    try:
        tools = importlib.import_module("claw.tools")
    except ImportError:
        return "(tool reference unavailable)"
    lines: list[str] = []
    for name in getattr(tools, "__all__", ()):
        lines.extend(_describe(name, getattr(tools, name)))
    return "\n".join(lines)


def _first_paragraph(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def _signature(obj: object) -> str:
    try:
        return str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "(...)"


def _describe(name: str, obj: object) -> list[str]:
    if not (inspect.isclass(obj) or inspect.ismodule(obj) or callable(obj)):
        return []
    head = f"- tools.{name}{_signature(obj) if callable(obj) and not inspect.ismodule(obj) else ''}"
    lines = [f"{head}: {_first_paragraph(obj)}"]
    if inspect.isclass(obj) or inspect.ismodule(obj):
        for attr, member in inspect.getmembers(obj):
            if (
                attr.startswith("_")
                or not callable(member)
                or (inspect.isclass(member) and inspect.ismodule(obj))
            ):
                continue
            lines.append(f"    - {name}.{attr}{_signature(member)}: {_first_paragraph(member)}")
    return lines


_SINGLE_PASS_NOTE = (
    f"{SINGLE_PASS_TAG} This time you write ONE cell only and will not see its output: write the whole "
    "program at once, check inside it what you can (e.g. fall back when a mask is empty), and make it "
    "end by calling ReturnAnswer."
)


def agent_system_prompt(max_steps: int, *, single_pass: bool = False) -> str:
    """The code-interface system prompt (identical for every episode with the same step budget); with
    `single_pass`, the one-program variant of the same prompt."""
    budget = _SINGLE_PASS_NOTE if single_pass else f"You have at most {max_steps} cells."
    return f"{AGENT_SYSTEM_HEADER}\n\n{_AGENT_BODY}\n{budget}\n\n## Tools\n{tool_reference()}\n"


def _question_block(sample: Sample) -> str:
    parts = [QUESTION_HEADING, sample.question.strip()]
    if sample.options:
        parts.append(OPTIONS_HEADING)
        parts.extend(f"{chr(65 + i)}. {text}" for i, text in enumerate(sample.options))
    parts.extend([ANSWER_FORMAT_HEADING, sample.answer_format])
    parts.append(f"Submit {_FORMAT_RULES[sample.answer_format]}.")
    return "\n".join(parts)


def _input_description(sample: Sample) -> str:
    lines = ["## Input"]
    for number, video in enumerate(sample.videos, start=1):
        name = "InputImages" if len(sample.videos) == 1 else f"InputImages_{number}"
        indices = [f.index for f in video.frames]
        kind = f"video at {video.fps:g} fps" if video.fps else "image set"
        lines.append(f"- {name}: {len(indices)} frames of a {kind}; absolute frame indices {indices}")
    return "\n".join(lines)


def planner_messages(sample: Sample) -> list[Message]:
    """The text-only planning request (no images)."""
    user = f"{_question_block(sample)}\n\n{_input_description(sample)}"
    return [
        Message(role="system", content=f"{PLANNER_SYSTEM_HEADER}\n\n{_PLANNER_BODY}"),
        Message(role="user", content=user),
    ]


def first_user_message(sample: Sample, image_urls: list[str]) -> Message:
    """The question, the input description and the key frames."""
    text = f"{_question_block(sample)}\n\n{_input_description(sample)}\n\nThe key frames follow in order."
    parts: list[ContentPart] = [TextPart(text=text), *image_parts(image_urls)]
    return Message(role="user", content=parts)


def cot_messages(sample: Sample, image_urls: list[str]) -> list[Message]:
    """The no-tools interface: look at the frames, think, answer."""
    body = _COT_BODY.format(prefix=FINAL_ANSWER_PREFIX)
    user = f"{_question_block(sample)}\n\n{_input_description(sample)}"
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
    return f"{AGENT_SYSTEM_HEADER}\n\n{_TOOL_BODY}\nYou have at most {max_steps} tool calls.\n"
