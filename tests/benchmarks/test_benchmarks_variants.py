"""Loaders take every field variant the released files and their mirrors use (integer `type`, options
packed into one string or one line each, options as a list or a string), and a record they cannot use
is skipped with its id and counted — by the suite and by `claw data check` — never a crash of the file
and never a wrong sample."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench.suites._core import option_list
from bench.suites.check import check_data, check_report
from claw.suite import SuiteOptions, get_suite

from .conftest import materialize


def _suite(name: str, root: Path, media: Path):  # type: ignore[no-untyped-def]
    return get_suite(name, SuiteOptions(data_dir=str(root), media_dir=str(media)))


def test_mindcube_integer_type_loads_and_a_broken_line_is_a_counted_skip(
    tmp_path: Path, sample_video: Path
) -> None:
    materialize("mindcube", tmp_path / "data", sample_video)
    path = tmp_path / "data" / "data" / "raw" / "MindCube_tinybench.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    lines[0]["type"] = 3  # the released files carry an integer type
    broken = dict(lines[1], id="among_group9_q1_1_1")
    del broken["gt_answer"]
    path.write_text("".join(json.dumps(r) + "\n" for r in [*lines, broken, "not an object"]) + "{oops\n")
    suite = _suite("mindcube", tmp_path / "data", tmp_path / "media")
    samples = list(suite.samples())
    assert [s.id for s in samples] == ["around_group12_q1_3_2", "translation_group3_q0_1_1"]
    assert samples[0].metadata["type"] == "3"
    assert [s.record for s in suite.skipped] == ["among_group9_q1_1_1", "#3", "line 5"]
    problems, skipped = check_report("mindcube", tmp_path / "data")
    assert problems == []
    assert len(skipped) == 1
    assert "MindCube: skipped 3 record(s)" in skipped[0]
    assert "among_group9_q1_1_1" in skipped[0]
    assert check_data("mindcube", tmp_path / "data") == []


def test_cvbench_packed_options_split_and_an_unusable_answer_is_skipped(
    tmp_path: Path, sample_video: Path
) -> None:
    materialize("cvbench", tmp_path / "data", sample_video)
    path = tmp_path / "data" / "data" / "test-00000-of-00001.parquet"
    rows = pq.read_table(path).to_pylist()
    packed = dict(rows[0], id=996, options=["A. Left B. Right C. Up D. Down"], answer="B")
    wrong = dict(rows[0], id=997, options=["A. 2", "B. 3"], answer="D")
    pq.write_table(pa.Table.from_pylist([*rows, packed, wrong]), path)
    suite = _suite("cvbench", tmp_path / "data", tmp_path / "media")
    by_id = {s.id: s for s in suite.samples()}
    assert by_id["996"].options == ("Left", "Right", "Up", "Down")
    assert suite.score(by_id["996"], "B").value == 1.0
    assert "997" not in by_id
    assert [(s.record, "names none" in s.reason) for s in suite.skipped] == [("997", True)]
    assert "997" in check_report("cvbench", tmp_path / "data")[1][0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["A. 2", "B. 3", "C. 4"], ["2", "3", "4"]),
        (["A. Left B. Right C. Up D. Down"], ["Left", "Right", "Up", "Down"]),
        ("A. right\nB. left\nC. front\nD. back", ["right", "left", "front", "back"]),
        (["A. right\nB. left"], ["right", "left"]),
        ("A: x, B: y, C: z", ["x", "y", "z"]),
        (["Yes.", "No."], ["Yes.", "No."]),
        (["(A) red", "(B) blue"], ["red", "blue"]),
        (None, []),
        ([], []),
    ],
)
def test_option_list_reads_every_released_shape(value: str | list[str] | None, expected: list[str]) -> None:
    assert option_list(value) == expected


def test_viewspatial_choices_as_list_or_string(tmp_path: Path, sample_video: Path) -> None:
    fixture = materialize("viewspatial", tmp_path / "data", sample_video)
    path = tmp_path / "data" / "ViewSpatial-Bench.json"
    records = json.loads(path.read_text())
    records[0]["choices"] = records[0]["choices"].splitlines()
    records.append({"question_type": "x", "question": "no image list"})  # unusable: counted, not a crash
    path.write_text(json.dumps(records))
    suite = _suite("viewspatial", tmp_path / "data", tmp_path / "media")
    samples = list(suite.samples())
    assert [s.id for s in samples] == [e[0] for e in fixture["expect"]]
    assert len(samples[0].options) == fixture["expect"][0][3]
    assert [s.record for s in suite.skipped] == [f"#{len(records) - 1}"]


def test_omnispatial_mirror_letter_and_path_load_and_a_record_without_answer_is_skipped(
    tmp_path: Path, sample_video: Path
) -> None:
    materialize("omnispatial", tmp_path / "data", sample_video)
    path = tmp_path / "data" / "OmniSpatial-test" / "data.json"
    records = json.loads(path.read_text())
    mirror = {k: v for k, v in records[0].items() if k != "answer"}
    mirror |= {"id": 58, "gt": "b", "image_path": "OmniSpatial-test/Perspective_Taking/57.png"}
    as_text = dict(records[0], id="57_0", answer="3")
    no_answer = {k: v for k, v in records[0].items() if k != "answer"} | {"id": "60_1"}
    path.write_text(json.dumps([*records, mirror, as_text, no_answer]))
    suite = _suite("omnispatial", tmp_path / "data", tmp_path / "media")
    truths = {s.id: s.ground_truth for s in suite.samples()}
    assert truths == {
        "Perspective_Taking_Allocentric_57_2": "C",
        "Perspective_Taking_Allocentric_58": "B",
        "Perspective_Taking_Allocentric_57_0": "D",
    }
    assert [s.record for s in suite.skipped] == ["60_1"]


def test_perceptioncomp_answer_id_outside_its_choices_is_skipped(tmp_path: Path, sample_video: Path) -> None:
    materialize("perceptioncomp", tmp_path / "data", sample_video)
    path = next((tmp_path / "data").rglob("*.json"))
    records = json.loads(path.read_text())
    records.append(dict(records[0], key=9999, answer_id=7))
    path.write_text(json.dumps(records))
    suite = _suite("perceptioncomp", tmp_path / "data", tmp_path / "media")
    assert "9999" not in {s.id for s in suite.samples()}
    assert [s.record for s in suite.skipped] == ["9999"]


def test_sparbench_answer_form_follows_the_task_as_the_official_code_dispatches(
    tmp_path: Path, sample_video: Path
) -> None:
    """A mirror without `format_type` (or with a wrong one) still scores each task by the official rule
    for its task: MC tasks by letter, the 8 depth/distance tasks by MRA, view change as a move string."""
    materialize("sparbench", tmp_path / "data", sample_video)
    path = tmp_path / "data" / "data" / "test-00000-of-00004.parquet"
    table = pq.read_table(path)
    pq.write_table(table.drop(["format_type"]), path)
    samples = list(_suite("sparbench", tmp_path / "data", tmp_path / "media").samples())
    assert [(s.category, s.answer_format) for s in samples] == [
        ("distance_prediction_oo", "number"), ("distance_infer_center_oo_mv", "letter"),
        ("view_change_infer", "text"),
    ]  # fmt: skip
