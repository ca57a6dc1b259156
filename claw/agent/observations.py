"""The messages appended to an episode's transcript turn by turn: the plan, the model's own reply, what a
cell produced (stdout, error, variables, shown images), why a cell was rejected or a reply not understood,
the tool-call replies, and the forced-answer request. Each message is appended, never rewritten, so the
request prefix of every turn is the previous request (the server's prefix cache keeps hitting).
"""

from __future__ import annotations

from claw._text import printable
from claw.agent.markers import (
    ANSWER_SECTION,
    ERROR_SECTION,
    FINAL_ANSWER_PREFIX,
    FINAL_ANSWER_TAG,
    OBSERVATION_HEADING,
    OUTPUT_SECTION,
    PLAN_HEADING,
    STDERR_SECTION,
    VARIABLES_SECTION,
)
from claw.llm.types import ContentPart, ImagePart, ImageURL, Message, TextPart
from claw.wire.kernel import CellResult

__all__ = [
    "assistant_message",
    "final_answer_message",
    "image_parts",
    "malformed_message",
    "observation_message",
    "plan_message",
    "rejection_message",
    "tool_note_message",
    "tool_result_messages",
]


def image_parts(image_urls: list[str]) -> list[ContentPart]:
    """One image part per data URL, in order."""
    return [ImagePart(image_url=ImageURL(url=url)) for url in image_urls]


def plan_message(plan: str) -> Message:
    """The planner's plan, appended after the first user message."""
    return Message(
        role="user", content=f"{PLAN_HEADING}\n{plan.strip()}\n\nFollow the plan, one cell per turn."
    )


def assistant_message(text: str) -> Message:
    """The model's own reply, appended verbatim so the next request extends this one."""
    return Message(role="assistant", content=text)


def _result_text(result: CellResult) -> list[str]:
    lines = [f"status: {result.status} ({result.duration_s:.2f} s)"]
    if result.stdout:
        cut = f"\n[… {result.stdout_cut_chars} characters cut …]" if result.stdout_cut_chars else ""
        lines.extend([OUTPUT_SECTION, result.stdout.rstrip() + cut])
    if result.stderr.strip():
        lines.extend([STDERR_SECTION, result.stderr.rstrip()])
    if result.error is not None:
        lines.extend([ERROR_SECTION, f"{result.error.ename}: {result.error.evalue}", result.error.traceback])
    if result.status == "died":
        lines.append(
            "The kernel died and was replaced: every variable is gone; InputImages, Metadata and the tools "
            "are loaded again."
        )
    if result.variables:
        lines.append(VARIABLES_SECTION)
        lines.extend(f"- {v.describe()}" for v in result.variables)
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
    lines = [f"{OBSERVATION_HEADING} (step {step})", *_result_text(result), _steps_note(steps_left)]
    if image_urls:
        lines += ["[Images]", *(f"image {i + 1}: {img.caption}" for i, img in enumerate(result.images))]
    text = printable("\n".join(lines))  # variable summaries and captions come from the cell too
    if not image_urls:
        return Message(role="user", content=text)
    return Message(role="user", content=[TextPart(text=text), *image_parts(image_urls)])


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


def tool_result_messages(call_id: str, observation: Message) -> tuple[Message, ...]:
    """An observation as the `tool` reply to call `call_id`, plus a user message carrying its images (tool
    messages cannot hold images)."""
    reply = Message(role="tool", content=observation.text(), tool_call_id=call_id)
    images = (
        []
        if isinstance(observation.content, str)
        else [p for p in observation.content if isinstance(p, ImagePart)]
    )
    if not images:
        return (reply,)
    return reply, Message(role="user", content=[TextPart(text="Images shown by the last call:"), *images])


def tool_note_message(call_id: str, text: str) -> Message:
    """A short `tool` reply that is not a cell result (an unusable or extra call)."""
    return Message(role="tool", content=text, tool_call_id=call_id)
