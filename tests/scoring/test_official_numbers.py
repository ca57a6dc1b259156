"""Official rules, reply × truth tables for the benchmarks with number answers (VSI-Bench debiased,
VSTI-Bench, SPBench, SPAR-Bench, Omni3D-Bench, SpatialTree, OSI-Bench numbers): how the number is read
(first token, first/last number, number words, units), the MRA variant and its step boundaries.
Outcomes written from the authors' code (see `bench/suites/RULES.md`)."""

from __future__ import annotations

import pytest

from .official_cases import official, sample

VSI = [
    # multiple choice: the first space-separated piece, trailing dots removed, any case
    ("B", "B", 1.0),
    ("b", "B", 1.0),
    ("B.", "B", 1.0),
    ("B. left", "B", 1.0),
    ("b..", "B", 1.0),
    ("B left", "B", 1.0),
    ("(B)", "B", 0.0),
    ("B:", "B", 0.0),
    ("B,", "B", 0.0),
    ("The answer is B", "B", 0.0),
    ("<answer>B</answer>", "B", 0.0),
    (" B", "B", 0.0),
    ("B\nbecause", "B", 0.0),
    ("Best answer: B", "B", 0.0),
    ("", "B", 0.0),
    # numbers: the first number or run of number words, then MRA (≤)
    ("3.143", "2.8", 0.8),
    ("2.8", "2.8", 1.0),
    ("about 2.8 m", "2.8", 1.0),
    ("twenty-one", "21", 1.0),
    ("twenty one", "21", 1.0),
    ("three hundred and five", "305", 1.0),
    ("Three chairs.", "3", 1.0),
    ("one apple, room 2", "1", 1.0),
    ("2 or three", "2", 1.0),
    ("-2.8", "2.8", 0.0),
    ("none", "2", 0.0),
    ("1.5", "1.0", 0.1),
    ("1.05", "1.0", 1.0),
    ("1.1", "1.0", 0.9),
    ("2.0", "1.0", 0.0),
    ("", "2", 0.0),
    ("It is 1,234", "1234", 0.0),
    ("1.2377", "1.6", 0.6),
    ("1.1568", "1.2", 1.0),
    ("a dozen", "12", 0.0),
]


@pytest.mark.parametrize(("reply", "truth", "expected"), VSI)
def test_vsibench_unbiased(reply: str, truth: str, expected: float) -> None:
    fmt = "letter" if truth.isalpha() else "number"
    item = sample(
        "vsibench_unbiased", truth, answer_format=fmt, options=() if fmt == "number" else ("a", "b")
    )
    assert official("vsibench_unbiased", item, reply).value == pytest.approx(expected)


VSTI = [
    ("B", "B", 1.0),
    ("b", "B", 1.0),
    ("B.", "B", 1.0),
    ("B. up", "B", 1.0),
    ("(B)", "B", 0.0),
    ("The answer is B", "B", 0.0),
    ("<answer>B</answer>", "B", 0.0),
    ("B,", "B", 0.0),
    ("", "B", 0.0),
    ("A", "B", 0.0),
    ("b:", "B", 0.0),
    ("B\n", "B", 1.0),
    ("Best: B", "B", 0.0),
    ("B right", "B", 1.0),
    ("2.5 meters", "2.5", 1.0),
    ("about 2.5", "2.5", 0.0),
    ("2.5m", "2.5", 0.0),
    ("2.5.", "2.5", 1.0),
    ("3", "2.5", 0.6),
    ("1.4", "1.4", 1.0),
    ("twenty", "20", 0.0),
    ("5", "-1.0", 1.0),
    ("-1", "-1.0", 1.0),
    ("0", "0", 0.0),
    ("1e1", "10", 1.0),
    ("10,", "10", 0.0),
    (" 2.5", "2.5", 0.0),
    ("2.5 or 3", "2.5", 1.0),
    ("inf", "2.5", 0.0),
    ("", "2.5", 0.0),
]


