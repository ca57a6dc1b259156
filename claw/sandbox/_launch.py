"""`KernelLauncher`: everything it takes to start and stop one confined kernel, apart from the pool's
bookkeeping: the private work directory, the ZeroMQ context (its socket cap sized to the pool), the
open-file limit, the pids cgroups, the template process and the confinement decision; per kernel, its
exchange directory, spec and connection file, the fork, readiness and warm-up, and the removal of all of
it when the kernel is discarded.
"""

from __future__ import annotations

import itertools
import os
import resource
import shutil
from pathlib import Path

import anyio
import structlog
import zmq
import zmq.asyncio

from claw._files import make_owned_dir, remove_owned_dir
from claw.config import SandboxConfig
from claw.errors import ConfigError, ConfinementUnavailable, KernelDied
from claw.sandbox._confine import INNER_EXCHANGE, INNER_SCRATCH
from claw.sandbox._host import (
    KernelCgroups,
    bwrap_prefix,
    check_readable_by_kernels,
    needed_paths,
    sweep_stale_cgroups,
)
from claw.sandbox._kernel import ConnectionFiles, PooledKernel
from claw.sandbox._modules import warm_up
from claw.sandbox._process import TemplateProcess
from claw.sandbox._stacked import Stacked
from claw.wire.template import Hello, KernelSpec, Limits

__all__ = ["KernelLauncher", "decide_confinement", "files_needed", "raise_open_file_limit"]

_log = structlog.get_logger("claw.sandbox")
_WARM_UP = (
    "import claw.tools._reuse, claw.tools._runtime\n"
    "claw.tools._runtime.prepare()\n"
    "claw.tools._reuse.snapshot()\n"
)
"""Run once per kernel before it is idle: IPython's first cell is slow, and checkout must not pay it."""
_UID_BASE = 61000
_SOCKETS_PER_KERNEL = 4
"""ZeroMQ sockets budgeted per kernel: the runner opens two (shell and iopub, `_channels`); the cap keeps
room for four, as when stdin and control were opened too."""
_FILES_PER_KERNEL = 12
"""Per kernel in the runner: each ZeroMQ socket with its connection and mailbox, two relay listeners."""
_FILES_BASE = 512
"""The runner's own files: the event log, the model client's connections, servers, Python itself."""


def files_needed(kernels: int) -> int:
    """Open files the runner needs for a pool of `kernels` (a kernel being replaced counts twice)."""
    return _FILES_BASE + 2 * kernels * _FILES_PER_KERNEL


