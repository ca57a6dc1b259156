"""Runs a whole evaluation: prepares the run directory, starts the helper services (perception server,
mock LLM server when no model is configured), opens the kernel pool and the model transport, and runs the
suite's episodes concurrently under named limits, writing events and results as they happen.

Runs resume by default: re-running into the same directory skips every episode already in
`results.jsonl` and never rewrites it. A crash in one episode becomes an `EpisodeFailed` event; the run
goes on.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import anyio
import msgspec

from claw._files import owned_prefix, sweep_stale_temp_dirs, temporary_directory
from claw._process import first_leaf
from claw._version import __version__
from claw.config import EvalConfig
from claw.errors import ConfigError, ServiceError
from claw.events import Event, RunFinished, RunStarted, RunStatus, stamp
from claw.llm import open_llm
from claw.llm.mockserver import start_mock_server
from claw.llm.types import ChatTransport
from claw.runtime.bus import Bus, Sink
from claw.runtime.embed import SharedServices
from claw.runtime.episode_task import (
    RunContext,
    RunServices,
    ServiceGone,
    Tally,
    episode_id_of,
    guarded_episode,
)
from claw.runtime.executor import EpisodeExecutor, RunEpisodes
from claw.runtime.facts import read_run_facts, with_facts
from claw.runtime.perception_service import open_perception
from claw.runtime.preflight import check_names, probe_models, probe_perception
from claw.runtime.progress import ProgressSink, ProgressSnapshot, format_progress
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
from claw.runtime.vlm_server import SubCallTokens, serve_vlm
from claw.sandbox import KernelPool
from claw.suite import Sample, Suite, SuiteOptions, get_suite, suite_factory

__all__ = ["LocalExecutor", "RunLayout", "open_services", "prepare_run", "run_eval"]


class RunLayout(msgspec.Struct, frozen=True, kw_only=True):
    """Where a run keeps its files."""

    run_id: str
    run_dir: Path
    config: EvalConfig

    @property
    def events(self) -> Path:
        """The event log, one JSON event per line."""
        return self.run_dir / "events.jsonl"

    @property
    def results(self) -> Path:
        """One scored result per line, per episode."""
        return self.run_dir / "results.jsonl"

    @property
    def summary(self) -> Path:
        """The run's aggregate scores."""
        return self.run_dir / "summary.json"

    @property
    def media(self) -> Path:
        """Where the suite writes rendered or extracted frames."""
        return self.run_dir / "media"

    @property
    def logs(self) -> Path:
        """Logs of the services the run started."""
        return self.run_dir / "logs"


def _new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def prepare_run(config: EvalConfig) -> RunLayout:
    """Create (or reopen, to resume) the run directory and record the resolved config in it.

    Raises:
        ConfigError: the directory belongs to a run of another suite.
    """
    run_dir = Path(config.run_dir) if config.run_dir else None
    saved = run_dir / "config.json" if run_dir else None
    if saved is not None and saved.exists():
        previous = msgspec.json.decode(saved.read_bytes(), type=EvalConfig)
        if previous.suite != config.suite:
            raise ConfigError(
                f"{run_dir} holds a run of suite {previous.suite!r}, not {config.suite!r}; "
                "choose another --run-dir",
                field="run_dir",
            )
        run_id = previous.run_id or _new_run_id()
    else:
        run_id = config.run_id or _new_run_id()
    run_dir = run_dir or Path("runs") / run_id
    config = msgspec.structs.replace(config, run_id=run_id, run_dir=str(run_dir))
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_bytes(msgspec.json.format(msgspec.json.encode(config), indent=2))
    return RunLayout(run_id=run_id, run_dir=run_dir, config=config)


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
    await anyio.to_thread.run_sync(sweep_stale_temp_dirs)  # what killed runs left in the temp folder
    layout = await anyio.to_thread.run_sync(prepare_run, config)
    await anyio.to_thread.run_sync(repair_results, layout.results)  # before the sinks append
    await anyio.to_thread.run_sync(repair_tail, layout.events)
    previous = await anyio.to_thread.run_sync(read_results, layout.results)
    done = [r for r in previous if r.reason != "error"]
    finished = scored_episodes(previous) if config.retry_errors else {r.episode_id for r in previous}
    skip = frozenset(r.sample_id for r in previous if r.episode_id in finished)  # never built again
    suite = await anyio.to_thread.run_sync(get_suite, config.suite, _suite_options(layout, skip))
    tally = Tally(episodes=len(done), score_sum=sum(r.score for r in done))
    total = len(config.samples) if config.samples else config.n or 0
    publish = progress or (lambda snapshot: report(format_progress(snapshot)))
    progress_sink = ProgressSink(total, publish, done=len(done), score_sum=tally.score_sum)
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
    summary = await anyio.to_thread.run_sync(_write_summary, layout, suite.name, tally.failed)
    if gone is not None:  # raised out here, where no task group wraps it in a group
        raise gone
    return summary


