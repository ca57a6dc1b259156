"""Parsing what the model wrote: the four-section code turn, and final answers.

Tolerant where it is safe (header case, colons, markdown style, a missing fence or an unclosed one, a
`<think>` block), strict where guessing would run the wrong code: a reply with no recognisable code is
`Malformed`, and the episode answers it with a corrective observation instead of crashing.
"""

from __future__ import annotations

import re

import msgspec

from claw.agent.markers import FINAL_ANSWER_PREFIX, SECTION_NAMES

__all__ = ["Malformed", "StepResponse", "extract_final_answer", "parse_step", "strip_thinking"]


class StepResponse(msgspec.Struct, frozen=True, kw_only=True):
    """A well-formed code turn."""

    purpose: str
    reasoning: str
    next_goal: str
    code: str


class Malformed(msgspec.Struct, frozen=True, kw_only=True):
    """A reply that could not be parsed, and what the model should fix."""

    reason: str


_HEADER = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*|__)?[ \t]*(purpose|reasoning|next[ _]goal|code)[ \t]*"
    r"(?::[ \t]*(?:\*\*|__)?|(?:\*\*|__)[ \t]*:?|[ \t]*$)[ \t]*",
    re.IGNORECASE | re.MULTILINE,
)
_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")


def strip_thinking(text: str) -> str:
    """Remove `<think>…</think>` blocks, and everything before an orphan `</think>`."""
    text = _THINK.sub("", text)
    if "</think>" in text.lower():
        text = text[text.lower().rindex("</think>") + len("</think>") :]
    return text.strip()


def _sections(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    matches = list(_HEADER.finditer(text))
    for i, match in enumerate(matches):
        key = match.group(1).lower().replace("_", " ")
        # Everything after the Code header is code, even a line like `code: int = 1`.
        last = key == "code" or i + 1 == len(matches)
        end = len(text) if last else matches[i + 1].start()
        found.setdefault(key, text[match.end() : end].strip())
        if key == "code":
            break
    return found


def _code_of(section: str) -> str:
    fenced = _FENCE.search(section)
    if fenced:
        return fenced.group(1).strip("\n")
    return section.strip()


def parse_step(text: str) -> StepResponse | Malformed:
    """Parse one code turn: Purpose, Reasoning, Next Goal and a fenced Python block under Code.

    A reply without a Code header but with exactly one fenced block anywhere is accepted; the text sections
    may be empty. Anything without code is `Malformed`.
    """
    body = strip_thinking(text)
    if not body:
        return Malformed(reason="the reply was empty")
    sections = _sections(body)
    code = _code_of(sections["code"]) if "code" in sections else ""
    if not code:
        blocks = _FENCE.findall(body)
        if len(blocks) == 1:
            code = blocks[0].strip("\n")
        elif len(blocks) > 1:
            return Malformed(reason="the reply has several code blocks and no **Code:** section; send one")
    if not code.strip():
        names = ", ".join(f"**{n}:**" for n in SECTION_NAMES)
        return Malformed(
            reason=f"no Python code found; reply with the sections {names} and one ```python block"
        )
    return StepResponse(
        purpose=sections.get("purpose", ""),
        reasoning=sections.get("reasoning", ""),
        next_goal=sections.get("next goal", ""),
        code=code,
    )


def extract_final_answer(text: str) -> str | None:
    """The answer in a forced or chain-of-thought reply: the last `Final answer:` line, else the last
    `\\boxed{…}`, else None."""
    body = strip_thinking(text)
    prefix = FINAL_ANSWER_PREFIX.lower()
    for line in reversed(body.splitlines()):
        stripped = line.strip().strip("*").strip()
        if stripped.lower().startswith(prefix):
            answer = stripped[len(prefix) :].strip().strip("*").strip()
            return answer or None
    boxed = _BOXED.findall(body)
    return boxed[-1].strip() if boxed else None
