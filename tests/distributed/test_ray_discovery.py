"""`[ray] discover`: a mock LLM server run under `claw serve register --ray` on a local two-node
loopback cluster is found by `claw eval --ray ... --ray-discover models` and serves every model call,
with the same per-episode scores and summary as a single-machine run; a stale registry entry (a server
that died without deregistering) is dropped, and stopping the registered server removes its entry."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from claw.events import LLMResponded, decode_event
from tests._claw_cli import eval_command
from tests.distributed.test_ray_cluster import _namespaces, _scores, _summary, run_in_namespaces

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

N = "4"
SEED = "3"
HELPER = Path(__file__).with_name("discovery_run.py")


def test_a_registered_model_server_is_discovered_and_used(tmp_path: Path) -> None:
    unshare = _namespaces()
    whole_dir = tmp_path / "whole"
    single = eval_command(whole_dir, "--episodes", "2", "--kernels", "2", "--quiet", n=N, seed=SEED)
    whole = subprocess.run(single, capture_output=True, timeout=900, check=False)
    assert whole.returncode == 0, whole.stderr

    run_dir = tmp_path / "ray"
    outcome = run_in_namespaces(unshare, HELPER, tmp_path / "discovery.json", run_dir, N, SEED)
    url, stale = outcome["url"], outcome["stale"]
    assert outcome["registered"] == sorted([url, stale])
    run = outcome["eval"]
    assert run["returncode"] == 0, run["output"][-4000:]
    assert f"dropped stale model server {stale}" in run["output"]
    assert "model the model servers registered on the Ray cluster" in run["output"], run["output"][-2000:]
    assert outcome["after_run"] == [url], "the stale entry was not removed"
    assert outcome["after_stop"] == [], "the stopped server did not deregister"

    events = [decode_event(line) for line in (run_dir / "events.jsonl").read_bytes().splitlines()]
    endpoints = {e.endpoint for e in events if isinstance(e, LLMResponded)}
    assert endpoints == {url}, "model calls did not all go to the discovered server"
    assert _scores(run_dir) == _scores(whole_dir)
    assert _summary(run_dir) == _summary(whole_dir)
