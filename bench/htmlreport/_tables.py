"""The report's score tables in the paper's layout: the 20 benchmarks grouped as in the published main
table (with group means and the average, beside the published figures), then each benchmark's
categories; suites outside the 20 (the synthetic suite) get a table of their own."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from bench.report import BenchFigure, Table
from bench.scoring import micro_mean
from bench.suites._specs import GROUPS, SPECS

__all__ = ["score_tables"]


def _cell(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.1f}"


def _group_header() -> str:
    cells = ['<th rowspan="2">Method</th>']
    for group in GROUPS:
        span = sum(s.group == group for s in SPECS) + 1
        cells.append(f'<th colspan="{span}">{html.escape(group)}</th>')
    cells.append('<th rowspan="2">Avg</th>')
    titles = []
    for group in GROUPS:
        titles += [f"<th>{html.escape(s.title)}</th>" for s in SPECS if s.group == group]
        titles.append('<th class="mean">mean</th>')
    return f"<tr>{''.join(cells)}</tr><tr>{''.join(titles)}</tr>"


def _known(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None and not math.isnan(v)]


def _row(label: str, value_of: dict[str, float | None], css: str = "") -> str:
    cells = [f"<th>{html.escape(label)}</th>"]
    for group in GROUPS:
        values = [value_of.get(s.name) for s in SPECS if s.group == group]
        known = _known(values)
        cells += [f"<td>{_cell(v)}</td>" for v in values]
        cells.append(f'<td class="mean">{_cell(micro_mean(known) if known else None)}</td>')
    every = _known([value_of.get(s.name) for s in SPECS])
    cells.append(f'<td class="mean">{_cell(micro_mean(every) if every else None)}</td>')
    return f'<tr class="{css}">{"".join(cells)}</tr>'


def _main_table(table: Table) -> str:
    ours: dict[str, float | None] = {f.name: f.score for f in table.benchmarks}
    label = "claw (this run)" + ("" if table.complete else " — partial")
    rows = [
        _row(label, ours, "ours"),
        _row("SpatialClaw (paper, Gemma 4-31B)", {s.name: s.paper for s in SPECS}),
        _row("No-tool (paper, Gemma 4-31B)", {s.name: s.notool for s in SPECS}),
    ]
    return f'<table class="scores" id="main-table">{_group_header()}{"".join(rows)}</table>'


def _detail_rows(figure: BenchFigure) -> list[str]:
    name = html.escape(figure.title)
    score = _cell(figure.score)
    rows = [f'<tr class="bench"><th>{name}</th><td>overall</td><td>{figure.n}</td><td>{score}</td></tr>']
    rows += [
        f"<tr><th></th><td>{html.escape(c.category)}</td><td>{c.n}</td><td>{_cell(c.score)}</td></tr>"
        for c in figure.categories
    ]
    return rows


def _detail_table(figures: Sequence[BenchFigure]) -> str:
    rows = [row for f in figures if f.n for row in _detail_rows(f)]
    head = "<tr><th>Benchmark</th><th>Category</th><th>n</th><th>Score</th></tr>"
    return f'<table class="detail" id="category-table">{head}{"".join(rows)}</table>'


def score_tables(table: Table) -> str:
    """The main table (only when the run has any of the 20 benchmarks) and the per-category table."""
    parts = []
    if any(f.n for f in table.benchmarks[: len(SPECS)]):
        parts.append(_main_table(table))
        parts.append(
            f'<p class="note">Rules: {html.escape(table.rules)}. Scores ×100; group means and Avg are '
            "unweighted means of benchmarks.</p>"
        )
    parts.append(_detail_table(table.benchmarks))
    return "\n".join(parts)