def raise_open_file_limit(kernels: int) -> None:
    """Raise this process's soft open-file limit to what `kernels` kernels need.

    Raises:
        ConfigError: the hard limit is lower than that.
    """
    needed = files_needed(kernels)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise ConfigError(
            f"limits.kernels = {kernels} needs about {needed} open files but the hard open-file limit "
            f"(ulimit -Hn) is {hard}; raise it or lower limits.kernels",
            field="limits.kernels",
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


class KernelLauncher(Stacked):
    """Starts and discards kernels for a pool of `size`; an async context manager.

    `__aenter__` checks the mode, raises the open-file limit, starts the template and decides confinement.
    """

    def __init__(
        self, config: SandboxConfig, *, size: int, max_stdout_chars: int, ready_timeout: float
    ) -> None:
        super().__init__()
        self.config = config
        self.size = size
        self.max_stdout_chars = max_stdout_chars
        self.ready_timeout = ready_timeout
        self.confined = False
        self.template: TemplateProcess | None = None
        self._counter = itertools.count(1)
        self._context: zmq.asyncio.Context | None = None
        self._workdir: Path | None = None
        self._needed: tuple[str, ...] = ()
        self._drop_uid = False
        self._cgroups: KernelCgroups | None = None

    @property
    def workdir(self) -> Path:
        """The private directory holding every kernel's exchange directory."""
        assert self._workdir is not None
        return self._workdir

    async def _open(self) -> None:
        self._check_mode()
        raise_open_file_limit(self.size)
        workdir, held = await anyio.to_thread.run_sync(_make_workdir)
        self._workdir = workdir
        self._stack.push_async_callback(_remove_workdir, workdir, held)
        await anyio.to_thread.run_sync(warm_up)  # the AST policy resolves module chains through these
        self._context = _zmq_context(self.size)
        self._stack.callback(self._context.destroy, 0)
        await anyio.to_thread.run_sync(self._prepare_cgroups)
        wrapper = await anyio.to_thread.run_sync(self._wrapper)  # bwrap_prefix stats the bound paths
        template = TemplateProcess(workdir, wrapper=wrapper)
        self.template = await self._stack.enter_async_context(template)
        assert self.template.hello is not None
        self.confined = decide_confinement(self.config, self.template.hello)
        if not self.confined:
            _log.warning("kernels run UNCONFINED: model-written code can reach the network and files")
        else:
            await anyio.to_thread.run_sync(self._confine_host)  # stats every path a kernel needs

    def _check_mode(self) -> None:
        if self.config.confinement == "none" and not self.config.unsafe_no_confinement:
            raise ConfigError(
                "sandbox.confinement = 'none' runs model-written code unconfined; "
                "also set sandbox.unsafe_no_confinement = true (--unsafe-no-confinement) if you mean it",
                field="sandbox.confinement",
            )

    def _prepare_cgroups(self) -> None:
        if self.config.confinement == "none":
            return
        sweep_stale_cgroups()
        cgroups = KernelCgroups()
        if cgroups.available:
            self._cgroups = cgroups
            self._stack.push_async_callback(cgroups.close)

    def _wrapper(self) -> list[str]:
        if self.config.confinement != "bwrap":
            return []
        writable = [self.workdir]
        if self._cgroups is not None:
            writable.extend(self._cgroups.roots)
        return bwrap_prefix(writable)

    def _confine_host(self) -> None:
        """Kernels never keep host root: a root runner gives each an unprivileged uid of its own.

        Raises:
            ConfinementUnavailable: that uid could not read the interpreter or its packages.
        """
        self._needed = needed_paths()
        self._drop_uid = os.getuid() == 0
        if self._drop_uid:
            check_readable_by_kernels(self._needed)
        if self._cgroups is None:
            _log.warning("no writable cgroups: a kernel's processes and memory are capped per process only")

    # ----------------------------------------------------------------------------------- per kernel

    def kernel_dir(self, kernel: PooledKernel) -> Path:
        """The kernel's exchange directory on the host."""
        return self.workdir / kernel.kernel_id

    async def start(self) -> PooledKernel:
        """Fork one kernel, wait until it answers and warm it up.

        Raises:
            KernelDied: it died or did not answer in time (the message has its log's tail).
            SandboxError: the template could not fork it.
        """
        kernel = await self.start_unready()
        try:
            await kernel.wait_ready(self.ready_timeout)
            problem = await kernel.run_silently(_WARM_UP, timeout=self.ready_timeout)
            if problem is not None:
                raise KernelDied(f"kernel warm-up failed: {problem.ename}: {problem.evalue}")
        except KernelDied as exc:
            tail = await anyio.to_thread.run_sync(_log_tail, self.kernel_dir(kernel))
            await self.discard(kernel)
            raise KernelDied(f"{exc.message}; kernel log: {tail}") from None
        return kernel

    async def start_unready(self) -> PooledKernel:
        """Fork one kernel and connect to it, without waiting for it to answer (see `start`).

        Raises:
            SandboxError: the template could not fork it.
        """
        assert self.template is not None and self._context is not None
        kernel_id = f"k{next(self._counter)}"
        spec, connection = await anyio.to_thread.run_sync(self._prepare_kernel, kernel_id)
        process = await self.template.spawn(spec)
        return PooledKernel(process, connection, self._context, max_stdout=self.max_stdout_chars)

    async def unstage(self, kernel: PooledKernel) -> None:
        """Remove what the last episode put into the kernel's exchange directory (its frames, its setup) and
        empty the kernel's log, which the next episode could read."""
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_unstage, self.kernel_dir(kernel))

    async def discard(self, kernel: PooledKernel) -> None:
        """Kill the kernel, wait for it to be reaped, and remove its directory and cgroup."""
        await kernel.aclose()
        await remove_tree(self.kernel_dir(kernel))
        if self._cgroups is not None:
            await self._cgroups.remove(kernel.kernel_id)

    def _prepare_kernel(self, kernel_id: str) -> tuple[KernelSpec, ConnectionFiles]:
        """The kernel's directory, cgroup and connection file (file-system work, run in a thread)."""
        uid = _UID_BASE + int(kernel_id[1:]) % 1000 if self._drop_uid else None
        exchange = self._exchange_dir(kernel_id, uid)
        spec = self._spec(kernel_id, exchange, uid)
        connection = ConnectionFiles.create(exchange, spec.inner_dir)
        connection.write_kernel_file(exchange)
        return spec, connection

    def _exchange_dir(self, kernel_id: str, uid: int | None) -> Path:
        exchange = self.workdir / kernel_id
        exchange.mkdir(mode=0o700)
        (exchange / "scratch").mkdir(mode=0o700)
        if uid is not None:
            os.chown(exchange, uid, uid)
            os.chown(exchange / "scratch", uid, uid)
        return exchange

    def _spec(self, kernel_id: str, exchange: Path, uid: int | None) -> KernelSpec:
        c = self.config
        limits = Limits(
            memory_mb=c.memory_mb,
            cpu_seconds=c.cpu_seconds,
            max_processes=c.max_processes,
            max_file_mb=c.max_file_mb,
            max_open_files=c.max_open_files,
        )
        return KernelSpec(
            kernel_id=kernel_id,
            exchange_dir=str(exchange),
            inner_dir=INNER_EXCHANGE if self.confined else str(exchange),
            scratch_dir=INNER_SCRATCH if self.confined else str(exchange / "scratch"),
            confined=self.confined,
            uid=uid,
            limits=limits,
            expose=self._needed,
            cgroups=self._kernel_cgroups(kernel_id),
        )

    def _kernel_cgroups(self, kernel_id: str) -> tuple[str, ...]:
        if self._cgroups is None:
            return ()
        c = self.config
        return self._cgroups.create(kernel_id, max_processes=c.max_processes, memory_mb=c.memory_mb)


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


