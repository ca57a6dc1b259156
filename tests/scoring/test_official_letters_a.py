"""Official rules, reply × truth tables (ERQA, OmniSpatial, MindCube, MMSI-Bench, MMSI-Video, DSI-Bench,
ViewSpatial): wrappers, case, punctuation, several letters, empty and non-answers. Outcomes written from
the authors' code (see `bench/suites/RULES.md`)."""

from __future__ import annotations

import pytest

from .official_cases import official, sample

ERQA = [
    ("B", "B", 1),
    ("b", "B", 1),
    ("B.", "B", 1),
    (".B.", "B", 1),
    (" B ", "B", 1),
    ("B..", "B", 1),
    ("b.", "B", 1),
    ("B\n", "B", 1),
    ("\tb\t", "B", 1),
    ("(B)", "B", 0),
    ("B)", "B", 0),
    ("<answer>B</answer>", "B", 0),
    ("The answer is B", "B", 0),
    ("Best answer: B", "B", 0),
    ("B:", "B", 0),
    ("B, a table", "B", 0),
    ("A or B", "B", 0),
    ("<s> A", "A", 0),
    ("（B）", "B", 0),
    ("**B**", "B", 0),
    ("\\boxed{B}", "B", 0),
    ("", "B", 0),
    ("A", "B", 0),
    ("C.", "B", 0),
    ("B. right", "B", 0),
    ("Answer: B", "B", 0),
    ("BB", "B", 0),
    ("twenty-one", "B", 0),
    ("B right", "B", 0),
    ("None", "B", 0),
    ("D", "D", 1),
    ("...", "B", 0),
]


@pytest.mark.parametrize(("reply", "truth", "expected"), ERQA)
def test_erqa(reply: str, truth: str, expected: int) -> None:
    assert official("erqa", sample("erqa", truth), reply).value == expected


OMNISPATIAL = [
    # bare replies are read by the authors' "direct" mode (first character, upper-cased)
    ("B", "B", 1),
    ("b", "B", 1),
    ("B.", "B", 1),
    ("Because the car is left", "B", 1),
    ("A", "B", 0),
    ("A", "A", 1),
    ("B", "A", 0),
    ("c", "C", 1),
    ("b) left", "B", 1),
    ("B:", "B", 1),
    ("B, a table", "B", 1),
    ("The answer is B", "B", 0),
    ("<answer>B</answer>", "B", 0),
    ("A or B", "B", 0),
    ("<s> A", "A", 0),
    ("（B）", "B", 0),
    ("**B**", "B", 0),
    ("\\boxed{B}", "B", 0),
    ("", "B", 0),
    ("", "A", 0),
    # an "Answer: X" reply is read by the "re" mode: the last match, case kept
    ("Answer: B", "B", 1),
    ("answer: B", "B", 1),
    ("Answer: b", "B", 0),
    ("Answer:B", "B", 1),
    ("Best answer: B", "B", 1),
    ("Answer: A\nAnswer: B", "B", 1),
    ("Answer: B\nAnswer: A", "B", 0),
    ("Answer: (B)", "B", 0),
    ("Answer: E", "B", 0),
    ("Answer: Bx", "B", 0),
    # a JSON reply by the "json" mode, "A" when it does not parse
    ('```json\n{"answer": "B"}\n```', "B", 1),
    ('{"answer": "b"}', "B", 1),
    ('{"answer": "C"}', "B", 0),
    ("```json\nnot json```", "B", 0),
    ("```json\nnot json```", "A", 1),
]


@pytest.mark.parametrize(("reply", "truth", "expected"), OMNISPATIAL)
def test_omnispatial(reply: str, truth: str, expected: int) -> None:
    assert official("omnispatial", sample("omnispatial", truth), reply).value == expected


MINDCUBE = [
    ("B", 1),
    ("B.", 1),
    ("B. Door", 1),
    ("C. Lamp", 0),
    ("b", 0),
    ("A or B", 0),
    ("B or A", 1),
    ("<Answer>B</Answer>", 1),
    ("The answer is B", 1),
    ("Best answer: B", 1),
    ("B:", 1),
    ("B, a table", 1),
    ("<s> A", 0),
    ("（B）", 1),
    ("**B**", 1),
    ("\\boxed{B}", 1),
    ("Answer: B", 1),
    ("The answer is B. Because A.", 0),
    ("A. Sofa\nB. Door", 1),
    ("I think it is C, not B", 0),
    ("", 0),
    ("None of these", 0),
    ("E", 0),
    ("(B)", 1),
    ("B) Door", 1),
    ("My answer is B", 1),
    ("Answer: b", 0),
    ("D. Plant B. Door", 1),
    ("A.\n\nB", 0),
    ("Answer: C\nfinal B", 0),
]


@pytest.mark.parametrize(("reply", "expected"), MINDCUBE)
def test_mindcube(reply: str, expected: int) -> None:
    assert official("mindcube", sample("mindcube", "B"), reply).value == expected


