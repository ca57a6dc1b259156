"""Host side of the kernel template process: starting it with a clean environment, sending spawn
requests, and turning its event frames into per-kernel process handles that know when they exited.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import anyio
import anyio.abc
import msgspec
import structlog

from claw.errors import SandboxError
from claw.wire.template import (
    HEADER_SIZE,
    Exited,
    FromTemplate,
    Hello,
    KernelSpec,
    Spawned,
    SpawnFailed,
    SpawnRequest,
    frame,
    read_frame_length,
)

__all__ = ["KernelProcess", "TemplateProcess"]

_log = structlog.get_logger("claw.sandbox")
_decoder: msgspec.msgpack.Decoder[FromTemplate] = msgspec.msgpack.Decoder(FromTemplate)
_encoder = msgspec.msgpack.Encoder()
_PASS_ENV = ("HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")


@dataclass
class KernelProcess:
    """One kernel's processes: its process group (`pid`, the launcher's id) and the ipykernel itself."""

    kernel_id: str
    pid: int
    kernel_pid: int
    exited: anyio.Event = field(default_factory=anyio.Event)
    status: int | None = None

    def interrupt(self) -> None:
        """Send SIGINT to the ipykernel (raises KeyboardInterrupt in the running cell)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.kernel_pid, signal.SIGINT)

    def kill(self) -> None:
        """SIGKILL the whole kernel: its process group and (when confined) its PID namespace."""
        for kill, target in ((os.killpg, self.pid), (os.kill, self.kernel_pid)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(target, signal.SIGKILL)


@dataclass
class _Pending:
    done: anyio.Event = field(default_factory=anyio.Event)
    answer: KernelProcess | SpawnFailed | None = None


def template_environment(workdir: Path) -> dict[str, str]:
    """The template's whole environment: a few harmless variables, never the runner's secrets."""
    env = {name: os.environ[name] for name in _PASS_ENV if name in os.environ}
    env.update(
        PATH="/usr/local/bin:/usr/bin:/bin",
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        MPLBACKEND="Agg",
        PYTHONDONTWRITEBYTECODE="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
        IPYTHONDIR=str(workdir / "ipython"),
    )
    return env


class TemplateProcess:
    """The running template; an async context manager that owns the process and its reader task."""

    def __init__(
        self, workdir: Path, *, wrapper: list[str] | None = None, start_timeout: float = 120.0
    ) -> None:
        self.workdir = workdir
        self.wrapper = wrapper or []
        self.start_timeout = start_timeout
        self.hello: Hello | None = None
        self.dead_reason: str | None = None
        self._process: anyio.abc.Process | None = None
        self._pending: dict[str, _Pending] = {}
        self._by_pid: dict[int, KernelProcess] = {}
        self._hello = anyio.Event()
        self._lock = anyio.Lock()
        self._tasks: anyio.abc.TaskGroup | None = None
        self._closing = False

    async def __aenter__(self) -> TemplateProcess:
        log = await anyio.to_thread.run_sync(lambda: (self.workdir / "template.log").open("ab"))
        try:
            self._process = await anyio.open_process(
                [*self.wrapper, sys.executable, "-m", "claw.sandbox._template"],
                stdin=-1,
                stdout=-1,
                stderr=log,
                cwd=self.workdir,
                env=template_environment(self.workdir),
                start_new_session=True,
            )
        finally:
            log.close()
        self._tasks = anyio.create_task_group()
        await self._tasks.__aenter__()
        self._tasks.start_soon(self._read_events)
        await self._wait_hello()
        return self

    async def _wait_hello(self) -> None:
        with anyio.move_on_after(self.start_timeout):
            await self._hello.wait()
        if self.hello is None:
            await self._shutdown()
            log_text = (await anyio.Path(self.workdir / "template.log").read_text(errors="replace"))[-2000:]
            raise SandboxError(f"the kernel template process did not start: {self.dead_reason}\n{log_text}")

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._shutdown()

    async def _shutdown(self) -> None:
        # A cancelled run must still stop the template (shielded, bounded by _stop_process) and, above
        # all, exit the reader task group entered in __aenter__ (outside the shield: its scope must be the
        # current one); skipping that exit would leave its cancel scope on the task's stack and break
        # every scope exited after it.
        self._closing = True
        try:
            with anyio.CancelScope(shield=True):
                await self._stop_process()
        finally:
            for handle in self._by_pid.values():
                handle.kill()
            tasks, self._tasks = self._tasks, None
            if tasks is not None:
                tasks.cancel_scope.cancel()
                await tasks.__aexit__(None, None, None)

    async def _stop_process(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        if process.stdin is not None:
            await process.stdin.aclose()
        with anyio.move_on_after(5):
            await process.wait()
        if process.returncode is None:
            process.kill()
            await process.wait()

    async def spawn(self, spec: KernelSpec) -> KernelProcess:
        """Fork one kernel from the template.

        Raises:
            SandboxError: the template is gone or could not start the kernel.
        """
        process = self._process
        if process is None or process.stdin is None or self.dead_reason is not None:
            raise SandboxError(f"the kernel template process is not running ({self.dead_reason})")
        pending = self._pending[spec.kernel_id] = _Pending()
        async with self._lock:
            await process.stdin.send(frame(_encoder.encode(SpawnRequest(spec=spec))))
        await pending.done.wait()
        return self._spawned(pending.answer)

    def _spawned(self, answer: KernelProcess | SpawnFailed | None) -> KernelProcess:
        if isinstance(answer, KernelProcess):
            return answer
        reason = answer.message if answer is not None else self.dead_reason
        raise SandboxError(f"a kernel could not be started: {reason}")

    async def _read_events(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        buffer = b""
        try:
            async for chunk in self._process.stdout:
                buffer += chunk
                buffer = self._dispatch_frames(buffer)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass  # the pipe closed under us: the template is gone, which the next line reports
        self._template_gone("the template process exited")

    def _dispatch_frames(self, buffer: bytes) -> bytes:
        while len(buffer) >= HEADER_SIZE:
            length = read_frame_length(buffer[:HEADER_SIZE])
            if len(buffer) < HEADER_SIZE + length:
                break
            self._dispatch(_decoder.decode(buffer[HEADER_SIZE : HEADER_SIZE + length]))
            buffer = buffer[HEADER_SIZE + length :]
        return buffer

    def _dispatch(self, event: FromTemplate) -> None:
        match event:
            case Hello():
                self.hello = event
                self._hello.set()
            case Spawned(kernel_id=kernel_id, pid=pid, kernel_pid=kernel_pid):
                handle = self._by_pid[kernel_pid] = KernelProcess(kernel_id, pid, kernel_pid)
                self._answer(kernel_id, handle)
            case SpawnFailed(kernel_id=kernel_id):
                self._answer(kernel_id, event)
            case Exited(pid=pid, status=status):
                gone = self._by_pid.pop(pid, None)
                if gone is not None:
                    gone.status = status
                    gone.exited.set()

    def _answer(self, kernel_id: str, answer: KernelProcess | SpawnFailed) -> None:
        pending = self._pending.pop(kernel_id, None)
        if pending is not None:
            pending.answer = answer
            pending.done.set()

    def _template_gone(self, reason: str) -> None:
        self.dead_reason = reason
        self._hello.set()
        for pending in self._pending.values():
            pending.done.set()
        self._pending.clear()
        for handle in self._by_pid.values():
            handle.exited.set()
        if self.hello is not None and not self._closing:
            _log.warning("kernel template exited", reason=reason)
