"""`supervised`: a child process (a helper server, vLLM) owned by an `async with` — output drained,
stopped on exit, never orphaned.

The child runs in its own session (process group), so stopping it also stops anything it spawned (vLLM's
workers). Its stdout lines are offered to the caller for readiness checks, and the last lines of its
stdout and stderr are kept so a failure to start can say why.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import structlog
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from claw.errors import ServiceError

__all__ = [
    "PARENT_PID_ENV",
    "Supervised",
    "first_leaf",
    "kept_running",
    "sole_exception",
    "supervised",
    "wait_ready_line",
]

PARENT_PID_ENV = "CLAW_PARENT_PID"
"""Given to every child: claw's own servers arm a lifeline with it (`servers/_lifeline.py`) so they
exit when this process dies, even by SIGKILL."""

_TAIL_LINES = 40
_log = structlog.get_logger("claw.process")


class Supervised:
    """A running child: `process`, its stdout `lines` (for readiness), and a `tail` of recent output."""

    def __init__(self, name: str, process: anyio.abc.Process, lines: MemoryObjectReceiveStream[str]) -> None:
        self.name = name
        self.process = process
        self.lines = lines
        self.tail: deque[str] = deque(maxlen=_TAIL_LINES)

    def __repr__(self) -> str:
        return f"<Supervised {self.name} pid={self.process.pid} returncode={self.process.returncode}>"

    def failure(self, what: str) -> ServiceError:
        """A `ServiceError` saying `what` went wrong, with the child's recent output."""
        output = "\n".join(self.tail) or "(no output)"
        return ServiceError(f"{self.name} {what}; its last output:\n{output}")

    async def next_line(self) -> str:
        """The next stdout line.

        Raises:
            ServiceError: the child closed stdout (usually: it exited).
        """
        try:
            return await self.lines.receive()
        except anyio.EndOfStream:
            await self.process.wait()
            raise self.failure(f"exited with status {self.process.returncode}") from None


def _offer(out: MemoryObjectSendStream[str] | None, line: str) -> None:
    if out is None:
        return
    try:
        out.send_nowait(line)
    except (anyio.WouldBlock, anyio.BrokenResourceError):
        pass  # nobody reads stdout any more after readiness; the tail and the log keep the lines


async def _pump(
    stream: anyio.abc.ByteReceiveStream,
    child: Supervised,
    out: MemoryObjectSendStream[str] | None,
    log: anyio.AsyncFile[bytes] | None,
) -> None:
    buffer = b""
    try:
        async for chunk in stream:
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for raw in complete:
                line = raw.decode("utf-8", "replace").rstrip("\r")
                child.tail.append(line)
                _offer(out, line)
            if log is not None and complete:
                await log.write(b"\n".join(complete) + b"\n")
    finally:
        if out is not None:
            out.close()


def _signal_group(process: anyio.abc.Process, sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass  # already gone


async def _stop(process: anyio.abc.Process, grace_s: float) -> None:
    with anyio.CancelScope(shield=True):
        if process.returncode is None:
            _signal_group(process, signal.SIGTERM)
            with anyio.move_on_after(grace_s):
                await process.wait()
        _signal_group(process, signal.SIGKILL)
        await process.wait()


@asynccontextmanager
async def supervised(
    command: Sequence[str],
    *,
    name: str,
    env: Mapping[str, str] | None = None,
    grace_s: float = 10.0,
    log_path: Path | None = None,
) -> AsyncIterator[Supervised]:
    """Start `command` and stop it (SIGTERM to its group, SIGKILL after `grace_s`) when the block exits.

    The child's stdout and stderr lines are appended to `log_path` when given.

    Raises:
        ServiceError: the executable could not be started.
    """
    try:
        process = await anyio.open_process(
            list(command),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**(os.environ if env is None else env), PARENT_PID_ENV: str(os.getpid())},
        )
    except OSError as exc:
        raise ServiceError(f"cannot start {name} ({command[0]}): {exc}") from None
    send, receive = anyio.create_memory_object_stream[str](256)
    child = Supervised(name, process, receive)
    try:
        async with _running(child, send, grace_s, log_path):
            yield child
    except BaseExceptionGroup as group:
        leaf = sole_exception(group)
        raise leaf from leaf.__cause__


