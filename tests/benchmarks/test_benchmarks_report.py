"""`bench.report`: per-benchmark aggregation rules, the results file reader and the rendered table."""

from __future__ import annotations

import math
from pathlib import Path

import msgspec
import pytest

from bench.report import aggregate, benchmark_of, benchmark_score, load_results, render_results
from bench.suites._specs import get
from bench.suites.videommev2 import group_score
from claw.events import EpisodeResult, encode_line


def result(suite: str, sample_id: str, category: str, score: float, metric: str = "exact") -> EpisodeResult:
    return EpisodeResult(
        run_id="r",
        episode_id=f"{suite}:{sample_id}",
        sample_id=sample_id,
        suite=suite,
        category=category,
        answer="A",
        ground_truth="A",
        score=score,
        metric=metric,
        reason="answered",
        steps=1,
        duration_s=0.1,
    )


def test_micro_and_unscored() -> None:
    rs = [
        result("spatialtree", "1", "Distance", 1.0),
        result("spatialtree", "2", "Distance", 0.0),
        result("spatialtree", "3", "Self-Goaling", 0.0, metric="unscored"),
    ]
    assert benchmark_score(get("spatialtree"), rs, rules="sc") == pytest.approx(50.0)
    # the official tree: only L1/Geometry/Distance has scored results, so it carries the whole weight
    assert benchmark_score(get("spatialtree"), rs) == pytest.approx(50.0)


def test_infrastructure_errors_are_not_scores() -> None:
    failed = msgspec.structs.replace(result("spatialtree", "3", "Distance", 0.0), reason="error")
    rs = [result("spatialtree", "1", "Distance", 1.0), result("spatialtree", "2", "Distance", 0.0), failed]
    assert benchmark_score(get("spatialtree"), rs, rules="sc") == pytest.approx(50.0)


def test_spatialtree_official_weights_leaves_by_the_authors_hierarchy() -> None:
    rs = [result("spatialtree", "1", "Distance", 1.0), result("spatialtree", "2", "Shape", 0.0)]
    # Geometry = (0.65 * 1 + 0.1 * 0) / (0.65 + 0.1); L1 and the root hold only Geometry
    assert benchmark_score(get("spatialtree"), rs) == pytest.approx(100 * 0.65 / 0.75)
    rs.append(result("spatialtree", "3", "Operation", 1.0))
    # root = (0.25 * L1 + 0.25 * L3) / 0.5 with L3 = Seq. Plan. = Operation = 1
    assert benchmark_score(get("spatialtree"), rs) == pytest.approx(100 * (0.65 / 0.75 + 1.0) / 2)
    assert benchmark_score(get("spatialtree"), rs, rules="sc") == pytest.approx(100 * 2 / 3)


def test_macro_merges_vsi_directions_before_averaging_tasks() -> None:
    rs = [
        result("vsibench_unbiased", "1", "object_rel_direction_easy", 1.0),
        result("vsibench_unbiased", "2", "object_rel_direction_easy", 1.0),
        result("vsibench_unbiased", "3", "object_rel_direction_hard", 0.0),
        result("vsibench_unbiased", "4", "object_counting", 0.5),
    ]
    # direction = mean(1.0, 0.0) = 0.5 (difficulties by plain mean), counting 0.5 -> 50
    assert benchmark_score(get("vsibench_unbiased"), rs) == pytest.approx(50.0)
    assert benchmark_score(get("spbench"), list(rs)) == pytest.approx(100 * (1.0 + 0.0 + 0.5) / 3)


def test_mindcube_overall_leaves_translation_out_under_both_rules() -> None:
    # the authors' base_metrics.py excludes translation from the overall, as the published system does
    rs = [result("mindcube", "a", "around", 1.0), result("mindcube", "t", "translation", 0.0)]
    assert benchmark_score(get("mindcube"), rs) == pytest.approx(100.0)
    assert benchmark_score(get("mindcube"), rs, rules="sc") == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("category", "scores", "credit"),
    [
        ("relevance [1,2,3,4]", [1, 1, 1, 0], 0.5625),
        ("relevance [1,2,3,4]", [0, 0, 0, 0], 0.0),
        ("logic [1,2,3,4]", [1, 1, 0, 1], 0.25),
        ("logic [1,[2,3],4]", [1, 0, 1, 0], 0.3333),
        ("logic [1,[2,3],4]", [1, 1, 1, 1], 1.0),
        ("logic [[1,2],3,4]", [0, 1, 0, 0], 0.10),
        ("logic [[1,2],3,4]", [1, 1, 1, 0], 0.50),
    ],
)
def test_videommev2_group_credit(category: str, scores: list[float], credit: float) -> None:
    assert group_score(category, scores) == pytest.approx(credit)


def test_videommev2_groups_by_video_in_question_order() -> None:
    # Rows arrive shuffled; grouping is by video id and ordered by the question suffix.
    rel, logic = "relevance [1,2,3,4]", "logic [1,2,3,4]"
    order = [
        ("002-2", logic, 1.0),
        ("001-1", rel, 1.0),
        ("002-1", logic, 0.0),
        ("001-2", rel, 1.0),
        ("002-3", logic, 1.0),
        ("002-4", logic, 1.0),
        ("001-3", rel, 0.0),
        ("001-4", rel, 0.0),
    ]
    rs = [result("videommev2", sample_id, category, score) for sample_id, category, score in order]
    assert benchmark_score(get("videommev2"), rs) == pytest.approx(100 * (0.25 + 0.0) / 2)


