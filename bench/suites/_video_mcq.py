"""The MCQ and numeric rules the video benchmarks share: the published system's chain `\\boxed{X}` →
"X." / "(X)" / "X:" anywhere → the first token → the option text, and option-list helpers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bench.suites._extract import boxed_letter, chain, first_token_letter, option_match

__all__ = ["first_mark", "sc_mcq"]


def first_mark(text: str, allowed: str) -> str | None:
    """The first "(X)", "X." or "X:" with X an allowed capital letter."""
    m = re.search(rf"(?:\(([{allowed}])\)|(?<![A-Za-z])([{allowed}])[.:](?!\w))", text)
    return (m.group(1) or m.group(2)) if m else None


_CHAIN = chain(boxed_letter, first_mark, first_token_letter)


def sc_mcq(reply: str, options: Sequence[str]) -> str | None:
    """The published system's MCQ extraction for VSI / VSTI / OSI / SPBench-style items."""
    allowed = "".join(chr(65 + i) for i in range(max(len(options), 4)))
    return _CHAIN(reply, allowed) or option_match(reply, options)
