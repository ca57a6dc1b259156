"""Official rules, reply × truth tables (CVBench, PerceptionComp, PAI-Bench, OSI-Bench letters, Video-MME,
Video-MME-v2, BLINK). Outcomes written from the authors' code (see `bench/suites/RULES.md`)."""

from __future__ import annotations

import pytest

from bench.scoring import UNPARSED, UNSCORED

from .official_cases import official, sample

CVBENCH = [
    ("B", "B", 1),
    ("b", "B", 0),
    ("B.", "B", 0),
    (" B ", "B", 1),
    ("<answer>B</answer>", "B", 1),
    ("<answer> B </answer>", "B", 1),
    ("<answer></answer>B", "B", 0),
    ("The answer is B", "B", 0),
    ("(B)", "B", 0),
    ("<answer>B</answer><answer>C</answer>", "B", 1),
    ("x <answer>\nB\n</answer> y", "B", 1),
    ("Yes", "Yes", 1),
    ("yes", "Yes", 0),
    ("Yes.", "Yes", 0),
    ("<answer>Yes</answer>", "Yes", 1),
    ("No", "Yes", 0),
    ("B, a table", "B", 0),
    ("A or B", "B", 0),
    ("<s> A", "A", 0),
    ("（B）", "B", 0),
    ("**B**", "B", 0),
    ("\\boxed{B}", "B", 0),
    ("Best answer: B", "B", 0),
    ("B:", "B", 0),
    ("", "B", 0),
    ("<answer>b</answer>", "B", 0),
    ("<ANSWER>B</ANSWER>", "B", 0),
    ("B\n", "B", 1),
    ("<answer>B", "B", 0),
    ("C", "B", 0),
]


@pytest.mark.parametrize(("reply", "truth", "expected"), CVBENCH)
def test_cvbench(reply: str, truth: str, expected: int) -> None:
    fmt = "yes_no" if truth in {"Yes", "No"} else "letter"
    options = ("Yes.", "No.") if fmt == "yes_no" else ("2", "3", "4", "5")
    item = sample("cvbench", truth, answer_format=fmt, options=options)
    assert official("cvbench", item, reply).value == expected


PERCEPTIONCOMP = [
    ("B", 1),
    ("b", 1),
    ("The answer is B", 1),
    ("answer: b", 1),
    ("Answer a", 0),
    ("<answer>B</answer>", 1),
    ("<answer>B, a table</answer>", 0),
    ("B, a table", 1),
    ("A or B", 1),
    ("B or A", 0),
    ("<s> A", 0),
    ("（B）", 1),
    ("Best answer: B", 1),
    ("B:", 1),
    ("**B**", 1),
    ("\\boxed{B}", 1),
    ("", 0),
    ("I cannot tell", 0),
    ("a dog", 0),
    ("E", 0),
    ("Answer: C. Actually B", 0),
    ("<answer>c</answer>", 0),
    ("<answer>b</answer>", 1),
    ("It is D, not B", 1),
    ("(B)", 1),
    ("Option B is correct", 1),
    ("Answer:B", 1),
    ("B.", 1),
    ("F", 0),
    ("answerB", 1),
    ("Bob", 0),
]


@pytest.mark.parametrize(("reply", "expected"), PERCEPTIONCOMP)
def test_perceptioncomp(reply: str, expected: int) -> None:
    item = sample("perceptioncomp", "B", options=("a", "b", "c", "d", "e"))
    assert official("perceptioncomp", item, reply).value == expected


PAI_OPTIONS = ("moves left", "moves right", "stays", "turns")
PAI = [
    ("B", 1),
    ("b", 1),
    ("B.", 1),
    ("(B)", 1),
    ("<answer>B</answer>", 1),
    ("The answer is B", 0),
    ("B, a table", 1),
    ("A or B", 0),
    ("Best answer: B", 0),
    ("B:", 1),
    ("<s> A", 0),
    ("（B）", 1),
    ("**B**", 1),
    ("\\boxed{B}", 0),
    ("It moves right", 1),
    ("moves left, not moves right", 0),
    ("<think>A</think>B", 1),
    ("E", 0),
    ("", 0),
    ("C", 0),
    ("Bee", 0),
    ("B) moves right", 1),
    ("answer: b", 0),
    ("D. turns", 0),
    ("stays", 0),
    ("Moves right", 0),
    ("B\n", 1),
    ("<thought>x</thought> B", 1),
    ("b.", 1),
    ("<answer>moves right</answer>", 1),
]


@pytest.mark.parametrize(("reply", "expected"), PAI)
def test_paibench(reply: str, expected: int) -> None:
    item = sample("paibench", "B", options=PAI_OPTIONS, keys="ABCD")
    assert official("paibench", item, reply).value == expected


def test_paibench_null_options_are_still_keys() -> None:
    # index2ans {"A": "no", "B": "yes", "C": null, "D": null}: a leading "C" is a key, so it is the answer
    item = sample("paibench", "B", options=("no", "yes"), keys="ABCD")
    assert official("paibench", item, "C").value == 0
    assert official("paibench", item, "yes").value == 1
    assert official("paibench", item, "no").value == 0


