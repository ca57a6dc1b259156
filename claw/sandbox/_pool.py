"""`KernelPool`: a warm pool of confined kernels forked from the template, checked out one per episode
and replaced (never reused) when the episode returns them, so nothing leaks from one episode to the next.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType

import anyio
import anyio.abc
import msgspec
import structlog
import zmq
import zmq.asyncio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from claw.config import SandboxConfig
from claw.errors import ConfigError, ConfinementUnavailable, KernelDied, SandboxError
from claw.sandbox._host import (
    PidsCgroups,
    bwrap_prefix,
    hidden_dirs,
    needed_paths,
    sweep_stale_cgroups,
    world_readable,
)
from claw.sandbox._kernel import ConnectionFiles, PooledKernel
from claw.sandbox._process import TemplateProcess
from claw.sandbox._relay import relay
from claw.sandbox.types import Kernel
from claw.wire.kernel import KernelSetup
from claw.wire.template import Hello, KernelSpec, Limits

__all__ = ["KernelPool", "PoolStatistics"]

_log = structlog.get_logger("claw.sandbox")
_INSTALL = "import claw.tools._runtime\nclaw.tools._runtime.install()\n"
_WARM_UP = "import claw.tools._runtime\nclaw.tools._runtime.prepare()\n"
"""Run once per kernel before it is idle: IPython's first cell is slow, and checkout must not pay it."""
_UID_BASE = 61000
_SPAWN_ATTEMPTS = 3


class PoolStatistics(msgspec.Struct, frozen=True, kw_only=True):
    """A snapshot of the pool."""

    size: int
    idle: int
    busy: int
    starting: int
    started: int
    """Kernels started since the pool opened."""
    replaced: int
    """Kernels discarded after an episode (or after dying) and replaced."""
    died: int
    """Kernels found dead (crashed, killed by a limit or after an ignored interrupt)."""
    confined: bool