def test_aggregate_average_is_over_benchmarks_not_groups() -> None:
    rs = [
        result("erqa", "1", "x", 1.0),
        result("mmsi", "1", "x", 0.0),
        result("mmsi", "2", "x", 0.0),
        result("blink", "1", "Counting", 1.0),
        result("synthetic", "s", "d", 0.5, metric="mra"),
    ]
    table = aggregate(rs)
    assert table.average == pytest.approx(100 * 2 / 3)
    assert not table.complete
    assert table.groups["Single-image"] == pytest.approx(100.0)
    assert math.isnan(table.groups["General video"])
    assert table.benchmarks[-1].name == "synthetic"


def test_load_results_keeps_the_last_line_per_episode(tmp_path: Path) -> None:
    lines = [result("erqa", "1", "x", 0.0), result("erqa", "1", "x", 1.0), result("erqa", "2", "x", 0.0)]
    (tmp_path / "results.jsonl").write_bytes(b"".join(encode_line(r) for r in lines))
    loaded = load_results(tmp_path)
    assert sorted((r.sample_id, r.score) for r in loaded) == [("1", 1.0), ("2", 0.0)]


def test_render_has_paper_layout_and_details() -> None:
    text = render_results([result("blink", "1", "Counting", 1.0), result("blink", "2", "Jigsaw", 0.0)])
    header = text.splitlines()[0]
    assert header.index("ERQA") < header.index("**Single-image**") < header.index("MindCube")
    assert header.rstrip(" |").endswith("**Avg**")
    assert "| SpatialClaw (paper, Gemma 4-31B) |" in text
    assert "| 59.9 |" in text
    assert "| **BLINK** | overall | 2 | 50.0 |" in text
    assert "[partial]" in text


def test_paper20_results_are_split_by_benchmark() -> None:
    rs = [
        msgspec.structs.replace(result("paper20", "412", "x", 1.0), episode_id="mmsi/412/s0"),
        msgspec.structs.replace(result("blink-sc", "1", "Counting", 0.0), episode_id="e"),
    ]
    assert [benchmark_of(r) for r in rs] == ["mmsi", "blink"]
    figures = {f.name: f.n for f in aggregate(rs).benchmarks}
    assert (figures["mmsi"], figures["blink"]) == (1, 1)
    assert "paper20" not in figures


def test_spbench_official_scores_si_and_mv_apart_then_averages() -> None:
    rs = [
        result("spbench", "SI_1", "object_counting", 1.0),
        result("spbench", "SI_2", "object_counting", 1.0),
        result("spbench", "SI_3", "object_rel_distance", 0.0),
        result("spbench", "MV_1", "object_counting", 0.0),
    ]
    # SPBench-SI = mean(1.0, 0.0) = 50, SPBench-MV = 0 -> 25; the published macro over types: (2/3 + 0) / 2
    assert benchmark_score(get("spbench"), rs) == pytest.approx(25.0)
    assert benchmark_score(get("spbench"), rs, rules="sc") == pytest.approx(100 * (2 / 3 + 0.0) / 2)
    figure = next(f for f in aggregate(rs).benchmarks if f.name == "spbench")
    assert {c.category: c.score for c in figure.categories if "subset" in c.category} == {
        "MV (subset)": 0.0,
        "SI (subset)": 50.0,
    }


def test_videomme_unanswered_leave_the_denominator() -> None:
    rs = [
        result("videomme", "001-1", "short", 1.0),
        result("videomme", "001-2", "short", 0.0),
        result("videomme", "001-3", "short", 0.0, metric="unscored"),
    ]
    assert benchmark_score(get("videomme"), rs) == pytest.approx(50.0)


def test_videommev2_unparsed_counts_as_the_official_minus_one() -> None:
    logic = "logic [1,2,3,4]"
    rs = [result("videommev2", f"231-{i}", logic, 1.0) for i in (1, 2)]
    rs += [
        result("videommev2", "231-3", logic, 0.0, metric="unparsed"),
        result("videommev2", "231-4", logic, 0.0),
    ]
    # -1 is truthy in the official chain, so the chain reaches 3 -> 56.25
    assert benchmark_score(get("videommev2"), rs) == pytest.approx(56.25)
    relevance = "relevance [1,2,3,4]"
    rs = [result("videommev2", f"7-{i}", relevance, 1.0) for i in (1, 2, 3)]
    rs.append(result("videommev2", "7-4", relevance, 0.0, metric="unparsed"))
    # the count is 1 + 1 + 1 - 1 = 2 -> 25
    assert benchmark_score(get("videommev2"), rs) == pytest.approx(25.0)


def test_videommev2_a_group_with_an_errored_question_waits_for_the_resume() -> None:
    """The logic chain is read by position: dropping only the errored Q1 would score Q2..Q4 as Q1..Q3."""
    logic = "logic [1,2,3,4]"
    rs = [result("videommev2", "9-1", logic, 1.0)]
    rs.append(msgspec.structs.replace(result("videommev2", "9-2", logic, 0.0), reason="error"))
    rs += [result("videommev2", f"9-{i}", logic, 1.0) for i in (3, 4)]
    rs += [result("videommev2", f"5-{i}", logic, 1.0) for i in (1, 2, 3, 4)]
    assert benchmark_score(get("videommev2"), rs) == pytest.approx(100.0)  # group 5 alone
