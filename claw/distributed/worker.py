"""One Ray worker: a whole claw runner in a Ray actor. It opens the same helper services, kernel pool,
model transport and `[limits]` a single-process run opens (`LocalExecutor`), runs the samples the driver
sends it, and hands back every event its episodes emit, as JSON lines, each time the driver asks.

The worker writes nothing the driver owns: the run's `events.jsonl` and `results.jsonl` are written by
the driver alone. Its helper services log under `RUN/logs/<worker name>/`, and episodes write their
images under `RUN/media/` (the run directory is on a filesystem every node shares, at the same path).
This class is plain Python; `claw.distributed.cluster` turns it into a Ray actor, so importing it never
imports Ray.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import queue
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import msgspec

from claw._process import first_leaf
from claw._version import __version__
from claw.config import EvalConfig
from claw.distributed.discovery import perception_for
from claw.events import Event, encode_line
from claw.runtime.bus import Bus
from claw.runtime.episode_task import Tally
from claw.runtime.layout import RunLayout, suite_options
from claw.runtime.local import LocalExecutor
from claw.suite import Sample, Score, Suite, get_suite
from claw.wire.ray import EventBatch, WorkerInfo, decode_registration_list, decode_work, encode_batch

__all__ = ["ShardWorker"]

_HIGH_WATER_BYTES = 8 << 20
"""Encoded events a worker holds before its episodes wait for the driver to take them."""
_LINGER_S = 0.02
"""How long a `take` lets further events gather once the first is there (fewer, larger batches)."""


class _WorkerLayout(RunLayout, frozen=True, kw_only=True):
    """The driver's run directory, with this worker's own service logs."""

    worker: str

    @property
    def logs(self) -> Path:
        """`RUN/logs/<worker>`: one directory per worker, so their service logs never interleave."""
        return self.run_dir / "logs" / self.worker


class _Outbox:
    """The worker's only sink: encoded event lines waiting for the driver's next `take`."""

    name = "ray-outbox"

    def __init__(self) -> None:
        self._lines: list[bytes] = []
        self._size = 0
        self._ready = anyio.Event()
        self._drained = anyio.Event()
        self._ended = False
        self._error = ""

    async def handle(self, events: Sequence[Event]) -> None:
        """Queue the batch; wait while the driver is far behind (back-pressure, bounded memory)."""
        for event in events:
            line = encode_line(event)
            self._lines.append(line)
            self._size += len(line)
        self._ready.set()
        while self._size > _HIGH_WATER_BYTES:
            self._drained = anyio.Event()
            await self._drained.wait()

    async def aclose(self) -> None:
        """Nothing to release: `end` marks the last batch."""

    def end(self, error: str) -> None:
        """No further events will come (the bus is closed); `error` says why, when it was not `close`."""
        self._ended, self._error = True, error
        self._ready.set()

    async def take(self) -> bytes:
        """Every queued line once at least one is there (or the worker ended), as an encoded batch."""
        await self._ready.wait()
        if not self._ended:
            await anyio.sleep(_LINGER_S)
        batch = EventBatch(lines=b"".join(self._lines), ended=self._ended, error=self._error)
        self._lines, self._size = [], 0
        if not self._ended:
            self._ready = anyio.Event()
        self._drained.set()
        return encode_batch(batch)


class _QueueSuite:
    """The run's suite as the worker sees it: samples arrive from the driver, scoring is the suite's."""

    def __init__(self, suite: Suite, inbox: queue.Queue[Sample | None]) -> None:
        self.name = suite.name
        self._suite = suite
        self._inbox = inbox

    def samples(self) -> Iterator[Sample]:
        """Samples as the driver sends them, until `close` (blocking: the runner reads it in a thread)."""
        while (sample := self._inbox.get()) is not None:
            yield sample

    def score(self, sample: Sample, answer: str | None) -> Score:
        """The suite's own score."""
        return self._suite.score(sample, answer)


