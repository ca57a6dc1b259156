"""The in-tree fake kernels. `ScriptedKernel` returns prepared `CellResult`s in order (for driver tests
that need exact outcomes: errors, deaths, answers). `InProcessKernel` is the one fake that really runs
cells, for tests that run whole episodes through the real driver without kernel processes: it implements
`claw.sandbox.types.Kernel` with the kernel side's own code (the episode's names come from the
bootstrap's parts, `claw.tools._inputs`, `_answer`, `_show` and `_state.STATE`), runs cells with `exec`
in one namespace in a worker thread (off the event loop, as a real kernel runs in its own process), and
returns each cell's stdout, error, shown images and submitted answer. No confinement: the episode's cell
checker still applies the real AST policy.
"""

from __future__ import annotations

import contextlib
import io
import math
import time
import traceback

import anyio
import matplotlib.pyplot as plt
import numpy as np
import scipy

import claw.tools as tools
from claw.tools import _client
from claw.tools._answer import ReturnAnswer
from claw.tools._inputs import frame_names, metadata_of
from claw.tools._show import show
from claw.tools._state import STATE
from claw.wire.kernel import CellError, CellResult, KernelSetup

__all__ = ["InProcessKernel", "ScriptedKernel"]

_TOOL_NAMES = ("Reconstruct", "SAM3", "Geometry", "Mask", "Draw", "Time")


class InProcessKernel:
    """A `Kernel` for one episode whose cells run in this process (see the module docstring)."""

    kernel_id = "in-process"

    def __init__(self, setup: KernelSetup) -> None:
        self.setup = setup
        metadata = metadata_of(setup)
        scene = metadata.extra.get("scene")
        _client.configure(
            socket=setup.perception_socket,
            url=setup.perception_url,
            scene=str(scene) if scene is not None else None,
            connect_timeout_s=5.0,
        )
        self.namespace: dict[str, object] = {"np": np, "math": math, "scipy": scipy, "plt": plt}
        self.namespace.update(
            {"tools": tools, "Metadata": metadata, "show": show, "ReturnAnswer": ReturnAnswer}
        )
        self.namespace.update({name: getattr(tools, name) for name in _TOOL_NAMES})
        self.namespace.update(frame_names(setup))

    async def execute(self, code: str, *, timeout: float) -> CellResult:
        """Run `code` as one cell (the timeout is not enforced: cells here are the tests' own)."""
        return await anyio.to_thread.run_sync(self._run, code)

    def _run(self, code: str) -> CellResult:
        STATE.answer_format, STATE.options = self.setup.answer_format, self.setup.options
        STATE.max_images = self.setup.max_images_per_step
        STATE.begin_cell()
        out, error, started = io.StringIO(), None, time.monotonic()
        with contextlib.redirect_stdout(out):
            try:
                exec(compile(code, "<cell>", "exec"), self.namespace)
            except Exception as exc:
                error = CellError(ename=type(exc).__name__, evalue=str(exc), traceback=traceback.format_exc())
        cell = STATE.cell
        return CellResult(
            status="error" if error else "ok",
            stdout=out.getvalue(),
            error=error,
            duration_s=time.monotonic() - started,
            images=tuple(cell.images),
            images_dropped=cell.images_dropped,
            answer=cell.answer,
        )


class ScriptedKernel:
    """A `Kernel` whose cells return prepared results in order."""

    def __init__(self, results: list[CellResult]) -> None:
        self.results = results
        self.cells: list[str] = []

    @property
    def kernel_id(self) -> str:
        return "fake-1"

    async def execute(self, code: str, *, timeout: float) -> CellResult:
        self.cells.append(code)
        return self.results.pop(0)