class KernelPool:
    """A pool of `size` ready kernels; `checkout(setup)` lends one to an episode.

    Use as `async with KernelPool(config, size=8) as pool:` and, per episode,
    `async with pool.checkout(setup) as kernel: await kernel.execute(code, timeout=60)`.
    """

    def __init__(
        self,
        config: SandboxConfig,
        *,
        size: int,
        max_stdout_chars: int = 4000,
        max_images_per_step: int = 4,
        ready_timeout: float = 60.0,
    ) -> None:
        if size < 1:
            raise ConfigError(f"the kernel pool size must be at least 1, got {size}", field="limits.kernels")
        self.config = config
        self.size = size
        self.max_stdout_chars = max_stdout_chars
        self.max_images_per_step = max_images_per_step
        self.ready_timeout = ready_timeout
        self.confined = False
        self._counter = itertools.count(1)
        self._stack = AsyncExitStack()
        self._send: MemoryObjectSendStream[PooledKernel] | None = None
        self._receive: MemoryObjectReceiveStream[PooledKernel] | None = None
        self._tasks: anyio.abc.TaskGroup | None = None
        self._template: TemplateProcess | None = None
        self._context: zmq.asyncio.Context | None = None
        self._workdir: Path | None = None
        self._broken: str | None = None
        self._needed: tuple[str, ...] = ()
        self._drop_uid = False
        self._cgroups: PidsCgroups | None = None
        self._idle = self._busy = self._starting = self._started = self._replaced = self._died = 0

    def __repr__(self) -> str:
        s = self.statistics()
        mode = "confined" if s.confined else "UNCONFINED"
        return f"<KernelPool size={s.size} idle={s.idle} busy={s.busy} starting={s.starting} {mode}>"

    @property
    def template_pid(self) -> int | None:
        """Process id of the template process the kernels are forked from (for monitoring)."""
        hello = self._template.hello if self._template is not None else None
        return hello.pid if hello is not None else None

    def statistics(self) -> PoolStatistics:
        """Counts of idle, busy and starting kernels, and lifetime totals."""
        return PoolStatistics(
            size=self.size,
            idle=self._idle,
            busy=self._busy,
            starting=self._starting,
            started=self._started,
            replaced=self._replaced,
            died=self._died,
            confined=self.confined,
        )

    # ------------------------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> KernelPool:
        """Start the template process and `size` kernels.

        Raises:
            ConfigError: `confinement = 'none'` without `unsafe_no_confinement`.
            ConfinementUnavailable: kernels cannot be confined here and running unconfined was not allowed.
            SandboxError: the template or the kernels could not start.
        """
        try:
            await self._open()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()

    async def _open(self) -> None:
        self._check_mode()
        self._workdir = await anyio.to_thread.run_sync(_make_workdir)
        self._stack.push_async_callback(_remove_tree, self._workdir)
        self._context = zmq.asyncio.Context()
        self._context.setsockopt(zmq.RECONNECT_IVL, 10)
        self._context.setsockopt(zmq.LINGER, 0)
        self._stack.callback(self._context.destroy, 0)
        await anyio.to_thread.run_sync(self._prepare_cgroups)
        wrapper = await anyio.to_thread.run_sync(self._wrapper)  # bwrap_prefix stats the bound paths
        template = TemplateProcess(self._workdir, wrapper=wrapper)
        self._template = await self._stack.enter_async_context(template)
        self._decide_confinement(self._template)
        if self.confined:
            await anyio.to_thread.run_sync(self._confine_host)  # stats every path a kernel needs
        self._send, self._receive = anyio.create_memory_object_stream[PooledKernel](self.size)
        self._stack.push_async_callback(self._drain_idle)
        self._tasks = await self._stack.enter_async_context(anyio.create_task_group())
        self._stack.callback(self._tasks.cancel_scope.cancel)
        await self._fill()

    def _check_mode(self) -> None:
        if self.config.confinement == "none" and not self.config.unsafe_no_confinement:
            raise ConfigError(
                "sandbox.confinement = 'none' runs model-written code unconfined; "
                "also set sandbox.unsafe_no_confinement = true (--unsafe-no-confinement) if you mean it",
                field="sandbox.confinement",
            )

    def _decide_confinement(self, template: TemplateProcess) -> None:
        assert template.hello is not None
        self.confined = decide_confinement(self.config, template.hello)
        if not self.confined:
            _log.warning("kernels run UNCONFINED: model-written code can reach the network and files")

    def _prepare_cgroups(self) -> None:
        if self.config.confinement == "none":
            return
        sweep_stale_cgroups()
        cgroups = PidsCgroups()
        if cgroups.available:
            self._cgroups = cgroups
            self._stack.push_async_callback(cgroups.close)

    def _wrapper(self) -> list[str]:
        if self.config.confinement != "bwrap":
            return []
        assert self._workdir is not None
        writable = [self._workdir]
        if self._cgroups is not None and self._cgroups.root is not None:
            writable.append(self._cgroups.root)
        return bwrap_prefix(writable)

    def _confine_host(self) -> None:
        self._needed = needed_paths()
        self._drop_uid = os.getuid() == 0 and all(world_readable(path) for path in self._needed)
        if self._cgroups is None and not self._drop_uid:
            _log.warning(
                "kernel process count not capped: no writable pids cgroup and kernels keep the runner's uid"
            )

    async def _fill(self) -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(self.size):
                self._starting += 1
                tg.start_soon(self._add_kernel)
        if self._broken is not None:
            raise SandboxError(f"the kernel pool could not start: {self._broken}")

    async def _drain_idle(self) -> None:
        if self._send is not None:
            self._send.close()
        if self._receive is None:
            return
        while True:
            try:
                kernel = self._receive.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                break
            await kernel.aclose()
        self._receive.close()

    # ----------------------------------------------------------------------------------- kernels

    def _uid_for(self, kernel_id: str) -> int | None:
        if not self._drop_uid:
            return None
        return _UID_BASE + int(kernel_id[1:]) % 1000

    def _spec(self, kernel_id: str, exchange: Path, uid: int | None) -> KernelSpec:
        c = self.config
        limits = Limits(
            memory_mb=c.memory_mb,
            cpu_seconds=c.cpu_seconds,
            max_processes=c.max_processes,
            max_file_mb=c.max_file_mb,
            max_open_files=c.max_open_files,
        )
        confined = self.confined
        return KernelSpec(
            kernel_id=kernel_id,
            exchange_dir=str(exchange),
            inner_dir=str(exchange),
            scratch_dir=str(exchange / "scratch"),
            confined=confined,
            uid=uid,
            limits=limits,
            hide_dirs=hidden_dirs(exchange.parent) if confined else (),
            expose=self._needed,
            cgroup=self._cgroups.create(kernel_id, c.max_processes) if self._cgroups else None,
        )

    def _exchange_dir(self, kernel_id: str, uid: int | None) -> Path:
        assert self._workdir is not None
        exchange = self._workdir / kernel_id
        exchange.mkdir(mode=0o700)
        (exchange / "scratch").mkdir(mode=0o700)
        if uid is not None:
            os.chown(exchange, uid, uid)
            os.chown(exchange / "scratch", uid, uid)
        return exchange

    def _prepare_kernel(self, kernel_id: str) -> tuple[KernelSpec, ConnectionFiles]:
        """The kernel's directory, cgroup and connection file (file-system work, run in a thread)."""
        uid = self._uid_for(kernel_id)
        exchange = self._exchange_dir(kernel_id, uid)
        spec = self._spec(kernel_id, exchange, uid)
        connection = ConnectionFiles.create(exchange, spec.inner_dir)
        connection.write_kernel_file(exchange)
        return spec, connection

    async def _start_kernel(self) -> PooledKernel:
        assert self._template is not None and self._context is not None
        kernel_id = f"k{next(self._counter)}"
        spec, connection = await anyio.to_thread.run_sync(self._prepare_kernel, kernel_id)
        exchange = Path(spec.exchange_dir)
        process = await self._template.spawn(spec)
        kernel = PooledKernel(process, connection, self._context, max_stdout=self.max_stdout_chars)
        try:
            await kernel.wait_ready(self.ready_timeout)
            problem = await kernel.run_silently(_WARM_UP, timeout=self.ready_timeout)
            if problem is not None:
                raise KernelDied(f"kernel warm-up failed: {problem.ename}: {problem.evalue}")
        except KernelDied as exc:
            tail = _log_tail(exchange)
            await self._discard(kernel)
            raise KernelDied(f"{exc.message}; kernel log: {tail}") from None
        self._started += 1
        return kernel

    async def _add_kernel(self) -> None:
        # `_starting` was counted by whoever scheduled this task, so statistics never miss a kernel.
        try:
            kernel = await self._start_with_retries()
        finally:
            self._starting -= 1
        if kernel is None:
            return
        assert self._send is not None
        self._idle += 1
        try:
            self._send.send_nowait(kernel)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._idle -= 1
            await kernel.aclose()

    async def _start_with_retries(self) -> PooledKernel | None:
        problem = ""
        for _ in range(_SPAWN_ATTEMPTS):
            try:
                return await self._start_kernel()
            except SandboxError as exc:
                problem = exc.message
                _log.warning("kernel start failed", error=problem)
        self._broken = problem
        if self._send is not None and self._idle == 0 and self._starting <= 1:
            self._send.close()  # wakes checkouts waiting for a kernel that will never come
        return None

    async def _discard(self, kernel: PooledKernel) -> None:
        self._died += not kernel.alive
        await kernel.aclose()
        await _remove_tree(self._kernel_dir(kernel))
        if self._cgroups is not None:
            await self._cgroups.remove(kernel.kernel_id)

    def _replenish(self) -> None:
        self._replaced += 1
        if self._tasks is not None and self._broken is None:
            self._starting += 1
            self._tasks.start_soon(self._add_kernel)

    # ---------------------------------------------------------------------------------- checkout

    async def _take(self) -> PooledKernel:
        assert self._receive is not None
        while True:
            if self._broken is not None and self._idle == 0 and self._starting == 0:
                raise SandboxError(f"the kernel pool is broken: {self._broken}")
            try:
                kernel = await self._receive.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                raise SandboxError(
                    f"the kernel pool is closed or broken: {self._broken or 'closed'}"
                ) from None
            self._idle -= 1
            if kernel.alive:
                return kernel
            await self._discard(kernel)
            self._replenish()

    @contextlib.asynccontextmanager
    async def checkout(self, setup: KernelSetup) -> AsyncIterator[Kernel]:
        """Lend a fresh kernel holding `setup`'s episode; it is killed and replaced afterwards.

        The episode's bootstrap is sent, not awaited: it runs while the model writes its first cell, and
        the kernel's first `execute` reports its failure (as `SandboxError`).

        Raises:
            SandboxError: the pool is closed or cannot start kernels.
        """
        kernel = await self._take()
        self._busy += 1
        try:
            async with self._episode_relays(kernel, setup) as inner_setup:
                await self._install(kernel, inner_setup)
                yield kernel
        finally:
            self._busy -= 1
            await self._discard(kernel)
            self._replenish()

    @contextlib.asynccontextmanager
    async def _episode_relays(self, kernel: PooledKernel, setup: KernelSetup) -> AsyncIterator[KernelSetup]:
        images = min(setup.max_images_per_step, self.max_images_per_step)
        setup = msgspec.structs.replace(setup, max_images_per_step=images)
        if not self.confined:
            yield setup
            return
        exchange = self._kernel_dir(kernel)
        async with AsyncExitStack() as stack:
            inner: dict[str, str | None] = {"perception_url": None, "perception_token": None}
            for field, name in (("perception_socket", "p.sock"), ("vlm_socket", "v.sock")):
                upstream = getattr(setup, field)
                if upstream is not None:
                    await stack.enter_async_context(relay(exchange / name, upstream))
                    inner[field] = str(exchange / name)
            yield msgspec.structs.replace(setup, **inner)

    def _kernel_dir(self, kernel: PooledKernel) -> Path:
        assert self._workdir is not None
        return self._workdir / kernel.kernel_id

    async def _install(self, kernel: PooledKernel, setup: KernelSetup) -> None:
        payload = msgspec.msgpack.encode(setup)
        path = self._kernel_dir(kernel) / "setup.msgpack"
        await anyio.to_thread.run_sync(path.write_bytes, payload)
        kernel.start_bootstrap(_INSTALL)


