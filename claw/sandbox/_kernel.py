"""One pooled kernel seen from the host: the Jupyter connection to a forked ipykernel (`_channels`), cell
execution with a wall-time limit (interrupt, then kill), death detection, and closing.

This is the I/O seam for ZeroMQ: its exceptions become `claw.errors` types here.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio
import msgspec
import zmq
import zmq.asyncio

from claw.errors import KernelDied, SandboxError
from claw.sandbox._channels import KernelChannels, KernelMessage
from claw.sandbox._clean import CleanCheck
from claw.sandbox._output import CellCollector
from claw.sandbox._process import KernelProcess
from claw.wire.kernel import REPORT_MIME, CellError, CellReport, CellResult

__all__ = ["ConnectionFiles", "PooledKernel"]

_POLL_S = 0.25
_INTERRUPT_GRACE_S = 3.0
_report_decoder = msgspec.json.Decoder(CellReport)
_Outcome = Literal["idle", "timeout", "died"]


@dataclass(frozen=True)
class ConnectionFiles:
    """The connection info of one kernel, as the host and as the kernel see the IPC socket paths."""

    key: str
    host_prefix: str
    inner_prefix: str

    @classmethod
    def create(cls, host_dir: Path, inner_dir: str) -> ConnectionFiles:
        """New random key; sockets named `ipc-1..5` in the kernel's exchange directory."""
        return cls(secrets.token_hex(32), str(host_dir / "ipc"), f"{inner_dir}/ipc")

    def info(self, prefix: str) -> dict[str, Any]:
        """Jupyter connection info with IPC sockets under `prefix`."""
        ports = {"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5}
        return {"transport": "ipc", "ip": prefix, "key": self.key, "signature_scheme": "hmac-sha256", **ports}

    def write_kernel_file(self, host_dir: Path) -> None:
        """The connection file the kernel reads at start (inner paths)."""
        (host_dir / "kernel.json").write_text(json.dumps(self.info(self.inner_prefix)))


class PooledKernel:
    """A live kernel; implements the `Kernel` protocol."""

    def __init__(
        self,
        process: KernelProcess,
        connection: ConnectionFiles,
        context: zmq.asyncio.Context,
        *,
        max_stdout: int,
    ) -> None:
        self.process = process
        self.max_stdout = max_stdout
        self._channels = KernelChannels(context, connection.host_prefix, connection.key)
        self._closed = False
        self._bootstrap: str | None = None
        self.cells = CleanCheck()
        """Whether every cell of the current episode was contained (the pool may then reuse the kernel)."""
        self.episodes = 0
        """Episodes this kernel has served before the current one."""

    def __repr__(self) -> str:
        state = "dead" if not self.alive else "alive"
        return f"<PooledKernel {self.kernel_id} pid={self.process.kernel_pid} {state}>"

    @property
    def kernel_id(self) -> str:
        """Stable id for logs and events."""
        return self.process.kernel_id

    @property
    def alive(self) -> bool:
        """Whether the kernel process is still running."""
        return not self.process.exited.is_set() and not self._closed

    async def wait_ready(self, timeout: float) -> None:
        """Wait until the kernel answers on its shell and iopub channels.

        Raises:
            KernelDied: the kernel exited or did not answer within `timeout` seconds.
        """
        with anyio.move_on_after(timeout):
            while self.alive:
                msg_id = self._channels.kernel_info()
                if await self._iopub_answers(msg_id):
                    await self._drain_reply(msg_id, 5.0)
                    return
        raise KernelDied(f"kernel {self.kernel_id} did not become ready within {timeout:.0f} s")

    async def _iopub_answers(self, msg_id: str) -> bool:
        deadline = time.monotonic() + 0.5
        while (left := deadline - time.monotonic()) > 0 and self.alive:
            message = await self._next_iopub(min(left, _POLL_S))
            if message is not None and message.parent_id == msg_id:
                return True
        return False

    async def _next_iopub(self, timeout: float) -> KernelMessage | None:
        try:
            return await self._channels.next_iopub(timeout)
        except zmq.ZMQError as exc:
            raise KernelDied(f"kernel {self.kernel_id}: connection failed: {exc}") from None

    async def _drain_reply(self, msg_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0 and self.alive:
            try:
                reply = await self._channels.next_shell(min(left, _POLL_S))
            except zmq.ZMQError as exc:
                raise KernelDied(f"kernel {self.kernel_id}: connection failed: {exc}") from None
            if reply is not None and reply.parent_id == msg_id:
                return reply.content
        return {}

    def start_bootstrap(self, code: str) -> None:
        """Send pool-owned bootstrap code without waiting for it.

        The kernel runs requests in order, so the episode's first cell runs after it; `execute` first
        collects the bootstrap's outcome (the install overlaps with the model writing its first cell).
        """
        self._bootstrap = self._channels.execute(code, silent=True, store_history=False)

    @property
    def bootstrap_pending(self) -> bool:
        """True while the bootstrap sent at checkout has not been collected."""
        return self._bootstrap is not None

    async def finish_bootstrap(self) -> None:
        """Collect the outcome of the bootstrap sent at checkout, if not yet collected (an episode that
        ran no cell never did, and its files must not be cleared before the kernel has read them).

        Raises:
            KernelDied: the bootstrap did not finish.
            SandboxError: the bootstrap failed.
        """
        msg_id, self._bootstrap = self._bootstrap, None
        if msg_id is None:
            return
        collector = CellCollector(self.max_stdout)
        outcome = await self._collect(msg_id, collector, time.monotonic() + 60.0)
        if outcome != "idle":
            raise KernelDied(f"kernel {self.kernel_id}: the episode bootstrap did not finish ({outcome})")
        reply = await self._drain_reply(msg_id, 5.0)
        if reply.get("status") == "error":
            collector.on_error(reply)
        if collector.error is not None:
            detail = collector.error.traceback or f"{collector.error.ename}: {collector.error.evalue}"
            raise SandboxError(f"the kernel bootstrap failed in {self.kernel_id}: {detail}")

    async def run_silently(self, code: str, *, timeout: float) -> CellError | None:
        """Run pool-owned bootstrap code: no report, no history, no execution count.

        Returns:
            None on success, else what went wrong.

        Raises:
            KernelDied: the kernel is dead or died meanwhile.
        """
        result = await self._run(code, timeout, silent=True)
        if result.status in ("died", "timeout"):
            raise KernelDied(f"kernel {self.kernel_id}: bootstrap {result.status}: {result.error}")
        return result.error

    async def execute(self, code: str, *, timeout: float) -> CellResult:
        """Run `code` as one cell; see `claw.sandbox.types.Kernel.execute`.

        Raises:
            KernelDied: the kernel was already dead before the cell was sent.
            SandboxError: the episode bootstrap sent at checkout failed (not the cell's fault).
        """
        self.cells.admit(code)
        result = await self._run(code, timeout, silent=False)
        if result.status not in ("ok", "error"):
            self.cells.clean = False  # interrupted or killed: no telling where it stopped
        return result

    async def _run(self, code: str, timeout: float, *, silent: bool) -> CellResult:
        if not self.alive:
            raise KernelDied(f"kernel {self.kernel_id} is dead; the episode needs a new kernel")
        await self.finish_bootstrap()
        started = time.monotonic()
        msg_id = self._channels.execute(code, silent=silent, store_history=not silent)
        collector = CellCollector(self.max_stdout)
        outcome = await self._collect(msg_id, collector, started + timeout)
        if outcome == "timeout":
            outcome = await self._interrupt(msg_id, collector)
            return collector.result(*self._timeout_result(outcome, timeout, started))
        if outcome == "died":
            return collector.result("died", time.monotonic() - started, self._death())
        reply = await self._drain_reply(msg_id, 5.0)
        if reply.get("status") == "error" and collector.error is None:
            collector.on_error(reply)
        return collector.result("ok", time.monotonic() - started)

    def _timeout_result(
        self, outcome: _Outcome, timeout: float, started: float
    ) -> tuple[Literal["timeout", "died"], float, CellError]:
        elapsed = time.monotonic() - started
        if outcome == "idle":
            message = f"the cell ran longer than {timeout:g} s and was interrupted; variables are kept"
            return "timeout", elapsed, CellError(ename="CellTimeout", evalue=message, traceback="")
        message = (
            f"the cell ran longer than {timeout:g} s and ignored the interrupt; "
            "the kernel was killed and all variables are lost"
        )
        return "died", elapsed, CellError(ename="CellTimeout", evalue=message, traceback="")

    def _death(self) -> CellError:
        status = self.process.status
        detail = f" (wait status {status})" if status is not None else ""
        message = f"the kernel process died while running the cell{detail}; all variables are lost"
        return CellError(ename="KernelDied", evalue=message, traceback="")

    async def _collect(self, msg_id: str, collector: CellCollector, deadline: float) -> _Outcome:
        while (left := deadline - time.monotonic()) > 0:
            if not self.alive:
                return "died"
            message = await self._next_iopub(min(left, _POLL_S))
            if message is None or message.parent_id != msg_id:
                continue
            if _handle(message, collector):
                return "idle"
        return "timeout"

    async def _interrupt(self, msg_id: str, collector: CellCollector) -> _Outcome:
        self.process.interrupt()
        outcome = await self._collect(msg_id, collector, time.monotonic() + _INTERRUPT_GRACE_S)
        if outcome == "idle":
            await self._drain_reply(msg_id, 2.0)
            collector.error = None
            return "idle"
        await self.aclose()
        return "died"

    async def aclose(self) -> None:
        """Kill the kernel and close the connection (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.process.kill()
        self._channels.close()
        with anyio.move_on_after(5):
            await self.process.exited.wait()


def _handle(message: KernelMessage, collector: CellCollector) -> bool:
    kind, content = message.msg_type, message.content
    if kind == "stream":
        collector.on_stream(content)
    elif kind == "error":
        collector.on_error(content)
    elif kind == "execute_result":
        collector.on_result(content)
    elif kind == "display_data" and REPORT_MIME in content.get("data", {}):
        collector.report = _decode_report(content["data"][REPORT_MIME])
    return kind == "status" and content.get("execution_state") == "idle"


def _decode_report(text: object) -> CellReport | None:
    try:
        return _report_decoder.decode(str(text))
    except msgspec.DecodeError:
        return None  # a cell may publish anything under our mime type; only the hook's report decodes