OSI = [
    ("B", 1),
    ("b", 0),
    ("The answer is B", 1),
    ("I think A is wrong and B", 0),
    ("Answer: B", 1),
    ("B.", 1),
    ("(B)", 1),
    ("[B]", 1),
    ("B:", 1),
    ("B, a table", 1),
    ("A or B", 0),
    ("<answer>B</answer>", 0),
    ("**B**", 0),
    ("\\boxed{B}", 0),
    ("（B）", 0),
    ("答案是B", 0),
    ("A答案是B", 1),
    ("", 0),
    ("Because", 1),
    ("Clearly B", 1),
    ("C", 0),
    ("b) right", 0),
    ("The best is B.", 1),
    ("X", 0),
    ("Option B", 1),
    ("OK, B", 1),
    ("Best answer: B", 1),
    ("<s> B", 1),
    ("B\nC", 1),
    ("It is B,C", 1),
]


@pytest.mark.parametrize(("reply", "expected"), OSI)
def test_osibench_letters(reply: str, expected: int) -> None:
    item = sample("osibench", "B", category="relative_distance")
    assert official("osibench", item, reply).value == expected


VIDEOMME = [
    ("C", 1),
    ("C. Berries.", 1),
    ("Answer: C. Jade.", 1),
    ("The answer is C", 1),
    ("The best answer is C", 1),
    ("Best answer: C", 0),
    ("Based on the video, C", 0),
    ("(C)", 1),
    ("**C**", 1),
    ("<answer>C</answer>", 1),
    ("\\boxed{C}", 1),
    ("D", 0),
    ("A or C", 0),
    ("I think it is C", 1),
    ("The correct option C", 1),
    ("Option: C", 1),
    ("The correct answer C", 1),
    ("The best option is C", 1),
    ("Clearly A", 1),
    ("Definitely B", 0),
    ("<s> C", 1),
    ("（C）", 1),
    ("C:", 1),
    ("C, a table", 1),
    ("C.", 1),
]
VIDEOMME_UNANSWERED = [
    "c",
    "",
    "I am not sure what is shown in this long video clip at all",
    "none of them",
    "e",
]


@pytest.mark.parametrize(("reply", "expected"), VIDEOMME)
def test_videomme(reply: str, expected: int) -> None:
    score = official("videomme", sample("videomme", "C"), reply)
    assert (score.value, score.metric) == (expected, "exact")


@pytest.mark.parametrize("reply", VIDEOMME_UNANSWERED)
def test_videomme_unanswered_leave_the_denominator(reply: str) -> None:
    assert official("videomme", sample("videomme", "C"), reply).metric == UNSCORED


VIDEOMME_V2 = [
    ("E", 1),
    ("Final Answer: E", 1),
    ("Best answer: E", 1),
    ("Based on frames, E", 0),
    ("H", 0),
    ("The answer is E.", 1),
    ("\\boxed{E}", 1),
    ("(E)", 1),
    ("Answer: F", 0),
    ("Final Answer: (E)", 1),
    ("<answer>E</answer>", 1),
    ("A or E", 0),
    ("Each option fails", 1),
    ("G", 0),
    ("I guess E", 1),
    ("Option: E", 1),
    ("The correct option is E", 1),
    ("Best option: E", 1),
    ("E:", 1),
    ("E, a table", 1),
    ("<s> E", 1),
    ("（E）", 1),
    ("**E**", 1),
    ("Definitely E", 0),
    ("Clearly E", 0),
    ("The answer E", 1),
]
VIDEOMME_V2_UNPARSED = ["e", "", "e.", "I really cannot tell which of the options is right here, sorry"]


@pytest.mark.parametrize(("reply", "expected"), VIDEOMME_V2)
def test_videommev2(reply: str, expected: int) -> None:
    item = sample("videommev2", "E", category="relevance [1,2,3,4]")
    assert official("videommev2", item, reply).value == expected


@pytest.mark.parametrize("reply", VIDEOMME_V2_UNPARSED)
def test_videommev2_unparsed(reply: str) -> None:
    item = sample("videommev2", "E", category="relevance [1,2,3,4]")
    assert official("videommev2", item, reply).metric == UNPARSED


BLINK = [
    # the authors' deterministic steps
    ("B", "(B)", 1),
    ("(B)", "(B)", 1),
    ("A", "(B)", 0),
    ("(C)", "(B)", 0),
    ("(E)", "(B)", 0),
    ("(B) Point B", "(B)", 1),
    ("Point B, i.e. (B)", "(B)", 1),
    ("(A)\n\nSo the answer is (B)", "(B)", 1),
    ("(B)\n\n(A)", "(B)", 0),
    ("(B)\n\n(A)", "(A)", 1),
    ("I pick (C) here", "(C)", 1),
    ("(A) or (B)?\n\nFinal: (B)", "(B)", 1),
    ("E", "(E)", 1),
    # where the authors ask GPT-3.5, claw's stand-in reads what that matcher reads unambiguously
    ("<s> A", "(A)", 1),
    ("<s> A", "(B)", 0),
    ("（C）", "(C)", 1),
    ("（C）", "(B)", 0),
    ("The answer is (B).", "(B)", 1),
    ("Answer: B", "(B)", 1),
    ("\\boxed{B}", "(B)", 1),
    ("**B**", "(B)", 1),
    ("The answer is B", "(B)", 1),
    ("B.", "(B)", 1),
    ("B:", "(B)", 1),
    ("B, a table", "(B)", 1),
    ("", "(B)", 0),
    ("I'm sorry, I can't help with that.", "(B)", 0),
    ("(B).", "(B)", 1),
    ("Point C is closer", "(C)", 1),
    ("Therefore, the answer is (D).", "(D)", 1),
]


@pytest.mark.parametrize(("reply", "truth", "expected"), BLINK)
def test_blink(reply: str, truth: str, expected: int) -> None:
    item = sample("blink", truth, options=("Point A", "Point B", "Point C", "Point D", "Point E"))
    assert official("blink", item, reply).value == expected