@pytest.mark.parametrize(("reply", "truth", "expected"), VSTI)
def test_vstibench(reply: str, truth: str, expected: float) -> None:
    fmt = "letter" if truth.isalpha() else "number"
    item = sample("vstibench", truth, answer_format=fmt, options=() if fmt == "number" else ("a", "b"))
    assert official("vstibench", item, reply).value == pytest.approx(expected)


SPBENCH = [
    ("B", "B", 1.0),
    ("b", "B", 1.0),
    ("B.", "B", 1.0),
    ("b.", "B", 0.0),
    ("Answer: B", "B", 1.0),
    ("The answer is B", "B", 0.0),
    ("<answer>B</answer>", "B", 1.0),
    ("<think>x</think><answer>b</answer>", "B", 1.0),
    ("<answer>b.</answer>", "B", 0.0),
    ("<answer>B", "B", 0.0),
    ("B, a table", "B", 0.0),
    ("B left", "B", 1.0),
    ("(B)", "B", 0.0),
    ("", "B", 0.0),
    ("C", "B", 0.0),
    ("ten", "10", 1.0),
    ("twenty-one", "21", 0.0),
    ("a few, maybe 3", "3", 0.0),
    ("3 chairs", "3", 1.0),
    ("There are 3", "3", 1.0),
    ("50", "53", 0.9),
    ("about 2.5", "2.5", 1.0),
    ("-2", "2", 1.0),
    ("0.2238", "0.3", 0.5),
    ("0.2757", "0.3", 0.9),
    ("1.2727", "1.5", 0.7),
    ("none", "2", 0.0),
    ("<answer>4</answer>", "4", 1.0),
    ("2 m, or an inch more", "2", 0.1),
    ("one or two", "2", 0.1),
]


@pytest.mark.parametrize(("reply", "truth", "expected"), SPBENCH)
def test_spbench(reply: str, truth: str, expected: float) -> None:
    options = ("left", "right", "front", "back") if truth.isalpha() else ()
    item = sample("spbench", truth, answer_format="letter" if options else "number", options=options)
    assert official("spbench", item, reply).value == pytest.approx(expected)


VCI_TRUTH = "move_right:0.5,move_forward:1.0,rotate_left:30"
SPAR = [
    # multiple choice, lenient: equal, a substring of the truth (an empty reply counts), or same first letter
    ("B", "B", "obj_spatial_relation_oo", 1.0),
    ("b", "B", "obj_spatial_relation_oo", 1.0),
    ("B, a table", "B", "obj_spatial_relation_oo", 1.0),
    ("Because", "B", "obj_spatial_relation_oo", 1.0),
    ("The answer is B", "B", "obj_spatial_relation_oo", 0.0),
    ("", "B", "obj_spatial_relation_oo", 1.0),
    ("A or B", "B", "obj_spatial_relation_oo", 0.0),
    ("<answer>B</answer>", "B", "obj_spatial_relation_oo", 0.0),
    ("(B)", "B", "obj_spatial_relation_oo", 0.0),
    ("bb", "B", "obj_spatial_relation_oo", 1.0),
    # numbers: the first (single view) or last (multi-view) unsigned number not after "^"
    ("2.5", "2.5", "depth_prediction_oc", 1.0),
    ("1.0 and 2.5", "2.5", "depth_prediction_oc", 0.0),
    ("1.0 and 2.5", "2.5", "depth_prediction_oc_mv", 1.0),
    ("none", "2.5", "depth_prediction_oc_mv", 0.0),
    ("none", "2.5", "depth_prediction_oc", 0.0),
    ("x^2 = 4", "4", "distance_prediction_oo", 1.0),
    ("-2.5", "2.5", "distance_prediction_oo", 1.0),
    ("0.3", "0", "distance_prediction_oo", 0.5),
    ("0", "0", "distance_prediction_oo", 1.0),
    ("2.75", "2.5", "distance_prediction_oo", 0.9),
    ("about 3 m", "2.5", "distance_prediction_oo", 0.6),
    ("1,250", "1250", "depth_prediction_oo", 0.0),
    # view change: 5 axes, rotate_* keys, error against the prediction
    (VCI_TRUTH, VCI_TRUTH, "view_change_infer", 1.0),
    ("move_right:0.5, move_forward:1.0,rotate_left:30", VCI_TRUTH, "view_change_infer", 0.8),
    ("move_right 0.5", VCI_TRUTH, "view_change_infer", 0.0),
    ("move_right:0.5,move_forward:1.0,turn_left:30", VCI_TRUTH, "view_change_infer", 0.8),
    ("move_left:-0.5,move_backward:-1.0,rotate_right:-30", VCI_TRUTH, "view_change_infer", 1.0),
    # one axis off by half the prediction: that axis 0.1, the other four 1
    ("move_right:1.0,move_forward:1.0,rotate_left:30", VCI_TRUTH, "view_change_infer", 0.82),
    ("", VCI_TRUTH, "view_change_infer", 0.0),
    ("move_up:3", VCI_TRUTH, "view_change_infer", 0.22),
]


