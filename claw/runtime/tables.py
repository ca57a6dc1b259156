"""Plain-text score tables for the terminal: the end-of-run accuracy table and `claw report RUN_DIR`."""

from __future__ import annotations

from pathlib import Path

import msgspec

from claw.errors import ClawError
from claw.runtime.sinks import Summary, read_results, summarize

__all__ = ["report_run", "summary_table"]


def summary_table(summary: Summary) -> str:
    """Accuracy per category, then overall."""
    width = max([len("overall"), *(len(name) for name in summary.per_category)])
    lines = [f"{'category':<{width}}  {'n':>5}  {'accuracy':>8}", "-" * (width + 17)]
    for name, score in summary.per_category.items():
        lines.append(f"{name:<{width}}  {score.n:>5}  {score.accuracy:>8.3f}")
    lines.append("-" * (width + 17))
    lines.append(f"{'overall':<{width}}  {summary.n:>5}  {summary.accuracy:>8.3f}")
    notes = f"answered {summary.answered}, forced {summary.forced}, errors {summary.errors}"
    lines.append(f"{notes}, failed {summary.failed}")
    return "\n".join(lines + _run_lines(summary))


def _run_lines(summary: Summary) -> list[str]:
    if not summary.status:
        return []
    target = "all samples" if summary.target_n is None else f"n={summary.target_n}"
    minutes, seconds = divmod(round(summary.duration_s), 60)
    failures = ", ".join(f"{kind} × {count}" for kind, count in summary.failures.items()) or "none"
    return [
        f"status {summary.status} ({target}); {minutes}m {seconds:02d}s; model {summary.model}",
        f"tokens {summary.prompt_tokens:,} prompt ({summary.cached_tokens:,} cached) + "
        f"{summary.completion_tokens:,} completion; kernel deaths {summary.kernel_deaths}",
        f"failures by kind: {failures}",
    ]


def report_run(run_dir: Path) -> str:
    """The score table of a finished (or partial) run, from its `results.jsonl`.

    Raises:
        ClawError: `run_dir` holds no results.
    """
    results = read_results(run_dir / "results.jsonl")
    if not results:
        raise ClawError(f"{run_dir} has no results.jsonl entries; is it a claw run directory?")
    summary_path = run_dir / "summary.json"
    run_id = results[0].run_id
    if summary_path.exists():
        run_id = msgspec.json.decode(summary_path.read_bytes(), type=Summary).run_id
    return summary_table(summarize(run_id, results[0].suite, results))
