"""A model whose cells block in C code (they ignore the interrupt, so each one costs a kernel) with two
kernels and a 2 s cell timeout: before, the pool ran out of kernels and the run hung forever. Now every
episode ends: its kernel is killed within the timeout plus the interrupt grace, it gets at most
`agent.max_kernel_restarts` fresh kernels, then ends as an infrastructure error, never as a score."""

from __future__ import annotations

from pathlib import Path

import anyio
import msgspec
import pytest

from claw.events import CellExecuted, EpisodeResult, EpisodeStarted, KernelFailed, decode_result
from claw.runtime.progress import ProgressSnapshot
from claw.runtime.runner import run_eval
from tests._claw_cli import run_claw
from tests.faults.fault_helpers import HARD_DEADLINE_S, read_run, results_of, small_config

pytestmark = pytest.mark.slow


async def test_cells_stuck_in_c_code_end_every_episode(tmp_path: Path) -> None:
    config = small_config(tmp_path / "r", policy="stuck", cell_timeout_s=2.0, max_kernel_restarts=1)
    with anyio.fail_after(HARD_DEADLINE_S):
        summary = await run_eval(config)
    record = await read_run(tmp_path / "r")
    assert len(record.finished) == 4 and not record.failed
    assert {e.reason for e in record.finished.values()} == {"error"}
    assert (summary.n, summary.errors) == (0, 4)
    killed = [e for e in record.events if isinstance(e, CellExecuted)]
    assert killed and {e.status for e in killed} == {"died"}
    # Killed within the 2 s timeout plus the interrupt grace (and a wide margin for a loaded machine),
    # not after the C call ran its hours.
    assert max(e.duration_s for e in killed) < 120
    exhausted = [
        e for e in record.events if isinstance(e, KernelFailed) and "max_kernel_restarts" in e.message
    ]
    assert len(exhausted) == 4
    assert set((await results_of(tmp_path / "r")).values()) == {"error"}


async def test_an_episode_past_its_wall_clock_limit_is_stopped_and_recorded(tmp_path: Path) -> None:
    config = small_config(tmp_path / "r", policy="stuck", n=2, cell_timeout_s=600.0, episode_timeout_s=3.0)
    with anyio.fail_after(HARD_DEADLINE_S):
        summary = await run_eval(config)
    record = await read_run(tmp_path / "r")
    assert not record.finished
    assert {e.error_type for e in record.failed.values()} == {"EpisodeTimeout"}
    assert len(record.failed) == 2
    assert "agent.episode_timeout_s = 3 s" in next(iter(record.failed.values())).message
    assert (summary.n, summary.errors, summary.failed) == (0, 0, 2)
    # Exactly one `error` line per stopped episode, typed, so a resume knows it ended.
    lines = await _result_lines(tmp_path / "r")
    assert sorted(r.episode_id for r in lines) == sorted(record.failed)
    assert {(r.reason, r.error_type, r.score) for r in lines} == {("error", "EpisodeTimeout", 0.0)}
    assert all(r.ground_truth and r.category for r in lines)

    # --no-retry-errors keeps them: the resume starts no episode and writes no line.
    kept = msgspec.structs.replace(config, retry_errors=False)
    snapshots: list[ProgressSnapshot] = []
    with anyio.fail_after(HARD_DEADLINE_S):
        again = await run_eval(kept, progress=snapshots.append)
    assert (again.n, again.failed) == (0, 2)
    assert (snapshots[-1].done, snapshots[-1].failed, snapshots[-1].total) == (0, 2, 2)  # none left
    assert len(await _result_lines(tmp_path / "r")) == 2
    events = (await read_run(tmp_path / "r")).events
    assert sum(isinstance(e, EpisodeStarted) for e in events) == 2

    # By default a resume runs them again (they time out again: one more line each, the last wins).
    with anyio.fail_after(HARD_DEADLINE_S):
        retried = await run_eval(config)
    assert (retried.n, retried.failed) == (0, 2)
    assert len(await _result_lines(tmp_path / "r")) == 4
    events = (await read_run(tmp_path / "r")).events
    assert sum(isinstance(e, EpisodeStarted) for e in events) == 4


async def _result_lines(run_dir: Path) -> list[EpisodeResult]:
    data = await anyio.to_thread.run_sync((run_dir / "results.jsonl").read_bytes)
    return [decode_result(line) for line in data.splitlines()]


def test_the_cli_exits_non_zero_when_every_episode_failed(tmp_path: Path) -> None:
    config = tmp_path / "stuck.toml"
    config.write_text(
        'n = 2\n[models]\npolicy = "stuck"\n[limits]\nkernels = 2\n'
        "[agent]\nmax_steps = 2\ncell_timeout_s = 2.0\nmax_kernel_restarts = 0\n"
    )
    done = run_claw(
        "eval", "--config", str(config), "--run-dir", str(tmp_path / "r"), timeout=HARD_DEADLINE_S
    )
    assert done.returncode == 1, done.stderr
    assert (
        done.stderr.strip().splitlines()[-1].startswith("claw: error: every episode failed (2 ended in error")
    )
