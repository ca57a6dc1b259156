"""The batching benchmark script runs end to end and writes the keys other tools read (no timing asserts)."""

from __future__ import annotations

import json
from pathlib import Path

import anyio

from bench.perf import perception_batching


async def test_the_benchmark_writes_its_summary(tmp_path: Path) -> None:
    out = tmp_path / "pb.json"
    argv = [
        "--json",
        str(out),
        "--requests",
        "4",
        "--clients",
        "1",
        "4",
        "--fixed-ms",
        "1",
        "--per-item-ms",
        "0",
    ]
    assert await anyio.to_thread.run_sync(perception_batching.main, argv) == 0
    summary = json.loads(await anyio.Path(out).read_text())
    assert {"speedup_4", "latency_ratio_1", "runs"} <= summary.keys()
    assert {(r["mode"], r["clients"]) for r in summary["runs"]} == {
        (m, n) for m in ("lock", "batch") for n in (1, 4)
    }
    assert all(r["errors"] == 0 and r["requests"] >= 4 for r in summary["runs"])