def decide_confinement(config: SandboxConfig, hello: Hello) -> bool:
    """Whether kernels run confined, from the config and what the template found out about this host.

    Raises:
        ConfinementUnavailable: confinement is required but Linux namespaces are unavailable.
    """
    if config.confinement == "none":
        return False
    if hello.namespaces:
        return True
    if config.unsafe_no_confinement and config.confinement == "auto":
        _log.warning("Linux namespaces are unavailable here; running kernels unconfined", reason=hello.reason)
        return False
    raise ConfinementUnavailable(
        f"cannot confine kernels: Linux user/network namespaces are unavailable ({hello.reason}). "
        "Run on a host that allows unprivileged user namespaces, or pass --unsafe-no-confinement "
        "to run model-written code without OS confinement."
    )


async def _remove_tree(path: Path) -> None:
    # Runs while the pool closes, possibly because the run was cancelled: finish the removal anyway.
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(shutil.rmtree, path, True)


def _make_workdir() -> Path:
    workdir = Path(tempfile.mkdtemp(prefix="claw-k"))
    workdir.chmod(0o711)  # kernels (other uids) may pass through to their own 0700 directory
    return workdir


def _log_tail(exchange: Path) -> str:
    try:
        return (exchange / "kernel.log").read_text(errors="replace")[-1500:].strip() or "(empty)"
    except OSError:
        return "(none)"
