"""Runs a whole evaluation: prepares the run directory, starts the helper services (perception server,
mock LLM server when no model is configured), opens the kernel pool and the model transport, and runs the
suite's episodes concurrently under named limits, writing events and results as they happen.

Runs resume by default: re-running into the same directory skips every episode already scored in
`results.jsonl` and never rewrites it; episodes recorded as `error` run again unless `retry_errors` is off.
A crash in one episode becomes an `EpisodeFailed` event and an `error` result; the run goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import anyio
import msgspec

from claw._process import first_leaf
from claw._version import __version__
from claw.config import EvalConfig
from claw.errors import ConfigError, ServiceError
from claw.events import Event, RunFinished, RunStarted, RunStatus, stamp
from claw.llm.types import ChatTransport
from claw.results import EpisodeResult
from claw.runtime.bus import Bus, Sink
from claw.runtime.embed import SharedServices
from claw.runtime.episode_task import (
    Tally,
)
from claw.runtime.executor import EpisodeExecutor
from claw.runtime.facts import read_run_facts, with_facts
from claw.runtime.layout import RunLayout, prepare_run, suite_options
from claw.runtime.local import LocalExecutor, open_services
from claw.runtime.preflight import check_names, probe_models, probe_perception
from claw.runtime.progress import ProgressSink, ProgressSnapshot, format_progress, planned_total
from claw.runtime.sinks import (
    JsonlSink,
    ResultsSink,
    Summary,
    read_results,
    repair_results,
    repair_tail,
    scored_episodes,
    summarize,
    write_summary,
)
from claw.suite import Sample, Score, Suite, get_suite, suite_factory

__all__ = ["LocalExecutor", "RunLayout", "open_services", "prepare_run", "run_eval"]
# RunLayout, prepare_run (claw.runtime.layout), LocalExecutor and open_services (claw.runtime.local) are
# re-exported: they were defined here and embedders import them from here.


async def run_eval(
    config: EvalConfig,
    *,
    report: Callable[[str], None] = lambda _line: None,
    stop: anyio.Event | None = None,
    wrap_llm: Callable[[ChatTransport], ChatTransport] | None = None,
    progress: Callable[[ProgressSnapshot], None] | None = None,
    executor: EpisodeExecutor | None = None,
    sinks: Sequence[Sink] = (),
    shared: SharedServices | None = None,
) -> Summary:
    """Run `config`'s suite to the end (or resume it) and return its summary (also in `summary.json`).

    Setting `stop` ends the run early and cleanly: episodes in flight are cancelled (a resumed run redoes
    them), the services shut down, and the log ends with `RunFinished(status="cancelled")`.
    `wrap_llm` wraps the model transport the run opens (`claw replay` answers from a recorded run).
    `report` receives status lines (and, without `progress`, progress lines); `progress` receives typed
    progress snapshots while the run goes. `executor` says where episodes run (default: this process).
    `sinks` receive every event too. With `shared` (a `Runner`'s) the run borrows its services instead of
    starting its own.

    Raises:
        ClawError: the suite, a service or the sandbox could not start (the message says what to do).
        ServiceError: a helper server died more often than it may be restarted (the summary is written).
    """
    await _preflight(config)
    layout = await anyio.to_thread.run_sync(prepare_run, config)
    resume = await anyio.to_thread.run_sync(_read_resume, layout)
    finished, skip = resume.finished, resume.skip
    named = await anyio.to_thread.run_sync(get_suite, config.suite, suite_options(layout, skip))
    total = await anyio.to_thread.run_sync(planned_total, config, named)  # before wrapping: it may count
    suite = _SeenSuite(named)
    tally = Tally(episodes=len(resume.done), score_sum=sum(r.score for r in resume.done))
    publish = progress or (lambda snapshot: report(format_progress(snapshot)))
    progress_sink = ProgressSink(
        total,
        publish,
        done=len(resume.done),
        score_sum=tally.score_sum,
        errors=sum(not r.error_type for r in resume.kept),
        failed=sum(bool(r.error_type) for r in resume.kept),
    )
    routes = [shared.route_sink(layout.run_id)] if shared else []
    files = await anyio.to_thread.run_sync(_file_sinks, layout, suite.name)
    started = time.monotonic()
    gone: ServiceError | None = None
    async with Bus([*files, progress_sink, *sinks, *routes]) as bus:
        for route in routes:
            route.emit = bus.emit
        status: RunStatus = "error"
        try:
            report(_starting_line(layout, len(finished)))
            async with (executor or LocalExecutor(wrap_llm, shared)).open(layout, bus) as run_episodes:
                report(f"services ready in {time.monotonic() - started:.1f} s; running episodes")
                await bus.emit(_run_started(layout, suite, len(finished)))
                gone = await run_episodes(suite, tally, finished, stop)
            status = "cancelled" if stop is not None and stop.is_set() else "success"
            status = "error" if gone is not None else status
        except anyio.get_cancelled_exc_class():
            status = "cancelled"
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await bus.emit(_run_finished(layout, tally, status, time.monotonic() - started))
    summary = await anyio.to_thread.run_sync(_write_summary, layout, suite.name)
    if gone is not None:  # raised out here, where no task group wraps it in a group
        raise gone
    if status == "success":
        _check_samples_named(config, suite, skip)
    return summary


@dataclass(frozen=True)
class _Resume:
    """What a run directory already holds: the scored episodes, the episodes not to run again, the
    samples never to build again, and the `error` episodes kept by `--no-retry-errors`."""

    done: list[EpisodeResult]
    finished: set[str]
    skip: frozenset[str]
    kept: list[EpisodeResult]


def _read_resume(layout: RunLayout) -> _Resume:
    repair_results(layout.results)  # before the sinks append
    repair_tail(layout.events)
    previous = read_results(layout.results)
    finished = scored_episodes(previous) if layout.config.retry_errors else {r.episode_id for r in previous}
    return _Resume(
        done=[r for r in previous if r.reason != "error"],
        finished=finished,
        skip=frozenset(r.sample_id for r in previous if r.episode_id in finished),
        kept=[r for r in previous if r.reason == "error" and r.episode_id in finished],
    )


class _SeenSuite:
    """The run's suite, noting the id of every sample it hands out, so that a `--sample` id the suite
    never had is named at the end instead of ending a run of nothing as complete."""

    def __init__(self, suite: Suite) -> None:
        self.name = suite.name
        self.ids: list[str] = []
        self._suite = suite

    def samples(self) -> Iterator[Sample]:
        for sample in self._suite.samples():
            self.ids.append(sample.id)
            yield sample

    def score(self, sample: Sample, answer: str | None) -> Score:
        return self._suite.score(sample, answer)


def _check_samples_named(config: EvalConfig, suite: _SeenSuite, finished: frozenset[str]) -> None:
    unknown = [s for s in config.samples if s not in finished and s not in suite.ids]
    if unknown:
        among = f"the first {config.n} samples" if config.n is not None else "the samples"
        examples = ", ".join(suite.ids[:3]) or "none"
        raise ConfigError(
            f"--sample {', '.join(unknown)}: no such sample among {among} of {suite.name} (ids look like "
            f"{examples}); nothing was run for it",
            field="samples",
        )


def _starting_line(layout: RunLayout, resumed: int) -> str:
    config = layout.config
    model = "the mock LLM server" if not config.models.agent else config.models.agent[0].model
    if "models" in config.ray.discover:
        model = "the model servers registered on the cluster"
    again = f", resuming past {resumed} finished episodes" if resumed else ""
    where = f" on each Ray worker ({config.ray.address})" if config.ray.address else ""
    return (
        f"run {layout.run_id} in {layout.run_dir}{again}: starting services{where} (perception "
        f"{config.perception.backend}, {model}, {config.limits.kernels} kernels)…"
    )


async def _preflight(config: EvalConfig) -> None:
    """Refuse a run that cannot work before anything is written or started (seconds, one line)."""
    await anyio.to_thread.run_sync(suite_factory, config.suite)  # loads entry points: file reads
    await anyio.to_thread.run_sync(check_names, config)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(probe_models, config)
            if config.perception.url or config.perception.socket:
                tg.start_soon(probe_perception, config.perception)
    except BaseExceptionGroup as group:
        raise first_leaf(group) from None


def _file_sinks(layout: RunLayout, suite_name: str) -> list[Sink]:
    """The sinks that own the run's files (opening them is disk I/O, so this runs in a thread)."""
    return [JsonlSink(layout.events), ResultsSink(layout.results, suite_name)]


def _write_summary(layout: RunLayout, suite_name: str) -> Summary:
    summary = summarize(layout.run_id, suite_name, read_results(layout.results))
    summary = with_facts(summary, read_run_facts(layout.run_dir))
    write_summary(layout.summary, summary)
    return summary


def _run_started(layout: RunLayout, suite: Suite, resumed: int) -> Event:
    return RunStarted(
        **stamp(layout.run_id),
        suite=suite.name,
        claw_version=__version__,
        config=msgspec.to_builtins(layout.config),
        resumed_episodes=resumed,
    )


def _run_finished(layout: RunLayout, tally: Tally, status: RunStatus, duration_s: float) -> Event:
    accuracy = tally.score_sum / tally.episodes if tally.episodes else 0.0
    return RunFinished(
        **stamp(layout.run_id),
        status=status,
        episodes=tally.episodes,
        failed=tally.failed + tally.errors,
        accuracy=accuracy,
        duration_s=duration_s,
    )