def _zmq_context(kernels: int) -> zmq.asyncio.Context:
    """A context whose socket cap (1,023 by default) fits every kernel, twice over while they are replaced."""
    context = zmq.asyncio.Context()
    context.set(zmq.MAX_SOCKETS, max(1023, 2 * kernels * _SOCKETS_PER_KERNEL + 64))
    context.setsockopt(zmq.RECONNECT_IVL, 10)
    context.setsockopt(zmq.LINGER, 0)
    return context


async def remove_tree(path: Path) -> None:
    """Remove a directory tree in a worker thread, even while the caller is being cancelled."""
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(shutil.rmtree, path, True)


def _make_workdir() -> tuple[Path, int]:
    workdir, held = make_owned_dir("k")  # swept once this process is gone
    workdir.chmod(0o711)  # kernels (other uids) may pass through to their own 0700 directory
    return workdir, held


async def _remove_workdir(workdir: Path, held: int) -> None:
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(remove_owned_dir, workdir, held)


def _unstage(exchange: Path) -> None:
    """One worker-thread trip for everything an episode left in the exchange directory."""
    shutil.rmtree(exchange / "media", ignore_errors=True)
    (exchange / "setup.msgpack").unlink(missing_ok=True)
    _empty_log(exchange / "kernel.log")


def _empty_log(log: Path) -> None:
    try:
        os.truncate(log, 0)  # the kernel appends (O_APPEND), so it goes on writing from the start
    except FileNotFoundError:
        pass  # the kernel has not written a log yet: nothing to empty


def _log_tail(exchange: Path) -> str:
    try:
        return (exchange / "kernel.log").read_text(errors="replace")[-1500:].strip() or "(empty)"
    except OSError:
        return "(none)"
