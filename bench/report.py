"""Benchmark figures from a run's `results.jsonl`, aggregated the way each benchmark defines it, and the
table `claw report RUN_DIR` prints in the layout of the paper's main table.

Per benchmark: micro (mean over samples), macro (mean of per-category means; VSI-U first merges its
three relative-direction difficulties), or Video-MME-v2's group credit over videos. Results with
metric "unscored" are left out of every denominator. Benchmarks ×100, one decimal; each group column is
the unweighted mean of its benchmarks, and the average is the unweighted mean of the benchmark scores
(not of the group means). Rules "sc" apply the published system's aggregation differences (MindCube
without translation). Results for suites that are not one of the 20 get their own micro rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec

from bench.scoring import UNPARSED, UNSCORED, group_mean, macro_mean, micro_mean
from bench.suites._specs import GROUPS, SPECS, BenchSpec, spec
from claw.events import EpisodeResult
from claw.runtime.sinks import read_results

__all__ = [
    "BenchFigure",
    "Table",
    "aggregate",
    "benchmark_of",
    "benchmark_score",
    "load_results",
    "render",
    "render_results",
]


class CategoryFigure(msgspec.Struct, frozen=True, kw_only=True):
    """Mean score of one category of one benchmark."""

    category: str
    n: int
    score: float
    """0..100."""


class BenchFigure(msgspec.Struct, frozen=True, kw_only=True):
    """One benchmark's figure in a run."""

    name: str
    title: str
    group: str
    n: int
    """Scored samples."""
    score: float
    """0..100, aggregated by the benchmark's rule; NaN without results."""
    categories: list[CategoryFigure]
    paper: float | None = None
    notool: float | None = None


class Table(msgspec.Struct, frozen=True, kw_only=True):
    """All figures of a run."""

    benchmarks: list[BenchFigure]
    """The 20 in table order (NaN where the run has none), then any other suite."""
    groups: dict[str, float]
    average: float
    """Unweighted mean over the 20 benchmarks that have results."""
    complete: bool
    """All 20 benchmarks have results."""
    rules: str = "official"


def load_results(path: Path) -> list[EpisodeResult]:
    """The results of a run directory (or of a `results.jsonl` file), the last line per episode winning.

    Raises:
        ClawError: a line is not a result record.
    """
    return read_results(path / "results.jsonl" if path.is_dir() else path)


def _kept(bench: BenchSpec, results: Iterable[EpisodeResult], rules: str) -> list[EpisodeResult]:
    excluded = bench.sc_excluded if rules == "sc" else bench.excluded
    # An episode that ended in `error` (its model or tools failed) is not an answer: a resume runs it again.
    return [r for r in results if r.metric != UNSCORED and r.reason != "error" and r.category not in excluded]


def _task(bench: BenchSpec, category: str) -> str:
    return next((task for prefix, task in bench.merge if category.startswith(prefix)), category)


def _macro(bench: BenchSpec, results: Sequence[EpisodeResult]) -> float:
    per_category: dict[str, list[float]] = {}
    for r in results:
        per_category.setdefault(r.category, []).append(r.score)
    return macro_mean((_task(bench, c), micro_mean(v)) for c, v in per_category.items())


def _group(results: Sequence[EpisodeResult]) -> float:
    from bench.suites.videommev2 import group_score  # imported late: the report needs it only here

    ordered = sorted(results, key=lambda r: _question_order(r.sample_id))
    rows = ((f"{r.sample_id.rsplit('-', 1)[0]}|{r.category}", -1.0 if r.metric == UNPARSED else r.score)
            for r in ordered)  # fmt: skip
    return group_mean(rows, lambda key, scores: group_score(key.split("|", 1)[1], scores))


def _whole_groups(results: Sequence[EpisodeResult], kept: Sequence[EpisodeResult]) -> list[EpisodeResult]:
    """`kept` without the groups one of whose questions ended in error: the group formula reads its
    questions by position, so a missing one would shift the rest (the group counts again once resumed)."""
    broken = {_question_order(r.sample_id)[0] for r in results if r.reason == "error"}
    return [r for r in kept if _question_order(r.sample_id)[0] not in broken]


def _question_order(sample_id: str) -> tuple[str, int]:
    video, _, number = sample_id.rpartition("-")
    return video, int(number) if number.isdigit() else 0


def benchmark_score(bench: BenchSpec, results: Sequence[EpisodeResult], rules: str = "official") -> float:
    """The benchmark's figure in 0..100 from its results (NaN when none count)."""
    kept = _kept(bench, results, rules)
    if bench.aggregation == "group":
        kept = _whole_groups(results, kept)
    if not kept:
        return math.nan
    if bench.subsets and rules == "official":
        return _nanmean(_aggregated(bench, part) for part in _subsets(bench, kept).values())
    return _aggregated(bench, kept, rules)


def _subsets(bench: BenchSpec, results: Sequence[EpisodeResult]) -> dict[str, list[EpisodeResult]]:
    parts: dict[str, list[EpisodeResult]] = {}
    for r in results:
        prefix = next((p for p in bench.subsets if r.sample_id.startswith(p)), "")
        parts.setdefault(prefix.rstrip("_") or "other", []).append(r)
    return parts


def _aggregated(bench: BenchSpec, kept: Sequence[EpisodeResult], rules: str = "official") -> float:
    if bench.aggregation == "macro":
        return 100 * _macro(bench, kept)
    if bench.aggregation == "group":
        return 100 * _group(kept)
    if bench.aggregation == "tree" and rules == "official":
        return 100 * _tree(kept)
    return 100 * micro_mean(r.score for r in kept)


