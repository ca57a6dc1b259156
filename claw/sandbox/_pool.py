"""`KernelPool`: the bookkeeping of a warm pool of confined kernels. It keeps `size` kernels alive and
lends one per episode. Afterwards the kernel is reset and lent again only when every cell of the episode
was provably contained (`_clean`, `claw.tools._reuse`); otherwise it is killed and a fresh one forked, so
nothing leaks from one episode to the next. A kernel that dies while lent gives its slot back at once, so
kernel deaths never starve the pool. Starting and discarding kernels is `KernelLauncher`'s job (`_launch`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import anyio
import anyio.abc
import msgspec
import structlog
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from claw.config import SandboxConfig
from claw.errors import ConfigError, SandboxError
from claw.sandbox._clean import CleanCheck
from claw.sandbox._confine import INNER_EXCHANGE
from claw.sandbox._kernel import PooledKernel
from claw.sandbox._launch import KernelLauncher
from claw.sandbox._media import write_setup
from claw.sandbox._relay import episode_relay, relay
from claw.sandbox._stacked import Stacked
from claw.sandbox.types import Kernel, PoolStatistics
from claw.wire.kernel import CellError, KernelSetup

__all__ = ["KernelPool"]

_log = structlog.get_logger("claw.sandbox")
_INSTALL = "import claw.tools._runtime\nclaw.tools._runtime.install()\n"
_RESET = "import claw.tools._reuse\nclaw.tools._reuse.reset_episode()\n"
_SPAWN_ATTEMPTS = 3
_DRAIN_TIMEOUT_S = 30.0
"""Bound on closing the idle kernels when the pool closes, cancelled or not."""
_ADMITTED = 8
"""Checkouts in progress at once, admitted first come, first served: when hundreds of episodes start
together, the first get their kernel (and send their first model request) first, instead of every
checkout sharing the CPU and all of them finishing together at the end of the burst."""
_MAX_EPISODES = 64
"""Episodes one kernel may serve when each leaves it provably clean (its CPU-time limit is cumulative)."""


@dataclass
class _Lease:
    """One kernel lent to an episode; its slot goes back once, at death or at return, whichever is first."""

    kernel: PooledKernel
    returned: bool = False
    watch: anyio.CancelScope = field(default_factory=anyio.CancelScope)


class KernelPool(Stacked):
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
        reuse_clean: bool = True,
    ) -> None:
        if size < 1:
            raise ConfigError(f"the kernel pool size must be at least 1, got {size}", field="limits.kernels")
        super().__init__()
        self.config = config
        self.size = size
        self.max_images_per_step = max_images_per_step
        self.reuse_clean = reuse_clean
        self._launcher = KernelLauncher(
            config, size=size, max_stdout_chars=max_stdout_chars, ready_timeout=ready_timeout
        )
        self._send: MemoryObjectSendStream[PooledKernel] | None = None
        self._receive: MemoryObjectReceiveStream[PooledKernel] | None = None
        self._tasks: anyio.abc.TaskGroup | None = None
        self._broken: str | None = None
        self._idle = self._busy = self._starting = self._started = self._replaced = self._died = 0
        self._reused = 0
        self._admission = anyio.Semaphore(_ADMITTED)

    def __repr__(self) -> str:
        s = self.statistics()
        mode = "confined" if s.confined else "UNCONFINED"
        return f"<KernelPool size={s.size} idle={s.idle} busy={s.busy} starting={s.starting} {mode}>"

    @property
    def confined(self) -> bool:
        """Whether kernels run confined (decided when the pool opens)."""
        return self._launcher.confined

    @property
    def template_pid(self) -> int | None:
        """Process id of the template process the kernels are forked from (for monitoring)."""
        template = self._launcher.template
        hello = template.hello if template is not None else None
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
            reused=self._reused,
        )

    # ------------------------------------------------------------------------------------ lifecycle

    async def _open(self) -> None:
        """Start the template process and `size` kernels (`async with pool`).

        Raises:
            ConfigError: `confinement = 'none'` without `unsafe_no_confinement`, or an open-file limit too
                low for `size` kernels.
            ConfinementUnavailable: kernels cannot be confined here and running unconfined was not allowed.
            SandboxError: the template or the kernels could not start.
        """
        await self._stack.enter_async_context(self._launcher)
        self._send, self._receive = anyio.create_memory_object_stream[PooledKernel](self.size)
        self._stack.push_async_callback(self._drain_idle)
        self._tasks = await self._stack.enter_async_context(anyio.create_task_group())
        self._stack.callback(self._tasks.cancel_scope.cancel)
        await self._fill()

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
        try:
            # Closing idle kernels is cleanup a cancelled run must still finish (bounded, not hung on).
            with anyio.CancelScope(shield=True) as scope:
                scope.deadline = anyio.current_time() + _DRAIN_TIMEOUT_S
                while True:
                    try:
                        kernel = self._receive.receive_nowait()
                    except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                        break
                    await kernel.aclose()
        finally:
            self._receive.close()

    # ----------------------------------------------------------------------------------- kernels

    async def _add_kernel(self) -> None:
        # `_starting` was counted by whoever scheduled this task, so statistics never miss a kernel.
        try:
            kernel = await self._start_with_retries()
        finally:
            self._starting -= 1
        if kernel is not None:
            self._make_idle(kernel)

    def _make_idle(self, kernel: PooledKernel) -> None:
        assert self._send is not None
        self._idle += 1
        try:
            self._send.send_nowait(kernel)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._idle -= 1
            self._discard_soon(kernel)

    async def _start_with_retries(self) -> PooledKernel | None:
        problem = ""
        for _ in range(_SPAWN_ATTEMPTS):
            try:
                kernel = await self._launcher.start()
            except SandboxError as exc:
                problem = exc.message
                _log.warning("kernel start failed", error=problem)
            else:
                self._started += 1
                return kernel
        self._broken = problem
        if self._send is not None and self._idle == 0 and self._starting <= 1:
            self._send.close()  # wakes checkouts waiting for a kernel that will never come
        return None

    def _replenish(self) -> None:
        self._replaced += 1
        if self._tasks is not None and self._broken is None:
            self._starting += 1
            self._tasks.start_soon(self._add_kernel)

    def _discard_soon(self, kernel: PooledKernel) -> None:
        """Kill and clean up `kernel` in the background: the episode does not wait for the reaping."""
        if self._tasks is not None:
            self._tasks.start_soon(self._launcher.discard, kernel)

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
            self._died += 1
            self._discard_soon(kernel)
            self._replenish()

    @contextlib.asynccontextmanager
    async def checkout(self, setup: KernelSetup) -> AsyncIterator[Kernel]:
        """Lend a kernel holding `setup`'s episode; afterwards it is reset for reuse or killed and replaced.

        The episode's bootstrap is sent, not awaited: it runs while the model writes its first cell, and
        the kernel's first `execute` reports its failure (as `SandboxError`). If the kernel dies while
        lent, its slot goes back to the pool at once and a replacement starts.

        Raises:
            SandboxError: the pool is closed or cannot start kernels.
        """
        async with AsyncExitStack() as admission:
            await admission.enter_async_context(self._admission)
            kernel = await self._take()
            lease = _Lease(kernel)
            self._busy += 1
            if self._tasks is not None:
                self._tasks.start_soon(self._return_at_death, lease)
            try:
                async with self._episode_relays(kernel, setup) as inner_setup:
                    await self._install(kernel, inner_setup)
                    await admission.aclose()  # the next checkout goes on while this episode runs
                    yield kernel
            finally:
                lease.watch.cancel()
                if self._reusable(lease):
                    self._recycle_soon(lease)
                else:
                    self._return_slot(lease)
                    self._discard_soon(kernel)

    def _reusable(self, lease: _Lease) -> bool:
        kernel = lease.kernel
        fit = not lease.returned and kernel.alive and kernel.cells.clean and kernel.episodes < _MAX_EPISODES
        return fit and self.reuse_clean and self._tasks is not None and self._broken is None

    def _recycle_soon(self, lease: _Lease) -> None:
        """Reset a provably clean kernel in the background and make it idle again (no fork)."""
        assert self._tasks is not None
        lease.returned = True
        self._busy -= 1
        self._starting += 1
        self._reused += 1
        self._tasks.start_soon(self._recycle, lease.kernel)

    async def _recycle(self, kernel: PooledKernel) -> None:
        try:
            await kernel.finish_bootstrap()
            await self._launcher.unstage(kernel)
            problem = await kernel.run_silently(_RESET, timeout=self._launcher.ready_timeout)
        except SandboxError as exc:  # KernelDied included
            problem = CellError(ename=type(exc).__name__, evalue=exc.message, traceback="")
        finally:
            self._starting -= 1
        if problem is not None or not kernel.alive:
            _log.info(
                "kernel not reused", kernel=kernel.kernel_id, reason=problem.evalue if problem else "died"
            )
            self._discard_soon(kernel)
            self._replenish()
            return
        kernel.episodes += 1
        kernel.cells = CleanCheck()
        self._make_idle(kernel)

    async def _return_at_death(self, lease: _Lease) -> None:
        with lease.watch:
            await lease.kernel.process.exited.wait()
            self._return_slot(lease)

    def _return_slot(self, lease: _Lease) -> None:
        if lease.returned:
            return
        lease.returned = True
        self._died += not lease.kernel.alive
        self._busy -= 1
        self._replenish()

    @contextlib.asynccontextmanager
    async def _episode_relays(self, kernel: PooledKernel, setup: KernelSetup) -> AsyncIterator[KernelSetup]:
        images = min(setup.max_images_per_step, self.max_images_per_step)
        setup = msgspec.structs.replace(setup, max_images_per_step=images)
        if not self.confined:
            yield setup
            return
        exchange = self._launcher.kernel_dir(kernel)
        async with AsyncExitStack() as stack:
            inner: dict[str, str | None] = {"perception_url": None, "perception_token": None}
            if setup.perception_socket is not None:
                await stack.enter_async_context(relay(exchange / "p.sock", setup.perception_socket))
                inner["perception_socket"] = f"{INNER_EXCHANGE}/p.sock"
            if setup.vlm_socket is not None:
                checked = episode_relay(exchange / "v.sock", setup.vlm_socket, setup.episode_id)
                await stack.enter_async_context(checked)
                inner["vlm_socket"] = f"{INNER_EXCHANGE}/v.sock"
            yield msgspec.structs.replace(setup, **inner)

    async def _install(self, kernel: PooledKernel, setup: KernelSetup) -> None:
        inner = INNER_EXCHANGE if self.confined else None
        await anyio.to_thread.run_sync(write_setup, setup, self._launcher.kernel_dir(kernel), inner)
        kernel.start_bootstrap(_INSTALL)
