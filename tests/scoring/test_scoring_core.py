"""claw's own scoring primitives: MRA vectors, letter / yes-no / number extraction, aggregation."""

from __future__ import annotations

import math

import pytest

from bench.scoring import (
    MRA_THRESHOLDS,
    boxed,
    extract_letter,
    extract_number,
    extract_yes_no,
    letter_of,
    macro_mean,
    micro_mean,
    mra,
    parse_quantity,
    score_mcq,
    score_numeric,
    score_text,
    score_yes_no,
)


def test_thresholds_are_the_ten_public_ones() -> None:
    assert len(MRA_THRESHOLDS) == 10
    assert MRA_THRESHOLDS[0] == 0.5
    assert MRA_THRESHOLDS[-1] == 0.95


@pytest.mark.parametrize(
    ("pred", "truth", "expected"),
    [
        (3.143, 2.8, 0.8),
        (1.237737912498516, 1.6, 0.6),
        (50, 53, 0.9),
        (0.2238, 0.3, 0.5),
        (0.2757, 0.3, 0.9),
        (1.2727, 1.5, 0.7),
        (1.1568, 1.2, 1.0),
        (2.0, 1.0, 0.0),
        (1.5, 1.0, 0.1),
        (0.5, 1.0, 0.1),
        (1.05, 1.0, 1.0),
        (1.1, 1.0, 0.9),
        (0.9, 1.0, 0.9),
        (None, 1.0, 0.0),
    ],
)
def test_mra_vectors(pred: float | None, truth: float, expected: float) -> None:
    assert mra(pred, truth) == pytest.approx(expected)


def test_mra_zero_rules_and_strict() -> None:
    assert mra(0.0, 0.0) == 1.0
    assert mra(0.1, 0.0) == 0.0
    assert mra(0.0, 0.0, zero="fail") == 0.0
    assert mra(0.04, 0.0, zero="absolute") == 1.0
    assert mra(1.5, 1.0) == pytest.approx(0.1)
    assert mra(1.5, 1.0, strict=True) == 0.0


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("B", "B"),
        ("(B)", "B"),
        ("B.", "B"),
        ("**B**", "B"),
        ("b", "B"),
        ("B) right", "B"),
        ("C. Wall", "C"),
        ("The answer is B.", "B"),
        ("Answer: (C) blue", "C"),
        ("\\boxed{D}", "D"),
        ("<think>maybe A</think><answer>C</answer>", "C"),
        ("Both look alike, but (B) has the shadow.", "B"),
        ("I think a cat is there", None),
        ("", None),
        (None, None),
        ("E", None),
    ],
)
def test_extract_letter(reply: str | None, letter: str | None) -> None:
    assert extract_letter(reply, 4) == letter


@pytest.mark.parametrize(
    ("reply", "kwargs", "value"),
    [
        ("2.5 meters", {}, 2.5),
        ("About 2.5", {}, 2.5),
        ("About 2.5", {"position": "first_token"}, None),
        ("2.5 meters", {"position": "first_token"}, 2.5),
        ("between 3 and 4.5", {"position": "last"}, 4.5),
        ("1,234.5 cm", {}, 1234.5),
        ("two chairs", {"words": "ordered"}, 2.0),
        ("one of the three chairs", {"words": "ordered"}, 1.0),
        ("three, not 4", {"words": "first"}, 3.0),
        ("\\boxed{7}", {}, 7.0),
        ("no number", {}, None),
    ],
)
def test_extract_number(reply: str, kwargs: dict[str, str], value: float | None) -> None:
    assert extract_number(reply, **kwargs) == value  # type: ignore[arg-type]


def test_parse_quantity_reads_units() -> None:
    q = parse_quantity("roughly 250 cm wide")
    assert q is not None
    assert (q.value, q.unit) == (250.0, "cm")
    q = parse_quantity("12 m² floor")
    assert q is not None
    assert q.unit == "m^2"


def test_boxed_handles_nested_braces() -> None:
    assert boxed("so \\boxed{\\frac{1}{2}} done") == "\\frac{1}{2}"
    assert boxed("none") is None


def test_yes_no_first_and_last() -> None:
    assert extract_yes_no("Yes, but no doubt") == "yes"
    assert extract_yes_no("Yes, but no doubt", last=True) == "no"
    assert extract_yes_no("nothing") is None


@pytest.mark.parametrize(("truth", "letter"), [("(A)", "A"), ("A. right", "A"), ("c", "C"), ("D: up", "D")])
def test_letter_of(truth: str, letter: str) -> None:
    assert letter_of(truth) == letter


def test_score_functions() -> None:
    assert score_mcq("(C)", "C", 4).value == 1.0
    assert score_mcq("(C)", "A. left", 4).value == 0.0
    assert score_mcq(None, "A", 4).extracted is None
    assert score_numeric("3.143 m", 2.8).value == pytest.approx(0.8)
    assert score_numeric("3.143 m", 2.8).metric == "mra"
    assert score_yes_no("Yes.", "Yes").value == 1.0
    assert score_yes_no("No", "yes").value == 0.0
    assert score_text("**Floor.**", "floor").value == 1.0


def test_means() -> None:
    assert micro_mean([1.0, 0.0, 1.0]) == pytest.approx(2 / 3)
    assert macro_mean([("a", 1.0), ("a", 0.0), ("b", 1.0)]) == pytest.approx(0.75)
    assert math.isnan(micro_mean([]))