@pytest.mark.parametrize(("reply", "truth", "task", "expected"), SPAR)
def test_sparbench(reply: str, truth: str, task: str, expected: float) -> None:
    fmt = "text" if task == "view_change_infer" else ("letter" if truth.isalpha() else "number")
    item = sample("sparbench", truth, answer_format=fmt, options=(), category=task)
    assert official("sparbench", item, reply).value == pytest.approx(expected)


OMNI3D = [
    ("3", "3", "int", 1.0),
    (" 3 ", "3", "int", 1.0),
    ("3.0", "3", "int", 0.0),
    ("three", "3", "int", 0.0),
    ("<ans>3</ans>", "3", "int", 1.0),
    ("<ans> 3</ans>", "3", "int", 1.0),
    ("There are 3", "3", "int", 0.0),
    ("\\boxed{3}", "3", "int", 0.0),
    ("4", "3", "int", 0.0),
    ("Yes", "yes", "str", 1.0),
    ("yes, it is", "yes", "str", 1.0),
    ("True", "yes", "str", 1.0),
    ("no", "yes", "str", 0.0),
    ("I don't know", "no", "str", 1.0),
    ("not sure", "no", "str", 1.0),
    ("False", "no", "str", 1.0),
    ("", "yes", "str", 0.0),
    ("floor", "floor", "str", 1.0),
    ("Floor", "floor", "str", 1.0),
    ("floor.", "floor", "str", 0.0),
    (" floor", "floor", "str", 0.0),
    ("<ans>floor</ans>", "floor", "str", 1.0),
    ("W", "W", "str", 0.0),
    ("1.0", "1.0", "float", 1.0),
    ("1.05", "1.0", "float", 0.9),
    ("1.5", "1.0", "float", 0.0),
    ("1.3", "1.0", "float", 0.4),
    ("1.1", "1.0", "float", 0.8),
    ("0.35", "0.344", "float", 1.0),
    ("about 1", "1.0", "float", 0.0),
    ("<ans>1.0</ans>", "1.0", "float", 1.0),
    ("1.0 m", "1.0", "float", 0.0),
]


@pytest.mark.parametrize(("reply", "truth", "kind", "expected"), OMNI3D)
def test_omni3d(reply: str, truth: str, kind: str, expected: float) -> None:
    item = sample("omni3d", truth, answer_format="text", options=(), answer_type=kind)
    assert official("omni3d", item, reply).value == pytest.approx(expected)