async def wait_ready_line(child: Supervised, timeout_s: float, *, prefix: str = "READY ") -> str:
    """The rest of the child's first stdout line that starts with `prefix` (e.g. the URL it serves).

    Raises:
        ServiceError: the child exited, or printed no readiness line within `timeout_s`.
    """
    with anyio.move_on_after(timeout_s):
        while True:
            line = await child.next_line()
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
    raise child.failure(f"did not report readiness within {timeout_s:g} s")


@asynccontextmanager
async def kept_running(
    command: Sequence[str],
    *,
    name: str,
    log_path: Path | None,
    ready_timeout_s: float,
    max_restarts: int,
    on_giving_up: Callable[[ServiceError], None],
    restart_command: Callable[[str], Sequence[str]] | None = None,
) -> AsyncIterator[str]:
    """Like `supervised` + `wait_ready_line` (yields the readiness value), but a child that dies while the
    block runs is started again, at most `max_restarts` times. When it dies once more, or does not come
    back, `on_giving_up` gets the error (the owner of the block decides how to stop; cancelling the
    block from in here would tear down contexts entered after this one out of order). `restart_command`
    gives the command for a restart from the first readiness value (e.g. to listen on the same port).

    Raises:
        ServiceError: the child did not start the first time.
    """
    started = False
    try:
        async with anyio.create_task_group() as group:
            ready = await group.start(
                _keep_alive,
                (command, restart_command),
                name,
                log_path,
                (ready_timeout_s, max_restarts),
                on_giving_up,
            )
            started = True
            try:
                yield ready
            finally:
                group.cancel_scope.cancel()
    except BaseExceptionGroup as failures:
        if started:
            raise
        raise first_leaf(failures) from None  # the first start failed: one error, not a group


async def _keep_alive(
    commands: tuple[Sequence[str], Callable[[str], Sequence[str]] | None],
    name: str,
    log_path: Path | None,
    limits: tuple[float, int],
    on_giving_up: Callable[[ServiceError], None],
    *,
    task_status: anyio.abc.TaskStatus[str] = anyio.TASK_STATUS_IGNORED,
) -> None:
    ready_timeout_s, max_restarts = limits
    command, restart_command = commands
    deaths = 0
    while True:
        try:
            async with supervised(command, name=name, log_path=log_path) as child:
                ready = await wait_ready_line(child, ready_timeout_s)
                if deaths == 0:
                    task_status.started(ready)
                    command = restart_command(ready) if restart_command is not None else command
                await child.process.wait()
        except ServiceError as exc:
            if deaths == 0:
                raise
            on_giving_up(ServiceError(f"{name} died and did not come back: {exc.message.splitlines()[0]}"))
            return
        deaths += 1
        if deaths > max_restarts:
            on_giving_up(
                ServiceError(
                    f"{name} died {deaths} times, more than the {max_restarts} restarts allowed, so the "
                    f"run stops; see {log_path or 'its log'}"
                )
            )
            return
        _log.warning("helper server died; starting it again", name=name, deaths=deaths, allowed=max_restarts)


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        current = pending.pop(0)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        else:
            leaves.append(current)
    return leaves


def sole_exception(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one exception inside `group` (however deeply nested), or `group` itself when there are several."""
    leaves = _leaves(group)
    return leaves[0] if len(leaves) == 1 else group


def first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first exception inside `group` (however deeply nested): when several checks failed at once,
    the user is told about one of them, in one line, rather than shown a group."""
    return _leaves(group)[0]


@asynccontextmanager
async def _running(
    child: Supervised, send: MemoryObjectSendStream[str], grace_s: float, log_path: Path | None
) -> AsyncIterator[None]:
    process = child.process
    async with AsyncExitStack() as stack:
        stack.push_async_callback(process.aclose)
        stack.callback(child.lines.close)
        log = (
            None
            if log_path is None
            else await stack.enter_async_context(await anyio.open_file(log_path, "ab"))
        )
        group = await stack.enter_async_context(anyio.create_task_group())
        assert process.stdout is not None and process.stderr is not None
        group.start_soon(_pump, process.stdout, child, send, log)
        group.start_soon(_pump, process.stderr, child, None, log)
        try:
            yield
        finally:
            await _stop(process, grace_s)
