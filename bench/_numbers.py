"""Reading numbers from text for the scorers: whole-string floats (thousands separators allowed), the
first or last number with the unit written after it (normalised: "2.5 metres" -> 2.5 m), and number words
zero…twenty. `bench.scoring` builds its extraction rules on these and re-exports the public names."""

from __future__ import annotations

import math
import re
from typing import Literal

import msgspec

__all__ = ["Quantity", "earliest_number", "parse_float", "parse_quantity", "word_number"]

_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?"
_NUMBER_RE = re.compile(rf"(?<![\w.])(?=[-+]?\.?\d)({_NUMBER})")
_WORD_NUMBERS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
)  # fmt: skip
_UNITS: dict[str, str] = {
    "m": "m", "meter": "m", "meters": "m", "metre": "m", "metres": "m",
    "cm": "cm", "centimeter": "cm", "centimeters": "cm", "centimetre": "cm", "centimetres": "cm",
    "mm": "mm", "millimeter": "mm", "millimeters": "mm", "km": "km", "kilometers": "km",
    "ft": "ft", "feet": "ft", "foot": "ft", "in": "in", "inch": "in", "inches": "in",
    "m2": "m^2", "m^2": "m^2", "m²": "m^2", "sq m": "m^2", "square meters": "m^2", "square metres": "m^2",
    "s": "s", "sec": "s", "second": "s", "seconds": "s", "m/s": "m/s", "deg": "deg", "degrees": "deg",
    "°": "deg", "%": "%",
}  # fmt: skip
_UNIT_RE = re.compile(
    r"\s*(" + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True)) + r")(?![A-Za-z])",
    re.IGNORECASE,
)


class Quantity(msgspec.Struct, frozen=True):
    """A number read from text, with the unit written after it (normalised), if any."""

    value: float
    unit: str | None = None


def parse_float(text: str) -> float | None:
    """`text` as a float when the whole of it is one number (commas as thousands separators allowed)."""
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _number_matches(text: str) -> list[re.Match[str]]:
    return [m for m in _NUMBER_RE.finditer(text) if m.group(1) not in {"", "+", "-", "."}]


def word_number(text: str, ordered: bool) -> float | None:
    """A number word (zero…twenty): the first in list order (SC's rule) or the first in the text."""
    hits = [(m.start(), i) for i, w in enumerate(_WORD_NUMBERS) for m in re.finditer(rf"\b{w}\b", text, re.I)]
    if not hits:
        return None
    return float(min(hits, key=lambda h: h[1] if ordered else h[0])[1])


def parse_quantity(text: str, *, position: Literal["first", "last"] = "first") -> Quantity | None:
    """The first (or last) number in `text` with the unit written right after it, e.g. "2.5 m" -> 2.5 m."""
    matches = _number_matches(text)
    if not matches:
        return None
    m = matches[0] if position == "first" else matches[-1]
    value = parse_float(m.group(1))
    if value is None:
        return None
    unit = _UNIT_RE.match(text, m.end())
    return Quantity(value, _UNITS[unit.group(1).lower()] if unit else None)


def earliest_number(text: str, quantity: Quantity | None) -> float | None:
    """Whichever comes first in `text`: a number word (zero…twenty) or `quantity`'s digits."""
    word = word_number(text, ordered=False)
    if word is None or quantity is None:
        return word if quantity is None else quantity.value
    digit_at = _number_matches(text)[0].start()
    word_at = min(m.start() for m in re.finditer(rf"\b{_WORD_NUMBERS[int(word)]}\b", text, re.I))
    return word if word_at < digit_at else quantity.value
