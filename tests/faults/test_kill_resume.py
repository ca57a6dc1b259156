"""`claw eval` killed with SIGKILL mid-run (no chance to clean up) and then resumed ends with the same
score table as an uninterrupted run with the same seed: nothing lost, nothing counted twice, the helper
processes of the killed run gone, and a partial line at the end of the logs repaired before appending."""

from __future__ import annotations

import json
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from claw.events import RunFinished, decode_event, decode_result
from claw.runtime.sinks import read_results
from tests._claw_cli import eval_command

pytestmark = pytest.mark.slow

N = "8"
SEED = "3"


def _eval(run_dir: Path, *extra: str) -> list[str]:
    return eval_command(run_dir, *extra, n=N, seed=SEED)


def _scores(run_dir: Path) -> dict[str, tuple[str | None, float, str]]:
    return {r.episode_id: (r.answer, r.score, r.reason) for r in read_results(run_dir / "results.jsonl")}


def _kill_after_first_result(run_dir: Path) -> tuple[int, list[psutil.Process]]:
    """Start a run, SIGKILL it once one episode's result is on disk; return its pid and the processes it
    started. Waits for the result file itself: a progress line may be printed only after several episodes
    (lines are throttled), by which time a fast run may have finished them all."""
    results = run_dir / "results.jsonl"
    command = _eval(run_dir, "--episodes", "2")
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
        deadline = time.monotonic() + 600
        while not (results.exists() and b"\n" in results.read_bytes()):
            assert time.monotonic() < deadline, "no result within 10 minutes"
            try:
                ended = process.wait(timeout=0.01)  # a short pause that also notices the run ending
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError(f"the run ended (exit {ended}) before any result was recorded")
        helpers = psutil.Process(process.pid).children(recursive=True)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
    return process.pid, helpers


def test_kill_9_then_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    whole = subprocess.run(
        _eval(tmp_path / "whole", "--quiet"), capture_output=True, timeout=600, check=False
    )
    assert whole.returncode == 0, whole.stderr

    run_dir = tmp_path / "killed"
    killed_pid, helpers = _kill_after_first_result(run_dir)
    _gone, alive = psutil.wait_procs(helpers, timeout=30)
    assert not alive, f"left running after SIGKILL: {[p.cmdline() for p in alive]}"
    done_before = _scores(run_dir)
    assert 1 <= len(done_before) < int(N)
    with (run_dir / "events.jsonl").open("ab") as events:  # as if the kill had cut a line in half
        events.write(b'{"event":"cell_exec')

    resumed = subprocess.run(_eval(run_dir, "--quiet"), capture_output=True, timeout=600, check=False)
    assert resumed.returncode == 0, resumed.stderr

    assert _scores(run_dir) == _scores(tmp_path / "whole")
    left = [p for p in Path(tempfile.gettempdir()).glob("claw-*") if f"{killed_pid}-" in p.name]
    assert not left, f"the killed run's sockets and kernel directories were not cleaned: {left}"
    lines = (run_dir / "results.jsonl").read_bytes().splitlines()
    ids = [decode_result(line).episode_id for line in lines]
    assert len(ids) == len(set(ids)) == int(N), "an episode was recorded twice or lost"
    events = [decode_event(line) for line in (run_dir / "events.jsonl").read_bytes().splitlines()]
    assert isinstance(events[-1], RunFinished) and events[-1].status == "success"
    assert _table(run_dir) == _table(tmp_path / "whole")


def _table(run_dir: Path) -> tuple[object, ...]:
    summary = json.loads((run_dir / "summary.json").read_text())
    return summary["n"], summary["accuracy"], summary["per_category"], summary["errors"]
