"""Option lists in every shape the released files use: "A. x" entries, one option per line, options
inline in a question ("… A. x B. y"), or all options packed into one string.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["letters", "option_list", "option_text", "split_inline_options"]


def letters(n: int) -> str:
    """The first `n` option letters, "ABCD…"."""
    return "".join(chr(65 + i) for i in range(n))


def option_text(option: str) -> str:
    """An option without its own "A. " / "A: " / "(A) " prefix."""
    return re.sub(r"^\s*\(?[A-Za-z][.:)]\s*", "", option).strip()


def split_inline_options(question: str, marker: str = "") -> tuple[str, list[str]]:
    """Split "… A. x B. y C. z" (or "A: x, B: y" / "(A) x") into the question and option texts.

    Options must run A, B, C, … in order; when they do not, the question comes back whole with no options.
    """
    start = question.find(marker) if marker else -1
    head, tail = (question[:start], question[start + len(marker) :]) if start >= 0 else ("", question)
    hits = list(re.finditer(r"(?:(?<=\s)|^)\(?([A-K])[.:)]\s", tail))
    chosen = _abc_run(hits)
    if len(chosen) < 2:
        return question, []
    cut = [m.start() for m in chosen] + [len(tail)]
    options = [tail[cut[i] : cut[i + 1]] for i in range(len(chosen))]
    text = (head + tail[: chosen[0].start()]).strip()
    return text, [option_text(o).rstrip(",;").strip() for o in options]


def option_list(value: str | Sequence[str] | None) -> list[str]:
    """Option texts from any released shape: a list of "A. x" entries, one string with one option per
    line, or all options packed into one string (CV-Bench's record 996) — prefixes removed."""
    if value is None:
        return []
    if isinstance(value, str):
        packed = [value]
    else:
        packed = [v for v in value if v is not None]
    if len(packed) == 1:
        lines = [line for line in packed[0].splitlines() if line.strip()]
        if len(lines) > 1:
            return [option_text(line) for line in lines]
        _, inline = split_inline_options(packed[0])
        if inline:
            return inline
    return [option_text(v) for v in packed]


def _abc_run(hits: Sequence[re.Match[str]]) -> list[re.Match[str]]:
    """The last run of matches whose letters go A, B, C, … in order."""
    best: list[re.Match[str]] = []
    for i, m in enumerate(hits):
        if m.group(1) != "A":
            continue
        run = [m]
        for later in hits[i + 1 :]:
            if later.group(1) == chr(ord(run[-1].group(1)) + 1):
                run.append(later)
        best = run if len(run) >= 2 else best
    return best
