"""`claw sandbox run FILE.py`: run a file as one cell, exactly as an episode would, and print what the
model would see. For debugging cells and for security review of the sandbox.

The file goes through the same AST policy (unless `--no-ast-check` switches it off, to see what the OS
layer alone holds), then runs in a fresh kernel from a one-kernel pool under the
same confinement, limits, output caps and cell timeout as an episode's kernel (the `AgentConfig`
defaults). `sandbox_run` writes the observation to stdout itself and returns the exit code for the CLI:
0 when the sandbox did its job (whatever the cell did, including a rejection or a timeout), 1 when the
sandbox itself failed (e.g. confinement unavailable), 2 when the file cannot be read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

from claw.agent.observations import observation_message, rejection_message
from claw.config import AgentConfig, SandboxConfig
from claw.errors import ClawError
from claw.sandbox._policy import check_cell
from claw.sandbox._pool import KernelPool
from claw.wire.kernel import CellResult, KernelSetup

__all__ = ["render_result", "sandbox_run"]


async def _write(text: str, *, error: bool = False) -> None:
    stream = sys.stderr if error else sys.stdout
    await anyio.to_thread.run_sync(stream.write, text if text.endswith("\n") else text + "\n")


def render_result(result: CellResult, *, steps_left: int = 2) -> str:
    """The observation text the model would get for `result`, plus a line per shown image."""
    content = observation_message(1, result, steps_left, []).content
    text = content if isinstance(content, str) else ""
    images = [
        f"image {i + 1}: {img.caption!r} ({len(img.png)} bytes PNG)" for i, img in enumerate(result.images)
    ]
    return "\n".join([text, *images])


async def _run_cell(code: str, config: SandboxConfig, agent: AgentConfig) -> CellResult:
    setup = KernelSetup(episode_id="sandbox-run", videos=(), answer_format="text")
    pool = KernelPool(
        config, size=1, max_stdout_chars=agent.max_stdout_chars, max_images_per_step=agent.max_images_per_step
    )
    async with pool, pool.checkout(setup) as kernel:
        return await kernel.execute(code, timeout=agent.cell_timeout_s)


async def sandbox_run(path: Path, config: SandboxConfig, *, ast_check: bool = True) -> int:
    """Run `path` as one cell under the episode sandbox and print the observation; `ast_check=False`
    skips the AST policy so the cell meets only the OS confinement.

    Returns:
        0 when the sandbox worked (whatever the cell did), 1 when the sandbox failed, 2 when `path`
        cannot be read.
    """
    try:
        code = await anyio.to_thread.run_sync(Path(path).read_text, "utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        await _write(f"claw sandbox run: cannot read {path}: {exc}", error=True)
        return 2
    violation = check_cell(code) if ast_check else None
    if violation is not None:
        rejected = rejection_message(
            1, violation.rule, violation.lineno, violation.message, 2, hint=violation.hint
        )
        await _write(str(rejected.content))
        return 0
    agent = AgentConfig()
    try:
        result = await _run_cell(code, config, agent)
    except ClawError as exc:
        await _write(f"claw sandbox run: the sandbox failed: {exc.message}", error=True)
        return 1
    await _write(render_result(result))
    return 0
