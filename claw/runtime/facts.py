"""The facts of a run, folded from its event log: whether it is complete, how long it took, which model
answered, how many tokens it spent, and how many episodes failed and in what way.

A run directory may hold several segments (a run that was stopped and resumed): each opens with
`RunStarted`; a segment without `RunFinished` crashed or is still running.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from claw.events import (
    EpisodeFailed,
    EpisodeFinished,
    Event,
    KernelFailed,
    LLMFailed,
    LLMResponded,
    RunFinished,
    RunStarted,
)
from claw.runtime.sinks import Summary, read_results
from claw.runtime.transcript import read_events

__all__ = ["RunFacts", "read_run_facts", "run_facts", "with_facts"]


class RunFacts(msgspec.Struct, kw_only=True):
    """What a reader of a run wants to know before its scores."""

    run_id: str = ""
    suite: str = ""
    status: str = "no events"
    """`complete`, or why not: `running or crashed`, `cancelled`, `error`."""
    complete: bool = False
    target_n: int | None = None
    """The `n` the run was asked for (None: every sample of the suite)."""
    finished: int = 0
    """Episodes with a scored result (resumed ones included)."""
    duration_s: float = 0.0
    """Wall time summed over the run's segments (a segment still open counts up to its last event)."""
    segments: int = 0
    models: list[str] = msgspec.field(default_factory=list)
    interface: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    requests: int = 0
    forced: int = 0
    budget: int = 0
    errored: int = 0
    """Episodes that ended with reason `error` (the model or its kernel failed them)."""
    failed: int = 0
    """Episodes the runtime itself could not run (`EpisodeFailed`)."""
    kernel_deaths: int = 0
    failures: dict[str, int] = msgspec.field(default_factory=dict)
    """Failures by kind: runtime errors by exception type, failed model calls by error type."""

    @property
    def episodes_per_s(self) -> float:
        """Finished episodes per second of run time."""
        return self.finished / self.duration_s if self.duration_s > 0 else 0.0


def _models(config: dict[str, Any]) -> list[str]:
    models = config.get("models", {})
    named = [f"{e['model']} @ {e['url']}" for e in models.get("agent", [])]
    if "models" in config.get("ray", {}).get("discover", []):
        return ["the model servers registered on the Ray cluster (see each call's endpoint)"]
    return named or [f"mock LLM server ({models.get('policy', '?')} policy)"]


class _Fold:
    def __init__(self) -> None:
        self.facts = RunFacts()
        self.kinds: Counter[str] = Counter()
        self.open_since: float | None = None
        self.last_wall = 0.0
        self.last_status = ""

    def start(self, event: RunStarted) -> None:
        self._close_open()
        facts = self.facts
        facts.run_id, facts.suite, facts.segments = event.run_id, event.suite, facts.segments + 1
        n = event.config.get("n")
        facts.target_n = n if isinstance(n, int) else None
        facts.models = _models(event.config)
        agent = event.config.get("agent", {})
        facts.interface = str(agent.get("interface", "")) if isinstance(agent, dict) else ""
        self.open_since, self.last_status = event.t_wall, ""

    def _close_open(self) -> None:
        if self.open_since is not None:
            self.facts.duration_s += max(0.0, self.last_wall - self.open_since)
            self.open_since = None

    def finish(self, event: RunFinished) -> None:
        self.facts.duration_s += event.duration_s
        self.open_since, self.last_status = None, event.status

    def add(self, event: Event) -> None:
        self.last_wall = max(self.last_wall, event.t_wall)
        facts = self.facts
        match event:
            case RunStarted():
                self.start(event)
            case RunFinished():
                self.finish(event)
            case LLMResponded():
                facts.requests += 1
                facts.prompt_tokens += event.prompt_tokens
                facts.completion_tokens += event.completion_tokens
                facts.cached_tokens += event.cached_tokens
            case LLMFailed(error_type=kind):
                self.kinds[f"model call: {kind}"] += 1
            case KernelFailed():
                facts.kernel_deaths += 1
            case EpisodeFailed(error_type=kind):
                facts.failed += 1
                self.kinds[f"runtime: {kind}"] += 1
            case EpisodeFinished(reason=reason):
                self.count_finish(reason)

    def count_finish(self, reason: str) -> None:
        self.facts.forced += reason == "forced"
        self.facts.budget += reason == "budget"
        self.facts.errored += reason == "error"

    def result(self, finished: int) -> RunFacts:
        facts, open_segment = self.facts, self.open_since is not None
        self._close_open()
        facts.failures = dict(self.kinds.most_common())
        facts.finished = finished
        if facts.segments == 0:
            facts.status = "no events"
        elif open_segment:
            facts.status = "incomplete: running or crashed (no RunFinished)"
        elif self.last_status != "success":
            facts.status = f"incomplete: {self.last_status}"
        else:
            facts.status = "complete"
        facts.complete = facts.status == "complete"
        return facts


def run_facts(events: Iterable[Event], *, finished: int) -> RunFacts:
    """The facts of the run whose events these are; `finished` is its count of scored results."""
    fold = _Fold()
    for event in events:
        fold.add(event)
    return fold.result(finished)


def read_run_facts(run_dir: Path) -> RunFacts:
    """The facts of the run in `run_dir` (blocking file reads: call it from a worker thread).

    Raises:
        ClawError: no event log, or a corrupt line in it or in `results.jsonl`.
    """
    finished = len(read_results(run_dir / "results.jsonl"))
    return run_facts(read_events(run_dir / "events.jsonl"), finished=finished)


def with_facts(summary: Summary, facts: RunFacts) -> Summary:
    """`summary` with the run's status, target, duration, model, token totals and failure counts."""
    return msgspec.structs.replace(
        summary,
        status=facts.status,
        target_n=facts.target_n,
        duration_s=round(facts.duration_s, 3),
        model="; ".join(facts.models),
        prompt_tokens=facts.prompt_tokens,
        completion_tokens=facts.completion_tokens,
        cached_tokens=facts.cached_tokens,
        kernel_deaths=facts.kernel_deaths,
        failures=facts.failures,
    )
