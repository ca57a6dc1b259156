"""`RayExecutor`: a run's episodes on Ray worker actors, driven from `run_eval` (see `claw.distributed`).

It connects to the cluster (`ray.init`, unless the calling program already did), starts `ray.workers` actors
(`ShardWorker`, spread over the nodes, `ray.worker_cpus` each), records who they are in
`RUN/logs/ray-workers.jsonl`, and lets the `Dispatcher` run the suite's unfinished samples on them.
A failed Ray call to an actor means the worker is lost (`WorkerLost`). Closing the executor kills the
actors that are left and disconnects; actors also die with the driver (they are not detached), taking
their kernels and servers with them, so a killed driver leaves nothing running but the cluster itself.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
import msgspec

from claw._process import first_leaf
from claw._version import __version__
from claw.config import EvalConfig, RayConfig
from claw.distributed.discovery import Discovered, discover, discovered_config
from claw.distributed.dispatch import Dispatcher, WorkerLost
from claw.distributed.worker import ShardWorker
from claw.errors import ConfigError, ServiceError
from claw.events import Event
from claw.runtime.bus import Bus
from claw.runtime.episode_task import Tally, episode_id_of
from claw.runtime.executor import RunEpisodes
from claw.runtime.layout import RunLayout
from claw.runtime.local import iterate_in_thread
from claw.suite import Sample, Suite
from claw.wire.ray import WorkerInfo, decode_batch, encode_work

__all__ = ["RayExecutor", "connect", "import_ray"]


def import_ray() -> Any:
    """The `ray` module.

    Raises:
        ConfigError: Ray is not installed.
    """
    try:
        return importlib.import_module("ray")
    except ModuleNotFoundError:
        raise ConfigError(
            "--ray / [ray] address needs Ray: pip install 'claw[ray]' (or `make ray` in a checkout)",
            field="ray.address",
        ) from None


class RayWorker:
    """The driver's handle on one `ShardWorker` actor; a failed call means the worker is lost."""

    def __init__(self, ray: Any, actor: Any, info: WorkerInfo) -> None:
        self._ray, self.actor, self.info, self.name = ray, actor, info, info.name

    async def submit(self, samples: Sequence[Sample]) -> None:
        """Queue samples on the actor."""
        await self._call(self.actor.submit.remote(encode_work(samples)))

    async def take(self) -> tuple[list[Event], bool, str]:
        """The actor's next event batch."""
        batch, events = decode_batch(await self._call(self.actor.take.remote()))
        return events, batch.ended, batch.error

    async def close(self) -> None:
        """Let the actor finish and stop its services."""
        await self._call(self.actor.close.remote())

    async def _call(self, ref: Any) -> Any:
        try:
            return await ref
        except self._ray.exceptions.RayError as exc:
            raise WorkerLost(_first_line(exc)) from None


def _first_line(exc: BaseException) -> str:
    """One line naming what went wrong: for a failed actor call, the worker's own exception."""
    cause = getattr(exc, "cause", None)  # RayTaskError: what the actor method raised
    if isinstance(cause, BaseException):
        exc = first_leaf(cause) if isinstance(cause, BaseExceptionGroup) else cause
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".strip()


