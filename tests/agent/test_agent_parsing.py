"""Parsing model replies: tolerant of harmless variation, strict about missing code."""

from __future__ import annotations

import pytest

from claw.agent.parsing import Malformed, StepResponse, extract_final_answer, parse_step

FENCE = "```"


@pytest.mark.parametrize(
    "text",
    [
        f"**Purpose:** a\n**Reasoning:** b\n**Next Goal:** c\n**Code:**\n{FENCE}python\nx = 1\n{FENCE}",
        f"**purpose**: a\n**reasoning**: b\n**next_goal**: c\n**code**:\n{FENCE}\nx = 1\n{FENCE}",
        f"## Purpose\na\n## Reasoning\nb\n## Next Goal\nc\n## Code\n{FENCE}python\nx = 1\n",
        "<think>secret plan</think>**Purpose:** a\n**Reasoning:** b\n**Next Goal:** c\n"
        f"**Code:**\n{FENCE}python\nx = 1\n{FENCE}",
    ],
    ids=["canonical", "lowercase-bare-fence", "markdown-unclosed", "thinking"],
)
def test_variants_parse_to_the_same_cell(text: str) -> None:
    parsed = parse_step(text)
    assert isinstance(parsed, StepResponse)
    assert parsed.code == "x = 1" and parsed.purpose == "a" and parsed.next_goal == "c"


def test_code_lines_that_look_like_headers_stay_in_the_code() -> None:
    text = f"**Purpose:** a\n**Code:**\n{FENCE}python\ncode: int = 1\npurpose: str = 'x'\n{FENCE}"
    parsed = parse_step(text)
    assert isinstance(parsed, StepResponse)
    assert parsed.code == "code: int = 1\npurpose: str = 'x'"


def test_single_fenced_block_without_headers_is_accepted() -> None:
    parsed = parse_step(f"Let me look.\n{FENCE}python\nprint(InputImages)\n{FENCE}")
    assert isinstance(parsed, StepResponse) and parsed.code == "print(InputImages)"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("The answer is B.", "no Python code"),
        (f"{FENCE}python\na=1\n{FENCE}\n{FENCE}python\nb=2\n{FENCE}", "several code blocks"),
    ],
)
def test_malformed_replies_say_what_to_fix(text: str, reason: str) -> None:
    parsed = parse_step(text)
    assert isinstance(parsed, Malformed) and reason in parsed.reason


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("thinking\nFinal answer: B", "B"),
        ("**Final answer:** 3.5 m", "3.5 m"),
        ("so it is \\boxed{C}", "C"),
        ("Final answer: A\nwait\nFinal answer: D", "D"),
        ("no idea", None),
    ],
)
def test_final_answer_extraction(text: str, answer: str | None) -> None:
    assert extract_final_answer(text) == answer
