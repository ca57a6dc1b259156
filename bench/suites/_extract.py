"""The answer-extraction conventions the public benchmarks use (reference sheet §4.1, families a–h),
each as one small function from a reply to an option letter (or None), so that a benchmark module
composes its official rule and the published system's rule from named parts.

Every function takes the raw reply and the allowed letters ("ABCD", …) and never raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bench.scoring import boxed, first_token, strip_think, tagged_answer

__all__ = [
    "LetterRule",
    "answer_marker",
    "boxed_letter",
    "chain",
    "erqa_exact",
    "first_capital",
    "first_token_letter",
    "last_letter_mark",
    "last_standalone",
    "leading_letter",
    "narrowed_first_letter",
    "option_match",
    "sc_generic",
    "single_letter",
    "tag_letter",
]

LetterRule = Callable[[str, str], str | None]
"""(reply, allowed letters) -> the letter (upper case) or None."""


def chain(*rules: LetterRule) -> LetterRule:
    """A rule that tries `rules` in order and returns the first letter found."""

    def run(text: str, allowed: str) -> str | None:
        for rule in rules:
            found = rule(text, allowed)
            if found is not None:
                return found
        return None

    return run


def _in(letter: str | None, allowed: str) -> str | None:
    if letter is None:
        return None
    letter = letter.strip().upper()
    return letter if len(letter) == 1 and letter in allowed else None


def boxed_letter(text: str, allowed: str) -> str | None:
    """`\\boxed{X}` (also `\\boxed{(X)}` and `\\boxed{X. text}`)."""
    inner = boxed(text)
    if inner is None:
        return None
    m = re.match(r"\s*(?:\\text\{)?\(?([A-Za-z])(?:\)|\.|:|\}|\s|$)", inner)
    return _in(m.group(1), allowed) if m else None


def tag_letter(text: str, allowed: str) -> str | None:
    """A letter opening the last `<answer>…</answer>` block."""
    inner = tagged_answer(text)
    if inner is None:
        return None
    m = re.match(r"\s*\(?([A-Za-z])(?:\)|\.|:|\s|$)", inner)
    return _in(m.group(1), allowed) if m else None


def first_token_letter(text: str, allowed: str) -> str | None:
    """(a) The first whitespace token, one trailing "." removed, if it is a letter."""
    return _in(first_token(text), allowed)


def leading_letter(text: str, allowed: str) -> str | None:
    """(b) lmms-eval's leading-letter regex: optional "(", a letter, optional ")" or "." at the start."""
    m = re.match(r"\s*\(?([A-Za-z])[).]?", text)
    return _in(m.group(1), allowed) if m else None


def erqa_exact(text: str, allowed: str) -> str | None:
    """(c) Remove every ".", strip and upper-case; a letter only if that is all that remains."""
    return _in(text.replace(".", "").strip(), allowed)


_MARKERS = (
    r"(?:the\s+)?(?:final\s+|correct\s+|best\s+)?(?:answer|choice|option)\s*(?:is|would\s+be|:)?\s*:?\s*"
    r"(?:option\s+)?\**\(?([A-Za-z])\)?(?![A-Za-z])"
)


def answer_marker(text: str, allowed: str) -> str | None:
    """The letter after the last answer marker ("Answer: B", "the answer is (C)", "my answer is D")."""
    found = [m.group(1) for m in re.finditer(_MARKERS, text.replace("*", ""), re.IGNORECASE)]
    found = [f for f in found if _in(f, allowed)]
    return _in(found[-1], allowed) if found else None


def last_letter_mark(text: str, allowed: str) -> str | None:
    """The last "(X)", "X." or "X:" with X an allowed capital letter."""
    found = re.findall(rf"(?:\(([{allowed}])\)|(?<![A-Za-z])([{allowed}])[.:](?!\w))", text)
    return (found[-1][0] or found[-1][1]) if found else None


def last_standalone(text: str, allowed: str, *, ignore_case: bool = False) -> str | None:
    """The last standalone allowed letter (optionally case-insensitive, so the article "a" counts)."""
    flags = re.IGNORECASE if ignore_case else 0
    found = re.findall(rf"\b([{allowed}])\b", text, flags)
    return _in(found[-1], allowed) if found else None


def single_letter(text: str, allowed: str) -> str | None:
    """The reply, with punctuation and spaces removed, is exactly one letter."""
    return _in(re.sub(r"[^A-Za-z]", "", text), allowed)


def narrowed_first_letter(text: str, allowed: str) -> str | None:
    """(d) MMSI/PAI: narrow to the first ``…``, then `…`, then {…}; then the first standalone letter not
    followed by a space and a word."""
    for pattern in (r"``(.*?)``", r"`(.*?)`", r"\{(.*?)\}"):
        m = re.search(pattern, text, re.DOTALL)
        if m:
            text = m.group(1)
            break
    text = re.sub(r"^\s*(?:\(|option\s+|the answer is\s+)", "", text, flags=re.IGNORECASE)
    m = re.search(rf"(?<![A-Za-z])([{allowed}])(?![A-Za-z])(?!\s+[A-Za-z]{{2,}})", text)
    return m.group(1) if m else None


def sc_generic(text: str, allowed: str) -> str | None:
    """(g) The published system's generic extractor: `\\boxed{X}`; the first "(X)"/"X." / "X:" / "X)";
    the only letter of the reply. (Its last step, "the raw text", cannot be a letter and scores wrong.)"""
    found = boxed_letter(text, allowed)
    if found is None:
        m = re.search(r"\(?([A-Za-z])\)?[.:)]", text)
        found = _in(m.group(1), allowed) if m else None
    if found is None:
        only = re.findall(r"[A-Za-z]", text)
        found = _in(only[0], allowed) if len(only) == 1 else None
    return found


_PREFIXES = (
    "The best answer is", "The correct answer is", "The answer is", "The answer", "The best option is",
    "The correct option is", "Best answer:", "Best option:", "Final Answer:", "Answer:", "Option:",
)  # fmt: skip


def first_capital(text: str, allowed: str) -> str | None:
    """(h) Video-MME: delete answer prefixes; over 10 words with no allowed letter → None; else the first
    allowed capital letter anywhere."""
    for prefix in _PREFIXES:
        text = text.replace(prefix, "")
    if len(text.split()) > 10 and not re.search(rf"[{allowed}]", text):
        return None
    m = re.search(rf"[{allowed}]", text)
    return m.group(0) if m else None


def option_match(text: str, options: Sequence[str]) -> str | None:
    """The letter of the option whose text equals the reply (case-insensitive, trailing "." ignored)."""
    reply = text.strip().rstrip(".").lower()
    for i, option in enumerate(options):
        if option.strip().rstrip(".").lower() == reply:
            return chr(65 + i)
    return None


def clean(text: str | None) -> str:
    """The reply with think blocks removed ("" for None)."""
    return strip_think(text or "").strip()
