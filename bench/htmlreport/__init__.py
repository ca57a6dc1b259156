"""`claw report RUN`'s HTML file: one self-contained page (style, script and images inline; no server, no
network) with the run's facts, its score tables in the paper's layout and every episode step by step.

`write_report(run_dir)` reads only the run directory: `events.jsonl` for the facts and the episodes,
`results.jsonl` for the scores, and the images the log references under `media/`.
"""

from __future__ import annotations

from pathlib import Path

from bench.htmlreport._episodes import EpisodeView, StepView, episode_views
from bench.htmlreport._highlight import highlight_python
from bench.htmlreport._images import ImageStore
from bench.htmlreport._page import render_page
from bench.htmlreport._tables import score_tables
from bench.report import aggregate
from claw.runtime.facts import RunFacts, read_run_facts, run_facts
from claw.runtime.sinks import read_results
from claw.runtime.transcript import read_events

__all__ = [
    "EpisodeView",
    "RunFacts",
    "StepView",
    "episode_views",
    "highlight_python",
    "read_run_facts",
    "run_facts",
    "write_report",
]

THUMBNAIL_SIDE = 480
"""Longest side, in pixels, of the images inlined in a report."""


def write_report(run_dir: Path, out: Path | None = None, *, rules: str = "official") -> Path:
    """Write the run's HTML report (default `RUN_DIR/report.html`) and return its path.

    Raises:
        ClawError: no event log, or a corrupt line in it or in `results.jsonl`.
        OSError: the report cannot be written.
    """
    results = read_results(run_dir / "results.jsonl")
    events = list(read_events(run_dir / "events.jsonl"))
    facts = run_facts(events, finished=len(results))
    store = ImageStore(run_dir, max_side=THUMBNAIL_SIDE)
    page = render_page(facts, score_tables(aggregate(results, rules=rules)), episode_views(events), store)
    target = out or run_dir / "report.html"
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    return target
