"""Episodes run in this process (`LocalExecutor`, the default executor): the helper services a run
starts (`open_services`: perception server, mock model server when no model is configured, model
transport, `vlm` bridge, kernel pool) and the loop that runs a suite's episodes under `[limits]`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial

import anyio

from claw._files import owned_temporary_directory, sweep_stale_temp_dirs
from claw.config import EvalConfig
from claw.errors import ServiceError
from claw.events import Event
from claw.llm import open_llm
from claw.llm.mockserver import start_mock_server
from claw.llm.types import ChatTransport
from claw.runtime.bus import Bus
from claw.runtime.embed import SharedServices
from claw.runtime.episode_task import (
    RunContext,
    RunServices,
    ServiceGone,
    Tally,
    episode_id_of,
    guarded_episode,
)
from claw.runtime.executor import RunEpisodes
from claw.runtime.layout import RunLayout, perception_config
from claw.runtime.perception_service import check_external_perception, open_perception
from claw.runtime.vlm_server import SubCallFailures, SubCallTokens, serve_vlm
from claw.sandbox import KernelPool
from claw.suite import Sample, Suite

__all__ = ["LocalExecutor", "iterate_in_thread", "open_services"]


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
    subcalls, subcall_failures = SubCallTokens(), SubCallFailures()
    async with AsyncExitStack() as stack:
        # What killed runs left in the temp folder; after the run's 'starting services' line, not before it.
        await anyio.to_thread.run_sync(sweep_stale_temp_dirs)
        # Unix socket paths are limited to ~100 bytes, so sockets live in a short private directory.
        sockets = await stack.enter_async_context(owned_temporary_directory())
        gone = ServiceGone()
        if config.perception.url or config.perception.socket:
            gone.checks.append(partial(check_external_perception, config.perception, gone.give_up))
        socket = await stack.enter_async_context(
            open_perception(
                perception_config(layout),
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
                failures=subcall_failures,
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
            llm=llm,
            pool=pool,
            perception_socket=socket,
            vlm_socket=vlm_socket,
            subcalls=subcalls,
            subcall_failures=subcall_failures,
            gone=gone,
        )


def iterate_in_thread(iterator: Iterator[Sample]) -> AsyncIterator[Sample]:
    """`iterator`'s samples, each drawn in a worker thread (a suite reads and renders files)."""

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
        watched.start_soon(run.services.gone.watch)
        async with anyio.create_task_group() as tg:
            async for sample in iterate_in_thread(run.suite.samples()):
                episode_id = episode_id_of(sample, config.seed)
                if episode_id in finished or not _wanted(config, sample):
                    continue
                await limiter.acquire_on_behalf_of(episode_id)
                tg.start_soon(guarded_episode, run, sample, limiter)
        # A server that died after the last watch would otherwise let a run whose tools failed end as a
        # success.
        await run.services.gone.check()
        watched.cancel_scope.cancel()


def _wanted(config: EvalConfig, sample: Sample) -> bool:
    return not config.samples or sample.id in config.samples


async def _cancel_when_set(stop: anyio.Event, scope: anyio.CancelScope) -> None:
    await stop.wait()
    scope.cancel()
