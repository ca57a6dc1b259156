"""Helper processes the runtime starts and owns: spawned with their readiness line awaited, their
output drained to a log file, and always stopped (terminate, then kill) when the owning block exits, even
on cancellation. A service that exits or stays silent past its deadline is a `ServiceError` that says
where its log is.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

import anyio
from anyio.abc import ByteReceiveStream, Process

from claw.errors import ServiceError

__all__ = ["spawn_service"]

_STOP_GRACE_S = 5.0


@asynccontextmanager
async def spawn_service(
    module_args: Sequence[str],
    *,
    name: str,
    log_path: Path,
    ready_prefix: str = "READY",
    ready_timeout_s: float = 60.0,
    env: dict[str, str] | None = None,
) -> AsyncIterator[str]:
    """Run `python -m <module_args…>`, wait for a stdout line starting with `ready_prefix`, and yield
    the rest of that line (e.g. the URL the service listens on).

    Raises:
        ServiceError: the process exited or did not print its readiness line within `ready_timeout_s`.
    """
    await anyio.Path(log_path.parent).mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", *module_args]
    with await anyio.to_thread.run_sync(lambda: log_path.open("ab")) as log:
        process = await anyio.open_process(argv, stderr=log, env=env or dict(os.environ))
        try:
            async with anyio.create_task_group() as tg:
                ready = await _await_ready(process, name, log_path, ready_prefix, ready_timeout_s)
                assert process.stdout is not None
                tg.start_soon(_copy_to_log, process.stdout, log)
                yield ready
                tg.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await _stop(process)


async def _await_ready(process: Process, name: str, log_path: Path, prefix: str, timeout_s: float) -> str:
    assert process.stdout is not None
    buffer = b""
    with anyio.move_on_after(timeout_s):
        async for chunk in process.stdout:
            buffer += chunk
            for line in buffer.split(b"\n")[:-1]:
                text = line.decode(errors="replace").strip()
                if text.startswith(prefix):
                    return text[len(prefix) :].strip()
        raise ServiceError(
            f"{name} exited with code {await process.wait()} before it was ready; see {log_path}"
        )
    raise ServiceError(f"{name} did not become ready within {timeout_s:.0f} s; see {log_path}")


async def _copy_to_log(stream: ByteReceiveStream, log: IO[bytes]) -> None:
    async for chunk in stream:
        await anyio.to_thread.run_sync(log.write, chunk)


async def _stop(process: Process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    with anyio.move_on_after(_STOP_GRACE_S):
        await process.wait()
        return
    process.kill()
    await process.wait()
