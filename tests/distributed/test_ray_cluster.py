"""`claw eval --ray` on a local two-node Ray cluster (loopback only, in namespaces the test makes): one
worker is SIGKILLed mid-run and the run still ends with every sample exactly once and the same
per-episode scores and summary as a single-machine run with the same seed; a driver SIGKILLed mid-run
and started again resumes from the run directory to the same results."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
import pytest

from claw.events import EpisodeFinished, RunFinished, decode_event, decode_result
from claw.runtime.sinks import read_results
from tests._claw_cli import eval_command

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

N = "8"
SEED = "5"
HELPER = Path(__file__).with_name("cluster_run.py")
SUMMARY_FIELDS = ("n", "accuracy", "per_category", "answered", "forced", "errors", "failed", "status")


def _namespaces() -> list[str]:
    """An `unshare` command line giving a fresh network (loopback only) and PID namespace, or skip."""
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed (make ray)")
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs unshare and ip (util-linux, iproute2) to keep the cluster on loopback")
    for command in (
        ["unshare", "-n", "-p", "-f", "--mount-proc"],
        ["unshare", "-r", "-n", "-p", "-f", "--mount-proc"],
    ):
        if subprocess.run([*command, "true"], capture_output=True, check=False).returncode == 0:
            return command
    pytest.skip("this machine does not allow new network and PID namespaces")


def _single_machine(run_dir: Path) -> list[str]:
    return eval_command(run_dir, "--episodes", "2", "--kernels", "2", "--quiet", n=N, seed=SEED)


def _scores(run_dir: Path) -> dict[str, tuple[str | None, float, str]]:
    return {r.episode_id: (r.answer, r.score, r.reason) for r in read_results(run_dir / "results.jsonl")}


def _summary(run_dir: Path) -> dict[str, object]:
    summary = msgspec.json.decode((run_dir / "summary.json").read_bytes())
    return {key: summary[key] for key in SUMMARY_FIELDS}


def run_in_namespaces(
    unshare: list[str], script: Path, out: Path, run_dir: Path, n: str, seed: str
) -> dict[str, Any]:
    """Run a cluster `script` inside the namespaces with its own temp folder; return what it wrote to `out`.

    The folder is short (Unix socket paths) and the namespace's own: claw sweeps temp directories whose
    owner pid is gone, and from inside a PID namespace no pid outside it is visible."""
    private_tmp = tempfile.mkdtemp(prefix="clawray-", dir="/tmp")
    try:
        command = [*unshare, sys.executable, str(script), str(out), str(run_dir), n, seed, private_tmp]
        env = {**os.environ, "TMPDIR": private_tmp}
        ran = subprocess.run(command, capture_output=True, text=True, timeout=1100, check=False, env=env)
    finally:
        shutil.rmtree(private_tmp, ignore_errors=True)
    assert ran.returncode == 0, ran.stderr[-4000:]
    outcome: dict[str, Any] = json.loads(out.read_text())
    return outcome


def test_a_worker_or_the_driver_killed_mid_run_changes_nothing_in_the_results(tmp_path: Path) -> None:
    unshare = _namespaces()
    whole = subprocess.run(_single_machine(tmp_path / "whole"), capture_output=True, timeout=900, check=False)
    assert whole.returncode == 0, whole.stderr

    run_dir = tmp_path / "ray"
    outcome = run_in_namespaces(unshare, HELPER, tmp_path / "cluster.json", run_dir, N, SEED)
    for name in ("worker_killed", "resumed"):
        run = outcome[name]
        assert run["returncode"] == 0, f"{name} run failed or hung:\n" + run["output"][-4000:]

    worker_killed = outcome["worker_killed"]["output"]
    assert re.search(r"ray worker w1 lost \(", worker_killed), worker_killed[-4000:]
    requeued = re.findall(
        r"ray worker w1 lost.*; (\d+) (?:unfinished|more) episodes re-queued", worker_killed
    )
    assert sum(map(int, requeued)) >= 1, "the worker was killed with nothing left to run"
    _assert_same_as(tmp_path / "whole", run_dir)

    restarted = Path(f"{run_dir}-driver-killed")
    assert outcome["driver_killed"]["returncode"] == -9
    done_before = outcome["driver_killed"]["results"]
    assert 1 <= done_before < int(N), "the driver was not killed mid-run"
    assert f"resuming past {done_before} finished episodes" in outcome["resumed"]["output"]
    _assert_same_as(tmp_path / "whole", restarted)


def _assert_same_as(whole: Path, run_dir: Path) -> None:
    assert _scores(run_dir) == _scores(whole)
    assert _summary(run_dir) == _summary(whole)
    ids = [decode_result(line).episode_id for line in (run_dir / "results.jsonl").read_bytes().splitlines()]
    assert len(ids) == len(set(ids)) == int(N), "an episode was recorded twice or lost"
    events = [decode_event(line) for line in (run_dir / "events.jsonl").read_bytes().splitlines()]
    finished = Counter(e.episode_id for e in events if isinstance(e, EpisodeFinished))
    assert set(finished.values()) == {1}
    assert isinstance(events[-1], RunFinished) and events[-1].status == "success"