def _tree(results: Sequence[EpisodeResult]) -> float:
    from bench.suites.spatialtree._official import tree_score  # imported late: only SpatialTree needs it

    per_leaf: dict[str, list[float]] = {}
    for r in results:
        per_leaf.setdefault(r.category, []).append(r.score)
    return tree_score({leaf: micro_mean(v) for leaf, v in per_leaf.items()}, missing="skip")


def _categories(results: Sequence[EpisodeResult]) -> list[CategoryFigure]:
    per: dict[str, list[float]] = {}
    for r in results:
        if r.metric != UNSCORED:
            per.setdefault(r.category, []).append(r.score)
    return [CategoryFigure(category=c, n=len(v), score=100 * micro_mean(v)) for c, v in sorted(per.items())]


def _figure(bench: BenchSpec, results: Sequence[EpisodeResult], rules: str) -> BenchFigure:
    kept = _kept(bench, results, rules)
    subsets = [
        CategoryFigure(category=f"{name} (subset)", n=len(part), score=_aggregated(bench, part))
        for name, part in sorted(_subsets(bench, kept).items())
    ] if bench.subsets and kept else []  # fmt: skip
    return BenchFigure(
        name=bench.name, title=bench.title, group=bench.group, n=len(kept),
        score=benchmark_score(bench, results, rules), categories=subsets + _categories(results),
        paper=bench.paper, notool=bench.notool,
    )  # fmt: skip


def _other(name: str, results: Sequence[EpisodeResult]) -> BenchFigure:
    kept = [r for r in results if r.metric != UNSCORED]
    score = 100 * micro_mean(r.score for r in kept) if kept else math.nan
    return BenchFigure(name=name, title=name, group="Other", n=len(kept), score=score,
                       categories=_categories(results))  # fmt: skip


def _nanmean(values: Iterable[float]) -> float:
    return micro_mean(v for v in values if not math.isnan(v))


def benchmark_of(result: EpisodeResult) -> str:
    """The benchmark a result belongs to: its suite (a "-sc" variant counts as its benchmark), or, for a
    `paper20` run, the benchmark that opens its episode id ("mmsi/412/s0")."""
    for name in (result.suite, result.suite.removesuffix("-sc"), result.episode_id.split("/", 1)[0]):
        if spec(name) is not None:
            return name
    return result.suite


def aggregate(results: Iterable[EpisodeResult], *, rules: str = "official") -> Table:
    """Every figure of a run: the 20 benchmarks in table order, group means and the average."""
    by_suite: dict[str, list[EpisodeResult]] = {}
    for r in results:
        by_suite.setdefault(benchmark_of(r), []).append(r)
    figures = [_figure(s, by_suite.get(s.name, []), rules) for s in SPECS]
    figures += [_other(name, rs) for name, rs in sorted(by_suite.items()) if spec(name) is None]
    groups = {g: _nanmean(f.score for f in figures if f.group == g) for g in GROUPS}
    scores = [f.score for f in figures[: len(SPECS)]]
    return Table(benchmarks=figures, groups=groups, average=_nanmean(scores),
                 complete=not any(math.isnan(s) for s in scores), rules=rules)  # fmt: skip


# --- rendering -------------------------------------------------------------------------------------


def _cell(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.1f}"


def _columns() -> list[tuple[str, list[BenchSpec]]]:
    return [(g, [s for s in SPECS if s.group == g]) for g in GROUPS]


def _header() -> list[str]:
    cells = ["Method"]
    for group, members in _columns():
        cells += [s.title for s in members] + [f"**{group}**"]
    return [*cells, "**Avg**"]


def _row(label: str, value_of: dict[str, float | None]) -> list[str]:
    cells = [label]
    for _, members in _columns():
        values = [value_of.get(s.name) for s in members]
        known = [v for v in values if v is not None and not math.isnan(v)]
        cells += [_cell(v) for v in values] + [_cell(micro_mean(known) if known else None)]
    every = [v for s in SPECS if (v := value_of.get(s.name)) is not None and not math.isnan(v)]
    return [*cells, _cell(micro_mean(every) if every else None)]


def _markdown(rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return lines + ["| " + " | ".join(r) + " |" for r in rows[1:]]


def _main_table(table: Table) -> list[str]:
    claw = {f.name: f.score for f in table.benchmarks}
    paper = {s.name: s.paper for s in SPECS}
    notool = {s.name: s.notool for s in SPECS}
    label = "claw (this run)" + ("" if table.complete else " [partial]")
    rows = [_header(), _row(label, dict(claw)), _row("SpatialClaw (paper, Gemma 4-31B)", dict(paper)),
            _row("No-tool (paper, Gemma 4-31B)", dict(notool))]  # fmt: skip
    return _markdown(rows)


def _detail(table: Table) -> list[str]:
    rows: list[list[str]] = [["Benchmark", "Category", "n", "Score"]]
    for f in table.benchmarks:
        if f.n == 0:
            continue
        rows.append([f"**{f.title}**", "overall", str(f.n), _cell(f.score)])
        rows += [["", c.category, str(c.n), _cell(c.score)] for c in f.categories]
    return _markdown(rows)


def render(table: Table) -> str:
    """The main table (benchmarks grouped as in the paper, beside the published figures), then per
    benchmark and category the sample counts and scores."""
    note = (
        f"Rules: {table.rules}. Benchmarks ×100; group columns and Avg are unweighted means of benchmarks."
        + ("" if table.complete else " Some benchmarks have no results (—): the claw row is partial.")
    )
    return "\n".join([*_main_table(table), "", note, "", *_detail(table), ""])


def render_results(results: Iterable[EpisodeResult], *, rules: str = "official") -> str:
    """`render(aggregate(results))`: what `claw report RUN_DIR` prints."""
    return render(aggregate(results, rules=rules))
