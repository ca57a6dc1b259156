"""Soak benchmark: a fixed count of trivial episodes, 512 in flight on 512 real confined kernels, and the
runner's memory after warm-up against at the end (growth per episode is a leak).

`python -m bench.perf.soak --json OUT [--concurrency 512] [--episodes 4096] [--latency-ms 500]` runs the
`bench.perf._workload` episode. The first wave (`concurrency` episodes) is the warm-up; `runner_rss_mb_warm`
is read after it and `runner_rss_mb_end` after the rest, with `rss_kb_per_episode` their difference
spread over the episodes in between.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import anyio

from bench.perf._cli import say, write_figures
from bench.perf._workload import open_workload, rss_mb
from claw._files import temporary_directory

__all__ = ["soak"]


async def soak(concurrency: int, episodes: int, latency_ms: float) -> dict[str, object]:
    """Run the soak; its figures."""
    async with temporary_directory(prefix="claw-soak-") as folder, open_workload(folder, latency_ms) as work:
        opened = time.perf_counter()
        async with work.pool(concurrency) as pool:
            cold_s = time.perf_counter() - opened
            await work.run(concurrency, concurrency, pool)
            gc.collect()
            warm = await anyio.to_thread.run_sync(rss_mb)
            rest = max(0, episodes - concurrency)
            wall = await work.run(rest, concurrency, pool)
            gc.collect()
            end = await anyio.to_thread.run_sync(rss_mb)
            died = pool.statistics().died
    figures: dict[str, object] = {
        "soak_concurrency": concurrency,
        "soak_episodes": episodes,
        "soak_cold_start_s": round(cold_s, 2),
        "soak_episodes_per_s": round(rest / wall, 2) if rest else None,
        "runner_rss_mb_warm": warm,
        "runner_rss_mb_end": end,
        "rss_kb_per_episode": round(1024 * (end - warm) / rest, 2) if rest else None,
        "kernels_died": died,
    }
    say(
        f"soak: {episodes} episodes, {concurrency} in flight: runner RSS {warm} MB after warm-up, "
        f"{end} MB at the end ({figures['rss_kb_per_episode']} kB/episode)"
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the soak; print and write the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf.soak", description=__doc__)
    parser.add_argument("--concurrency", type=int, default=512)
    parser.add_argument("--episodes", type=int, default=4096)
    parser.add_argument("--latency-ms", type=float, default=500.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    figures = anyio.run(
        soak, args.concurrency, args.episodes, args.latency_ms, backend_options={"use_uvloop": True}
    )
    write_figures(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