class RayExecutor:
    """Runs episodes on a Ray cluster; pass as `run_eval(executor=…)` (the CLI does for `--ray`)."""

    def __init__(self, config: RayConfig, *, report: Callable[[str], None] = lambda _line: None) -> None:
        self.config = config
        self.report = report
        self.lost: list[str] = []
        """Workers lost during the last run (`name: why`)."""
        self.batches = 0
        """Event batches the last run took from its workers (one Ray call each)."""

    @asynccontextmanager
    async def open(self, layout: RunLayout, bus: Bus) -> AsyncIterator[RunEpisodes]:
        """Connect, start the workers; the yielded function runs a suite's episodes on them."""
        ray = import_ray()
        owned = not ray.is_initialized()  # an embedding program may have connected already
        if owned:
            await anyio.to_thread.run_sync(connect, ray, self.config.address)
        try:
            actors: list[Any] = []
            try:
                found = None
                if layout.config.ray.discover:
                    found = await discover(ray, layout.config, self.report)
                workers = await self._start_workers(ray, layout, actors, found)
                yield self._runner(layout, bus, workers)
            finally:
                for actor in actors:
                    ray.kill(actor, no_restart=True)
        finally:
            if owned:
                await anyio.to_thread.run_sync(ray.shutdown)

    def _runner(self, layout: RunLayout, bus: Bus, workers: list[RayWorker]) -> RunEpisodes:
        config = layout.config

        async def run(
            suite: Suite, tally: Tally, finished: set[str], stop: anyio.Event | None
        ) -> ServiceError | None:
            dispatcher = Dispatcher(
                workers,
                bus,
                capacity=2 * config.limits.episodes,
                episode_id=lambda sample: episode_id_of(sample, config.seed),
                report=self.report,
            )
            async with anyio.create_task_group() as watched:
                if stop is not None:
                    watched.start_soon(_cancel_when_set, stop, watched.cancel_scope)
                try:
                    await dispatcher.run(_pending(suite, config, finished), tally)
                finally:
                    self.lost, self.batches = dispatcher.lost, dispatcher.batches
                watched.cancel_scope.cancel()
            return None  # a worker whose service gave up is a lost worker: its episodes ran elsewhere

        return run

    async def _start_workers(
        self, ray: Any, layout: RunLayout, actors: list[Any], found: Discovered | None
    ) -> list[RayWorker]:
        count = self.config.workers or _nodes_with_room(ray, self.config.worker_cpus)
        if count == 0:
            raise ConfigError(
                f"no alive node of the Ray cluster has ray.worker_cpus = {self.config.worker_cpus:g} CPUs; "
                "lower it, or set ray.workers (--ray-workers)",
                field="ray.worker_cpus",
            )
        _check_room(ray, count, "CPU", self.config.worker_cpus)
        _check_room(ray, count, "GPU", self.config.worker_gpus)
        options = {
            "num_cpus": self.config.worker_cpus,
            "num_gpus": self.config.worker_gpus,
            "max_restarts": 0,
            "scheduling_strategy": "SPREAD",
        }
        actor_class = ray.remote(ShardWorker).options(**options)
        names = [f"w{index}" for index in range(count)]
        actors.extend(
            actor_class.remote(
                msgspec.json.encode(_worker_config(layout.config, found, index)),
                layout.run_id,
                str(layout.run_dir),
                name,
                msgspec.json.encode(found.perception if found else []),
                index,
            )
            for index, name in enumerate(names)
        )
        self.report(f"starting {count} Ray workers (each: {layout.config.limits.kernels} kernels)…")
        limit = self.config.start_timeout_s
        late = f"did not start within ray.start_timeout_s = {limit:g} s (no free resources? see `ray status`)"
        started: list[RayWorker | str] = [f"{name}: {late}" for name in names]

        async def start(index: int) -> None:
            try:
                info = msgspec.json.decode(await actors[index].start.remote(), type=WorkerInfo)
                started[index] = RayWorker(ray, actors[index], info)
            except ray.exceptions.RayError as exc:
                started[index] = f"{names[index]}: {_first_line(exc)}"

        with anyio.move_on_after(limit):
            async with anyio.create_task_group() as tg:
                for index in range(count):
                    tg.start_soon(start, index)
        return _usable(started, layout)


def connect(ray: Any, address: str | None) -> None:
    """Connect this process to the cluster at `address` (blocking), in claw's namespace.

    Raises:
        ServiceError: the cluster is not reachable (the message says how to start it).
    """
    local = address == "local"
    try:
        ray.init(
            address=address,
            namespace="claw",
            log_to_driver=False,
            logging_level=logging.ERROR,  # not its "SIGTERM handler is not set" (init runs in a thread)
            **({"include_dashboard": False} if local else {}),
        )
    except ConnectionError as exc:
        raise ServiceError(
            f"cannot reach the Ray cluster at {address!r} ({_first_line(exc)}); start it with "
            "`ray start --head` or pass its HEAD_IP:PORT to --ray"
        ) from None


def _usable(started: list[RayWorker | str], layout: RunLayout) -> list[RayWorker]:
    workers = [w for w in started if isinstance(w, RayWorker)]
    failures = [w for w in started if isinstance(w, str)]
    if not workers:
        raise ServiceError(f"no Ray worker could start: {failures[0]}")
    foreign = [w.info for w in workers if w.info.claw_version != __version__]
    if foreign:
        raise ConfigError(
            f"Ray worker {foreign[0].name} on {foreign[0].hostname} runs claw {foreign[0].claw_version}, "
            f"the driver {__version__}: install the same claw on every node"
        )
    lines = b"".join(msgspec.json.encode(w.info) + b"\n" for w in workers)
    with (layout.logs / "ray-workers.jsonl").open("ab") as handle:
        handle.write(lines)
    return workers


def _nodes_with_room(ray: Any, cpus: float) -> int:
    """Alive nodes that can hold a worker (a head started with `--num-cpus=0` runs none)."""
    nodes = ray.nodes()
    return sum(1 for n in nodes if n.get("Alive") and n.get("Resources", {}).get("CPU", 0.0) >= cpus)


def _check_room(ray: Any, count: int, resource: str, each: float) -> None:
    available = float(ray.cluster_resources().get(resource, 0.0))
    if count * each > available:
        name = f"ray.worker_{resource.lower()}s"
        raise ConfigError(
            f"the Ray cluster has {available:g} {resource}s but ray.workers × {name} = {count} × {each:g}; "
            "lower either, or add nodes",
            field="ray.workers",
        )


def _worker_config(config: EvalConfig, found: Discovered | None, index: int) -> EvalConfig:
    """What worker `index` needs: the run's config with the discovered servers in place, without the
    sample filter (the driver applied it)."""
    if found is not None:
        config = discovered_config(config, found, index)
    return msgspec.structs.replace(config, samples=[], ray=RayConfig())


def _pending(suite: Suite, config: EvalConfig, finished: set[str]) -> AsyncIterator[Sample]:
    async def generate() -> AsyncIterator[Sample]:
        wanted = set(config.samples)
        async for sample in iterate_in_thread(suite.samples()):
            if episode_id_of(sample, config.seed) not in finished and (not wanted or sample.id in wanted):
                yield sample

    return generate()


async def _cancel_when_set(stop: anyio.Event, scope: anyio.CancelScope) -> None:
    await stop.wait()
    scope.cancel()
