"""Inside the kernel: ipykernel's work the host never uses, switched off. Each item costs every cell (or,
the first, every idle second), and at hundreds of kernels it is CPU the whole machine waits for.

- The debugger's shell connection: ipykernel connects a socket to its own shell socket for a debugger
  that is never started here (debugpy is off). A confined kernel binds its sockets on descriptors made
  before confinement, at a path that does not exist inside its namespace, so that socket retried the
  connection about six times a second forever: ~0.5 ms of CPU per idle kernel per second, a quarter of a
  core at 512 kernels. It is closed.
- `execute_input`: ipykernel broadcasts every cell's code back on iopub; the host sent that code and
  ignores the echo.
- Empty flushes: ipykernel flushes stdout and stderr after every cell, and the output cap flushes them
  before its own tail, each flush a round trip to ipykernel's I/O thread even with nothing written. A
  stream with no write since its last flush now returns at once (a write always marks the stream as
  pending before the flush that sends it).
- The 0.5 ms sleep ipykernel takes before every reply (a workaround for clients that miss output; the
  host reads iopub until the kernel says idle, which comes after every output).

Installed once per kernel by the template, after the output cap (`_outcap.install`) and before the kernel
serves its first request.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["install"]


def install(app: Any) -> None:
    """Switch off the work described above in ipykernel's `app` (an initialized `IPKernelApp`)."""
    debug_shell = getattr(app, "debug_shell_socket", None)
    if debug_shell is not None and not debug_shell.closed:
        debug_shell.close(linger=0)
    kernel = app.kernel
    kernel._publish_execute_input = _no_echo
    kernel._execute_sleep = 0.0
    for stream in (sys.stdout, sys.stderr):
        _skip_empty_flushes(stream)


def _no_echo(code: str, parent: object, execution_count: int) -> None:
    """Stands in for `Kernel._publish_execute_input`: publishes nothing."""


def _skip_empty_flushes(stream: Any) -> None:
    flush = stream.flush

    def flush_if_written() -> None:
        # ipykernel's OutStream sets these on every write until the flush that sends it; a stream that
        # lacks them (another ipykernel) is always flushed.
        if getattr(stream, "_flush_pending", True) or getattr(stream, "_subprocess_flush_pending", True):
            flush()

    stream.flush = flush_if_written