class ShardWorker:
    """The body of one Ray worker actor (see the module docstring). Every method is called by the driver."""

    def __init__(
        self,
        config_json: bytes,
        run_id: str,
        run_dir: str,
        name: str,
        perception: bytes = b"[]",
        index: int = 0,
    ) -> None:
        """`perception`: the discovered perception servers (JSON), one chosen by this worker's node."""
        config = msgspec.json.decode(config_json, type=EvalConfig)
        self.name = name
        self._perception = (decode_registration_list(perception), index)
        self.layout = _WorkerLayout(run_id=run_id, run_dir=Path(run_dir), config=config, worker=name)
        self._inbox: queue.Queue[Sample | None] = queue.Queue()
        self._outbox: _Outbox | None = None
        self._main: asyncio.Task[None] | None = None

    async def start(self) -> bytes:
        """Open the services; return this worker's `WorkerInfo` (JSON) once episodes can start.

        Raises:
            ClawError: a service could not start (the message says what to do).
        """
        self._use_discovered_perception()
        self._outbox = _Outbox()
        ready = asyncio.Event()
        self._main = asyncio.get_running_loop().create_task(self._run(self._outbox, ready))
        waiting = asyncio.ensure_future(ready.wait())
        await asyncio.wait([self._main, waiting], return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if self._main.done():
            self._main.result()  # raises what stopped it
        return msgspec.json.encode(self._info())

    async def submit(self, work: bytes) -> None:
        """Queue samples (`encode_work`) to run under this worker's limits."""
        for sample in decode_work(work):
            self._inbox.put(sample)

    async def take(self) -> bytes:
        """The events emitted since the last call (an `EventBatch`), waiting until there is one."""
        assert self._outbox is not None, "start() first"
        return await self._outbox.take()

    async def close(self) -> None:
        """Finish the queued samples, then stop the services; the last `take` says `ended`."""
        self._inbox.put(None)
        if self._main is not None:
            await asyncio.shield(self._main)

    async def _run(self, outbox: _Outbox, ready: asyncio.Event) -> None:
        error = ""
        try:
            self.layout.logs.mkdir(parents=True, exist_ok=True)
            options = suite_options(self.layout, frozenset())
            suite = await anyio.to_thread.run_sync(get_suite, self.layout.config.suite, options)
            async with Bus([outbox]) as bus, LocalExecutor().open(self.layout, bus) as run_episodes:
                ready.set()
                gone = await run_episodes(_QueueSuite(suite, self._inbox), Tally(), set(), None)
            if gone is not None:
                raise gone  # the driver re-queues what this worker had not finished
        except BaseExceptionGroup as group:
            leaf = first_leaf(group)  # the one exception a task group wrapped, for a one-line error
            error = f"{type(leaf).__name__}: {leaf}"
            raise leaf from None
        except BaseException as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            outbox.end(error)

    def _use_discovered_perception(self) -> None:
        """The discovered perception server on this worker's node, if any is (`perception_for`)."""
        servers, index = self._perception
        if not servers:
            return
        ray: Any = importlib.import_module("ray")  # only ever inside a Ray worker
        server = perception_for(servers, ray.get_runtime_context().get_node_id(), index)
        config = self.layout.config
        perception = msgspec.structs.replace(config.perception, url=server.url, token_env=server.token_env)
        config = msgspec.structs.replace(config, perception=perception)
        self.layout = msgspec.structs.replace(self.layout, config=config)

    def _info(self) -> WorkerInfo:
        ray: Any = importlib.import_module("ray")  # only ever inside a Ray worker
        context = ray.get_runtime_context()
        return WorkerInfo(
            name=self.name,
            pid=os.getpid(),
            hostname=socket.gethostname(),
            node_ip=ray.util.get_node_ip_address(),
            node_id=context.get_node_id(),
            claw_version=__version__,
        )