MMSI = [
    ("B", 1),
    ("``B``", 1),
    ("`B`", 1),
    ("{B}", 1),
    ("b", 0),
    ("B.", 1),
    ("(B)", 1),
    ("<answer>B</answer>", 1),
    ("The answer is B", 1),
    ("Answer: B", 1),
    ("Best answer: B", 1),
    ("B:", 1),
    ("B, a table", 1),
    ("A or B", 1),
    ("B or A", 0),
    ("<s> A", 0),
    ("（B）", 1),
    ("**B**", 1),
    ("\\boxed{B}", 1),
    ("B is correct", 0),
    ("A is wrong, B", 1),
    ("C", 0),
    ("", 0),
    ("I cannot tell", 0),
    ("E", 0),
    ("``C`` then B", 0),
    ("D. text", 0),
    ("B) text", 1),
    ("`A` or `B`", 0),
    ("Answer: {C}", 0),
    ("AB", 0),
    ("Option B", 1),
    ("answer: b", 0),
    ("B\nC", 0),
]


@pytest.mark.parametrize(("reply", "expected"), MMSI)
def test_mmsi(reply: str, expected: int) -> None:
    assert official("mmsi", sample("mmsi", "B"), reply).value == expected


MMSI_VIDEO = [
    ("B", 1),
    ("B.", 1),
    ("b", 0),
    ("Best answer: B", 1),
    ("B:", 1),
    ("The answer is B.", 1),
    ("Answer: B", 1),
    ("<answer>B</answer>", 1),
    ("\\boxed{B}", 1),
    ("\\boxed{B. door}", 0),
    ("B, a table", 0),
    ("A or B", 0),
    ("(B)", 0),
    ("B) right", 0),
    ("no answer", 0),
    ("There is no answer, B", 0),
    ('{"answer": "B"}', 0),
    ('{"answer": "B", "reason": "x"}', 1),
    ("answer is C, B", 0),
    ("B. because", 1),
    (" B ", 1),
    ("", 0),
    ("The answer is: B", 1),
    ("Answer:B.Other", 1),
    ("answer: b", 0),
    ("<s> A", 0),
    ("（B）", 0),
    ("**B**", 0),
    ("F", 0),
    ("G", 0),
]


@pytest.mark.parametrize(("reply", "expected"), MMSI_VIDEO)
def test_mmsivideo(reply: str, expected: int) -> None:
    assert official("mmsivideo", sample("mmsivideo", "B"), reply).value == expected


def test_mmsivideo_reads_up_to_f() -> None:
    assert official("mmsivideo", sample("mmsivideo", "F"), "F").value == 1


DSI = [
    ("C", 1),
    ("C: backward", 1),
    ("c", 0),
    ("(C)", 0),
    (" C ", 1),
    ("C.", 1),
    ("Choice", 1),
    ("The answer is C", 0),
    ("<answer>C</answer>", 0),
    ("", 0),
    ("about 3", 0),
    ("A or C", 0),
    ("C or A", 1),
    ("**C**", 0),
    ("\\boxed{C}", 0),
    ("（C）", 0),
    ("<s> C", 0),
    ("Best answer: C", 0),
    ("C, a table", 1),
    ("D", 0),
    ("Cannot tell", 1),
    ("c.", 0),
    ("\nC", 1),
    ("CD", 1),
    ("B", 0),
    ("A", 0),
    ("答案C", 0),
    ("Correct: A", 1),
    ("3", 0),
    ("C)", 1),
]


@pytest.mark.parametrize(("reply", "expected"), DSI)
def test_dsibench(reply: str, expected: int) -> None:
    assert official("dsibench", sample("dsibench", "C"), reply).value == expected


VIEWSPATIAL = [
    ("B", "B. left", 1),
    ("b", "B. left", 1),
    ("The answer is B", "B. left", 1),
    ("a good choice is B", "B. left", 0),
    ("B. left", "B. left", 1),
    ("Reasoning...\nB", "B. left", 1),
    ("B\nThat's all", "B. left", 0),
    ("A or B", "B. left", 0),
    ("<answer>B</answer>", "B. left", 1),
    ("(B)", "B. left", 1),
    ("**B**", "B. left", 1),
    ("\\boxed{B}", "B. left", 1),
    ("Best answer: B", "B. left", 1),
    ("B:", "B. left", 1),
    ("B, a table", "B. left", 1),
    ("<s> A", "B. left", 0),
    ("<s> A", "A. right", 1),
    ("（B）", "B. left", 1),
    ("D", "B. left", 0),
    ("", "B. left", 0),
    ("I choose c", "B. left", 0),
    ("c. left", "C. front", 1),
    ("Answer: b", "B. left", 1),
    ("left", "B. left", 0),
    ("B\n", "B. left", 0),
    ("B right", "B. left", 1),
    ("Bd", "B. left", 0),
    ("d) back", "B. left", 0),
    ("a", "A. right", 1),
    ("A dog is left of it; B", "A. right", 1),
]


@pytest.mark.parametrize(("reply", "truth", "expected"), VIEWSPATIAL)
def test_viewspatial(reply: str, truth: str, expected: int) -> None:
    assert official("viewspatial", sample("viewspatial", truth), reply).value == expected