def _starting_line(layout: RunLayout, resumed: int) -> str:
    config = layout.config
    model = "the mock LLM server" if not config.models.agent else config.models.agent[0].model
    again = f", resuming past {resumed} finished episodes" if resumed else ""
    return (
        f"run {layout.run_id} in {layout.run_dir}{again}: starting services (perception "
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


def _write_summary(layout: RunLayout, suite_name: str, failed: int) -> Summary:
    summary = summarize(layout.run_id, suite_name, read_results(layout.results), failed=failed)
    summary = with_facts(summary, read_run_facts(layout.run_dir))
    write_summary(layout.summary, summary)
    return summary


def _suite_options(layout: RunLayout, skip: frozenset[str]) -> SuiteOptions:
    config = layout.config
    return SuiteOptions(
        n=config.n,
        seed=config.seed,
        data_dir=config.data_dir,
        media_dir=config.inputs.media_dir or str(layout.media),
        noise=config.perception.noise,
        frames=config.inputs.frames,
        uniform_frames=config.inputs.uniform_frames,
        images=config.inputs.images,
        max_side=config.inputs.max_side,
        skip=skip,
    )


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


class LocalExecutor:
    """Runs the episodes in this process: helper services, kernel pool and model transport of its own."""

    def __init__(
        self,
        wrap_llm: Callable[[ChatTransport], ChatTransport] | None = None,
        shared: SharedServices | None = None,
    ) -> None:
        self.wrap_llm, self.shared = wrap_llm, shared

    @asynccontextmanager
    async def open(self, layout: RunLayout, bus: Bus) -> AsyncIterator[RunEpisodes]:
        """Start the services; the yielded function runs a suite's episodes on them."""
        async with _services(layout, bus, self.wrap_llm, self.shared) as services:

            async def run(
                suite: Suite, tally: Tally, finished: set[str], stop: anyio.Event | None
            ) -> ServiceError | None:
                await _run_episodes(RunContext(layout, suite, services, bus, tally), finished, stop)
                return services.gone.error

            yield run


@asynccontextmanager
async def _services(
    layout: RunLayout,
    bus: Bus,
    wrap_llm: Callable[[ChatTransport], ChatTransport] | None,
    shared: SharedServices | None,
) -> AsyncIterator[RunServices]:
    if shared is not None:
        yield shared.services
        return
    async with open_services(layout, bus.emit, wrap_llm) as services:
        yield services


@asynccontextmanager
async def open_services(
    layout: RunLayout,
    emit: Callable[[Event], Awaitable[None]],
    wrap_llm: Callable[[ChatTransport], ChatTransport] | None = None,
) -> AsyncIterator[RunServices]:
    """Start what episodes need (perception server, mock model server when no model is configured, the
    model transport, the `vlm.ask` bridge reporting through `emit`, the kernel pool); stop it on exit.

    Raises:
        ClawError: a service or the sandbox could not start (the message says what to do).
    """
    config = layout.config
    subcalls = SubCallTokens()
    async with AsyncExitStack() as stack:
        # Unix socket paths are limited to ~100 bytes, so sockets live in a short private directory.
        sockets = await stack.enter_async_context(temporary_directory(prefix=owned_prefix()))
        gone = ServiceGone()
        socket = await stack.enter_async_context(
            open_perception(
                config.perception,
                sockets / "perception.sock",
                layout.logs / "perception.log",
                on_giving_up=gone.give_up,
            )
        )
        default_url = None
        if not config.models.agent and not config.models.endpoints_file:
            default_url = await stack.enter_async_context(
                start_mock_server(
                    config.models.policy,
                    seed=config.seed,
                    log_path=layout.logs / "mockllm.log",
                    on_giving_up=gone.give_up,
                )
            )
        opened = await stack.enter_async_context(
            open_llm(
                config.models, per_endpoint_limit=config.limits.llm_per_endpoint, default_url=default_url
            )
        )
        llm: ChatTransport = wrap_llm(opened) if wrap_llm is not None else opened
        vlm_socket = await stack.enter_async_context(
            serve_vlm(
                str(sockets / "vlm.sock"),
                llm,
                run_id=layout.run_id,
                emit=emit,
                tokens=subcalls,
                run_dir=layout.run_dir,
            )
        )
        pool = await stack.enter_async_context(
            KernelPool(
                config.sandbox,
                size=config.limits.kernels,
                max_stdout_chars=config.agent.max_stdout_chars,
                max_images_per_step=config.agent.max_images_per_step,
            )
        )
        yield RunServices(
            llm=llm, pool=pool, perception_socket=socket, vlm_socket=vlm_socket, subcalls=subcalls, gone=gone
        )


def _iterate_in_thread(iterator: Iterator[Sample]) -> AsyncIterator[Sample]:
    async def generate() -> AsyncIterator[Sample]:
        sentinel = object()
        while (item := await anyio.to_thread.run_sync(next, iterator, sentinel)) is not sentinel:
            yield item  # type: ignore[misc]

    return generate()


async def _run_episodes(run: RunContext, finished: set[str], stop: anyio.Event | None) -> None:
    config = run.layout.config
    limiter = anyio.CapacityLimiter(config.limits.episodes)
    async with anyio.create_task_group() as watched:
        if stop is not None:
            watched.start_soon(_cancel_when_set, stop, watched.cancel_scope)
        watched.start_soon(_cancel_when_set, run.services.gone.event, watched.cancel_scope)
        async with anyio.create_task_group() as tg:
            async for sample in _iterate_in_thread(run.suite.samples()):
                episode_id = episode_id_of(sample, config.seed)
                if episode_id in finished or not _wanted(config, sample):
                    continue
                await limiter.acquire_on_behalf_of(episode_id)
                tg.start_soon(guarded_episode, run, sample, limiter)
        watched.cancel_scope.cancel()


def _wanted(config: EvalConfig, sample: Sample) -> bool:
    return not config.samples or sample.id in config.samples


async def _cancel_when_set(stop: anyio.Event, scope: anyio.CancelScope) -> None:
    await stop.wait()
    scope.cancel()
