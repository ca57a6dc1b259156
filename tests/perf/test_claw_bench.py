"""`claw bench` writes the figures other tools read (the five keys), measured for real: a tiny plan
through `run_bench`, and the `--quick` command line end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.perf.claw_bench import KEYS, BenchPlan, run_bench

pytestmark = pytest.mark.slow

TINY = BenchPlan(
    latency_ms=20.0,
    saturation_levels=(2,),
    latency_levels=(1,),
    fake_levels=(512,),
    min_episodes=4,
    rounds=1,
    sink_copies=20,
    pool_checkouts=2,
    lifecycle_kernels=1,
    others=False,
)


@pytest.mark.anyio
@pytest.mark.timeout(600)
async def test_a_tiny_plan_measures_every_key() -> None:
    figures = await run_bench(TINY)
    for key in KEYS:
        assert isinstance(figures[key], float) and figures[key] > 0, key  # type: ignore[operator]
    split = figures["cpu_ms_per_episode_by_process"]
    assert isinstance(split, dict) and set(split) == {"runner", "model_server", "kernels"}
    assert split["kernels"] > 0  # real kernels ran the saturation level
    assert figures["kernels_512"].startswith("in-process fake kernel")  # type: ignore[union-attr]
    assert figures["biggest_share"] in split and figures["profile"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.timeout(600)
def test_quick_command_writes_the_keys(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    claw = Path(sys.executable).with_name("claw")
    done = subprocess.run(
        [str(claw), "bench", "--quick", "--json", str(out)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert all(isinstance(figures[key], float) for key in KEYS)
    assert "efficiency_512" in done.stdout and "events_per_s" in done.stdout