RAW = '["A: p0", "B: p1", "C: p2", "D: p3"]'
SPATIALTREE_MC = [
    ("C", 1.0),
    ("The answer is C", 1.0),
    ("Answer: C", 1.0),
    ("(C)", 1.0),
    ("C.", 1.0),
    ("C is correct", 1.0),
    ("c", 0.25),
    ("", 0.25),
    ("A or C", 1.0),
    ("C or A", 0.0),
    ("Answer: A\nbut C", 0.0),
    ("I pick p2 since it is nearest", 0.25),
    ("The option C: p2 is right for sure", 1.0),
    ("D", 0.0),
    ("<answer>C</answer>", 0.25),
    ("**C**", 0.25),
    ("Choice C", 1.0),
    ("Select C", 1.0),
    ("Right: C", 1.0),
    ("(A) is wrong, (C) is right", 1.0),
    ("B. p1", 0.0),
    ("C) p2", 0.25),
    ("Answer:\nC", 1.0),
    ("C!?", 0.25),  # the authors strip one mark at a time in their order: "?" goes, "!" stays
    ("C,.", 0.25),  # "." goes, then "," is no longer at the end
    ("C.,", 1.0),  # "," goes, then "."
]


@pytest.mark.parametrize(("reply", "expected"), SPATIALTREE_MC)
def test_spatialtree_multichoice(reply: str, expected: float) -> None:
    item = sample(
        "spatialtree", "C", metricfunc="multichoiceeval", question_type="multiple-choice", raw_options=RAW
    )
    assert official("spatialtree", item, reply).value == pytest.approx(expected)


SPATIALTREE_OTHER = [
    ("2", "2.0", "meanrelativeacc", 1.0),
    ("about 2.5 m", "2.5", "meanrelativeacc", 1.0),
    ("(1, 2) then 3", "3", "meanrelativeacc", 0.0),
    ("two", "2", "meanrelativeacc", 0.0),
    ("-3", "3", "meanrelativeacc", 0.0),
    ("3.3", "3", "meanrelativeacc", 0.9),
    ("Yes... no", "No", "judge", 1.0),
    ("I don't know", "no", "judge", 1.0),
    ("yes", "No", "judge", 0.0),
    ("nothing", "no", "judge", 1.0),
    ("Yes", "Yes", "judge", 1.0),
    ("maybe", "Yes", "judge", 0.0),
]


@pytest.mark.parametrize(("reply", "truth", "metric", "expected"), SPATIALTREE_OTHER)
def test_spatialtree_numbers_and_judge(reply: str, truth: str, metric: str, expected: float) -> None:
    item = sample(
        "spatialtree", truth, answer_format="text", options=(), metricfunc=metric, question_type="open"
    )
    assert official("spatialtree", item, reply).value == pytest.approx(expected)


def test_spatialtree_judged_metrics_are_unscored() -> None:
    item = sample("spatialtree", "a kitchen", answer_format="text", options=(), metricfunc="gpteval")
    assert official("spatialtree", item, "a kitchen").metric == "unscored"


OSI_NUMBERS = [
    ("2.5", "2.5", "absolute_distance", 1.0),
    ("about 2.5 meters", "2.5", "absolute_distance", 1.0),
    ("2.5 m, not 3", "2.5", "absolute_distance", 0.6),
    ("1,234", "1234", "absolute_distance", 1.0),
    ("twenty", "20", "absolute_distance", 0.0),
    ("-3", "3", "absolute_distance", 0.0),
    ("0", "0", "absolute_distance", 1.0),
    ("0.1", "0", "absolute_distance", 0.0),
    ("0.2", "0", "absolute_speed", 1.0),
    ("0.3", "0", "absolute_speed", 1.0),
    ("0.6", "0", "absolute_speed", 0.0),
    ("1.9", "0", "trajectory_length", 1.0),
    ("3", "0", "trajectory_length", 0.1),
    ("\\boxed{2.5}", "2.5", "absolute_distance", 1.0),
    ("", "2.5", "absolute_distance", 0.0),
]


@pytest.mark.parametrize(("reply", "truth", "category", "expected"), OSI_NUMBERS)
def test_osibench_numbers(reply: str, truth: str, category: str, expected: float) -> None:
    item = sample("osibench", truth, answer_format="number", options=(), category=category)
    assert official("osibench", item, reply).value == pytest.approx(expected)
