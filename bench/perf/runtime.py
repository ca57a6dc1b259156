"""Runtime benchmark: episodes per second, efficiency against the ideal and CPU per episode split by
process, at several concurrency levels, on real confined kernels.

`python -m bench.perf.runtime --json OUT` runs the trivial `two-step` episode (`_workload`: a plan, one
cell, the answer; two input images; the real HTTP model client, event log and results sink) with the mock
model answering after `--latency-ms`. Each level C opens a pool of C kernels (its cold start is timed),
runs one warm-up episode, then `max(--min-episodes, C × --rounds)` episodes C at a time. Figures per
level: `episodes_per_s_C`; `efficiency_C` = achieved / ideal, the ideal being C episodes in flight each
waiting only on the model (3 × latency); `cpu_ms_per_step_C`, the runner's CPU per model call;
`cpu_ms_per_episode_C`, all processes' CPU per episode, and its split by process; `runner_rss_mb_C`.
`--steady` measures the same level a second way, as a long run is: the first C episodes start evenly
over one ideal episode (3 × latency) instead of at the same instant, every slot is refilled as its episode
ends, and `steady_efficiency_C` is the episodes finished per second between the end of that ramp and the
last start, over the same ideal C / (3 × latency). The default figure starts all C at once, so C replies
arrive together and C cells then queue for the CPU together (the worst case, and the one `efficiency_C`
reports); in a long run episodes end and start at different times.
`--fake-kernel` replaces kernels with an in-process fake (nothing but claw's own overhead); the output
says so. The trivial cells are provably contained, so the pool resets and reuses kernels; `--no-reuse`
forks one per episode, as a run whose cells call the tools does.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import anyio

from bench.perf._cli import say, write_figures
from bench.perf._workload import CALLS_PER_EPISODE, Workload, measured, open_workload, rss_mb
from claw._files import temporary_directory
from claw.sandbox import KernelPool

__all__ = ["measure_level", "run_levels"]


async def measure_level(
    workload: Workload, concurrency: int, episodes: int, latency_ms: float, *, fake_kernel: bool
) -> dict[str, object]:
    """One level: open its pool (C kernels), warm up, run `episodes`; the figures keyed by `_C`."""
    if fake_kernel:
        wall, cpu = await _level(workload, None, concurrency, episodes)
        return await _figures(concurrency, episodes, latency_ms, None, wall, cpu)
    opened = time.perf_counter()
    async with workload.pool(concurrency) as pool:
        cold_s = time.perf_counter() - opened
        workload.cpu.template_pid = pool.template_pid
        wall, cpu = await _level(workload, pool, concurrency, episodes)
    return await _figures(concurrency, episodes, latency_ms, cold_s, wall, cpu)


async def measure_steady(
    workload: Workload, concurrency: int, episodes: int, latency_ms: float
) -> dict[str, object]:
    """One level with staggered starts (see the module doc); figures keyed `steady_*_C`."""
    if latency_ms <= 0:
        raise ValueError("--steady needs a model latency (--latency-ms > 0) to spread the starts over")
    period = CALLS_PER_EPISODE * latency_ms / 1000
    async with workload.pool(concurrency) as pool:
        workload.cpu.template_pid = pool.template_pid
        await workload.run(1, 1, pool)
        _, cpu = await measured(
            workload.cpu, lambda: workload.run(episodes, concurrency, pool, spread_s=period)
        )
    starts = [began for began, _ in workload.timeline]
    ramp_end, last_start = min(starts) + period, max(starts)
    finished = sum(ramp_end <= end <= last_start for _, end in workload.timeline)
    if last_start <= ramp_end or finished == 0:
        raise ValueError("--steady needs at least 2 rounds (episodes >= 2 × level) to have a window")
    achieved = finished / (last_start - ramp_end)
    c = concurrency
    figures: dict[str, object] = {
        f"steady_episodes_per_s_{c}": round(achieved, 2),
        f"steady_efficiency_{c}": round(achieved / (c / period), 3),
        f"steady_cpu_ms_per_step_{c}": round(1000 * cpu["runner"] / (episodes * CALLS_PER_EPISODE), 2),
        f"steady_window_s_{c}": round(last_start - ramp_end, 1),
    }
    say(
        f"C={c:>4} steady: {achieved:7.2f} episodes/s  efficiency {figures[f'steady_efficiency_{c}']:.3f}"
        f"  (starts spread over {period:g} s; {finished} episodes in a {last_start - ramp_end:.1f} s window)"
    )
    return figures


async def _level(
    workload: Workload, pool: KernelPool | None, concurrency: int, episodes: int
) -> tuple[float, dict[str, float]]:
    await workload.run(1, 1, pool)  # warm-up: connections, caches, the first kernel's first cells
    return await measured(workload.cpu, lambda: workload.run(episodes, concurrency, pool))


async def _figures(
    c: int,
    episodes: int,
    latency_ms: float,
    cold_s: float | None,
    wall: float,
    cpu: dict[str, float],
) -> dict[str, object]:
    achieved = episodes / wall
    per_episode = {name: round(1000 * seconds / episodes, 2) for name, seconds in cpu.items()}
    figures: dict[str, object] = {
        f"episodes_per_s_{c}": round(achieved, 2),
        f"cpu_ms_per_step_{c}": round(1000 * cpu["runner"] / (episodes * CALLS_PER_EPISODE), 2),
        f"cpu_ms_per_episode_{c}": round(sum(per_episode.values()), 2),
        f"cpu_ms_per_episode_by_process_{c}": per_episode,
        f"runner_rss_mb_{c}": await anyio.to_thread.run_sync(rss_mb),
    }
    if latency_ms > 0:
        ideal = c / (CALLS_PER_EPISODE * latency_ms / 1000)
        figures[f"efficiency_{c}"] = round(achieved / ideal, 3)
    if cold_s is not None:
        figures[f"cold_start_s_{c}"] = round(cold_s, 2)
    split = "  ".join(f"{name} {ms:.1f}" for name, ms in per_episode.items())
    efficiency = f"  efficiency {figures[f'efficiency_{c}']:.3f}" if latency_ms > 0 else ""
    say(f"C={c:>4}: {achieved:7.2f} episodes/s{efficiency}  CPU ms/episode: {split}")
    return figures


async def run_levels(
    levels: list[int],
    *,
    latency_ms: float,
    rounds: int,
    min_episodes: int,
    fake_kernel: bool,
    reuse: bool = True,
    steady: bool = False,
) -> dict[str, object]:
    """Every level in one run against one model server; figures of all levels together."""
    kernels = "in-process fake kernel (no kernel cost measured)" if fake_kernel else "real confined kernels"
    figures: dict[str, object] = {"latency_ms": latency_ms, "kernels": kernels}
    say(f"runtime: two-step episodes, model latency {latency_ms:g} ms, {kernels}")
    async with temporary_directory(prefix="claw-bench-") as folder, open_workload(folder, latency_ms) as work:
        work.reuse = reuse
        figures["kernel_reuse"] = reuse
        for level in levels:
            episodes = max(min_episodes, level * rounds)
            figures.update(await measure_level(work, level, episodes, latency_ms, fake_kernel=fake_kernel))
            if steady:
                figures.update(await measure_steady(work, level, episodes, latency_ms))
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print figures and optionally write them as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf.runtime", description=__doc__)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--levels", default="1,8,64", help="concurrent episodes, comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="episodes per level at least level × rounds")
    parser.add_argument("--min-episodes", type=int, default=60, help="episodes per level at least this")
    parser.add_argument("--latency-ms", type=float, default=500.0, help="model latency per call")
    parser.add_argument("--fake-kernel", action="store_true", help="in-process fake kernels (no kernel cost)")
    parser.add_argument("--no-reuse", action="store_true", help="fork a kernel per episode (no clean reuse)")
    parser.add_argument(
        "--steady", action="store_true", help="also measure with starts spread over one ideal episode"
    )
    args = parser.parse_args(argv)
    levels = [int(level) for level in args.levels.split(",")]
    figures = anyio.run(
        lambda: run_levels(
            levels,
            latency_ms=args.latency_ms,
            rounds=args.rounds,
            min_episodes=args.min_episodes,
            fake_kernel=args.fake_kernel,
            reuse=not args.no_reuse,
            steady=args.steady,
        )
    )
    write_figures(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
