"""`ReturnAnswer` and the answer-format check behind it: the submitted answer is validated in the kernel,
so the model reads at once whether it was accepted and, if not, what is expected.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable

import numpy as np

from claw.tools._state import STATE
from claw.wire.kernel import SubmittedAnswer

__all__ = ["ReturnAnswer", "check_answer", "say"]

_NUMBER = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*([A-Za-z%°²³/.\s]{0,24})$")
_LETTER = re.compile(r"^\(?([A-Za-z])[).:]?(\s.*)?$", re.DOTALL)


def check_answer(answer: object, answer_format: str, options: tuple[str, ...]) -> SubmittedAnswer:
    """Validate `answer` against the question's answer format.

    Returns:
        A `SubmittedAnswer`; `valid` is False with a message saying what is expected when it does not fit.
    """
    checks: dict[str, Callable[[object, tuple[str, ...]], tuple[str | None, str]]] = {
        "letter": _check_letter,
        "number": _check_number,
        "yes_no": _check_yes_no,
    }
    text, problem = checks.get(answer_format, _check_text)(answer, options)
    if text is None:
        return SubmittedAnswer(text=_short(answer), valid=False, message=problem)
    return SubmittedAnswer(text=text, valid=True)


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "…"


def _check_letter(answer: object, options: tuple[str, ...]) -> tuple[str | None, str]:
    letters = [chr(65 + i) for i in range(len(options))] or [chr(65 + i) for i in range(26)]
    match = _LETTER.match(str(answer).strip()) if isinstance(answer, str) else None
    letter = match.group(1).upper() if match else None
    if letter in letters:
        return letter, ""
    return None, f"expected one option letter out of {', '.join(letters)}, e.g. ReturnAnswer('{letters[0]}')"


def _check_number(answer: object, options: tuple[str, ...]) -> tuple[str | None, str]:
    expected = "expected a number, optionally with a unit, e.g. ReturnAnswer(2.5) or ReturnAnswer('2.5 m')"
    if isinstance(answer, bool):
        return None, expected
    if isinstance(answer, int | float | np.integer | np.floating):
        value = float(answer)
        return (
            (repr(answer.item()) if isinstance(answer, np.generic) else str(answer), "")
            if math.isfinite(value)
            else (None, expected + " (got a non-finite value)")
        )
    if isinstance(answer, str) and _NUMBER.match(answer):
        return answer.strip(), ""
    return None, expected


def _check_yes_no(answer: object, options: tuple[str, ...]) -> tuple[str | None, str]:
    if isinstance(answer, bool | np.bool_):
        return ("yes" if answer else "no"), ""
    word = str(answer).strip().lower().rstrip(".!") if isinstance(answer, str) else ""
    if word in ("yes", "no"):
        return word, ""
    return None, "expected 'yes' or 'no', e.g. ReturnAnswer('yes')"


def _check_text(answer: object, options: tuple[str, ...]) -> tuple[str | None, str]:
    text = str(answer).strip() if isinstance(answer, str | int | float | np.generic) else ""
    if text:
        return text, ""
    return None, "expected a non-empty answer string, e.g. ReturnAnswer('the red chair')"


def ReturnAnswer(answer: object) -> None:
    """Submit the final answer; it is checked against `Metadata.answer_format` at once.

    The cell's output says "Answer accepted: ..." or "Answer NOT accepted (...)" with what is expected;
    an accepted answer ends the episode after the cell (the last accepted call in a cell counts). A
    rejected one changes nothing: call it again with a corrected value.

    Args:
        answer: a str, int or float: an option letter ('B'), a number (2.5 or '2.5 m'), 'yes'/'no', or
            short text, per the format.
    """
    submitted = check_answer(answer, STATE.answer_format, STATE.options)
    STATE.cell.answer = submitted
    if submitted.valid:
        say(f"Answer accepted: {submitted.text}")
    else:
        say(f"Answer NOT accepted ({submitted.text!r}): {submitted.message}")


def say(line: str) -> None:
    """Write one line to the cell's stdout: in the kernel that *is* the model's observation."""
    sys.stdout.write(line + "\n")
