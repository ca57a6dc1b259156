"""Every prompt claw sends, written for this project, built as append-only transcripts.

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

from claw.llm.markers import (
    AGENT_SYSTEM_HEADER,
    ANSWER_FORMAT_HEADING,
    ANSWER_SECTION,
    ERROR_SECTION,
    FINAL_ANSWER_PREFIX,
    FINAL_ANSWER_TAG,
    OBSERVATION_HEADING,
    OPTIONS_HEADING,
    OUTPUT_SECTION,
    PLAN_HEADING,
    PLANNER_SYSTEM_HEADER,
    QUESTION_HEADING,
    SINGLE_PASS_TAG,
    VARIABLES_SECTION,
)
from claw.llm.types import ContentPart, ImagePart, ImageURL, Message, TextPart
from claw.suite import Sample
from claw.wire.kernel import CellResult, VariableSummary

__all__ = [
    "agent_system_prompt",
    "assistant_message",
    "cot_messages",
    "final_answer_message",
    "first_user_message",
    "malformed_message",
    "observation_message",
    "plan_message",
    "planner_messages",
    "rejection_message",
    "tool_note_message",
    "tool_reference",
    "tool_result_messages",
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
- vlm.ask(question, images=None): ask a separate vision model a focused question; it sees only what
  you pass it.
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


def _image_parts(image_urls: list[str]) -> list[ContentPart]:
    return [ImagePart(image_url=ImageURL(url=url)) for url in image_urls]


def first_user_message(sample: Sample, image_urls: list[str]) -> Message:
    """The question, the input description and the key frames."""
    text = f"{_question_block(sample)}\n\n{_input_description(sample)}\n\nThe key frames follow in order."
    parts: list[ContentPart] = [TextPart(text=text), *_image_parts(image_urls)]
    return Message(role="user", content=parts)


def plan_message(plan: str) -> Message:
    """The planner's plan, appended after the first user message."""
    return Message(
        role="user", content=f"{PLAN_HEADING}\n{plan.strip()}\n\nFollow the plan, one cell per turn."
    )


def assistant_message(text: str) -> Message:
    """The model's own reply, appended verbatim so the next request extends this one."""
    return Message(role="assistant", content=text)


def _variable_line(v: VariableSummary) -> str:
    facts = [v.type]
    if v.shape is not None:
        facts.append(f"shape={list(v.shape)}")
    if v.dtype:
        facts.append(f"dtype={v.dtype}")
    if v.min is not None and v.max is not None:
        facts.append(f"range=[{v.min:.4g}, {v.max:.4g}]")
    if v.length is not None:
        facts.append(f"len={v.length}")
    if v.preview:
        facts.append(f"value={v.preview}")
    return f"- {v.name}: " + ", ".join(facts)


def _result_text(result: CellResult) -> list[str]:
    lines = [f"status: {result.status} ({result.duration_s:.2f} s)"]
    if result.stdout:
        cut = f"\n[… {result.stdout_cut_chars} characters cut …]" if result.stdout_cut_chars else ""
        lines.extend([OUTPUT_SECTION, result.stdout.rstrip() + cut])
    if result.error is not None:
        lines.extend([ERROR_SECTION, f"{result.error.ename}: {result.error.evalue}", result.error.traceback])
    if result.status == "died":
        lines.append(
            "The kernel died and was replaced: every variable is gone; InputImages, Metadata and the tools "
            "are loaded again."
        )
    if result.variables:
        lines.append(VARIABLES_SECTION)
        lines.extend(_variable_line(v) for v in result.variables)
    if result.answer is not None and not result.answer.valid:
        lines.extend([ANSWER_SECTION, f"not accepted: {result.answer.message}"])
    if result.images_dropped:
        lines.append(f"({result.images_dropped} shown images were dropped: at most a few per cell)")
    return lines


def _steps_note(steps_left: int) -> str:
    if steps_left <= 1:
        return "This is your LAST cell: call ReturnAnswer in it."
    return f"{steps_left} cells left."


def observation_message(step: int, result: CellResult, steps_left: int, image_urls: list[str]) -> Message:
    """What the cell of turn `step` produced, as the next user message."""
    text = "\n".join([f"{OBSERVATION_HEADING} (step {step})", *_result_text(result), _steps_note(steps_left)])
    if not image_urls:
        return Message(role="user", content=text)
    captions = [f"image {i + 1}: {img.caption}" for i, img in enumerate(result.images)]
    text = "\n".join([text, "[Images]", *captions])
    return Message(role="user", content=[TextPart(text=text), *_image_parts(image_urls)])


def rejection_message(
    step: int, rule: str, lineno: int, message: str, steps_left: int, *, hint: str = ""
) -> Message:
    """The safety policy rejected the cell of turn `step`; nothing ran. `hint` says what to do instead."""
    advice = f" {hint}" if hint else ""
    text = (
        f"{OBSERVATION_HEADING} (step {step})\nstatus: rejected — the cell did not run.\n{ERROR_SECTION}\n"
        f"PolicyViolation: line {lineno}: {message} (rule: {rule}).{advice}\n{_steps_note(steps_left)}"
    )
    return Message(role="user", content=text)


def malformed_message(step: int, reason: str, steps_left: int) -> Message:
    """The reply of turn `step` could not be parsed; nothing ran."""
    text = (
        f"{OBSERVATION_HEADING} (step {step})\nstatus: not run — your reply was not in the required format: "
        f"{reason}.\n{_steps_note(steps_left)}"
    )
    return Message(role="user", content=text)


def final_answer_message(reason: str) -> Message:
    """Ask for the answer now, from the evidence in the transcript."""
    text = (
        f"{FINAL_ANSWER_TAG} {reason} Do not write code. From the evidence above, give your best answer "
        f"and end with one line `{FINAL_ANSWER_PREFIX} <answer>`."
    )
    return Message(role="user", content=text)


def cot_messages(sample: Sample, image_urls: list[str]) -> list[Message]:
    """The no-tools interface: look at the frames, think, answer."""
    body = _COT_BODY.format(prefix=FINAL_ANSWER_PREFIX)
    user = f"{_question_block(sample)}\n\n{_input_description(sample)}"
    parts: list[ContentPart] = [TextPart(text=user), *_image_parts(image_urls)]
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


def tool_result_messages(
    call_id: str, step: int, result: CellResult, steps_left: int, image_urls: list[str]
) -> tuple[Message, ...]:
    """A tool call's result as a `tool` message, plus a user message carrying any shown images (tool
    messages cannot hold images)."""
    observation = observation_message(step, result, steps_left, image_urls)
    reply = Message(role="tool", content=observation.text(), tool_call_id=call_id)
    if not image_urls:
        return (reply,)
    return reply, Message(
        role="user", content=[TextPart(text="Images shown by the last call:"), *_image_parts(image_urls)]
    )


def tool_note_message(call_id: str, text: str) -> Message:
    """A short `tool` reply that is not a cell result (an unusable or extra call)."""
    return Message(role="tool", content=text, tool_call_id=call_id)
