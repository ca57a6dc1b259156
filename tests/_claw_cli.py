"""How tests start the `claw` command line as a separate process: the command words for this
interpreter (`python -m claw.cli ...`), a `claw eval` line for a run directory, sample count and seed,
and one call that runs a command to the end and captures its text output. Tests that start `claw` use
these instead of spelling the command out, so a change in how it is started is made once."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["claw_command", "eval_args", "eval_command", "run_claw"]


def claw_command(*args: str) -> list[str]:
    """The command line for `claw ARGS...` run by this interpreter (the tested checkout's claw)."""
    return [sys.executable, "-m", "claw.cli", *args]


def eval_args(run_dir: Path | str, *extra: str, n: int | str, seed: int | str) -> list[str]:
    """The words after `claw` for `claw eval --n N --seed SEED --run-dir RUN_DIR EXTRA...`."""
    return ["eval", "--n", str(n), "--seed", str(seed), "--run-dir", str(run_dir), *extra]


def eval_command(run_dir: Path | str, *extra: str, n: int | str, seed: int | str) -> list[str]:
    """The command line for `claw eval --n N --seed SEED --run-dir RUN_DIR EXTRA...`."""
    return claw_command(*eval_args(run_dir, *extra, n=n, seed=seed))


def run_claw(
    *args: str,
    timeout: float = 600,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `claw ARGS...` to the end (never past `timeout` seconds) and capture stdout and stderr as text;
    the exit code is the caller's to check. The default timeout
    is a hang guard sized for a slow, loaded machine."""
    return subprocess.run(
        claw_command(*args), capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd, env=env
    )
