"""`claw bench`: the runtime's figures measured in one run, printed as a table and written as JSON.

Parts, in order: saturation (the model at 0 ms: the most episodes/s the machine gives, and the CPU per
episode split by process; the trivial cells are provably contained, so kernels are reset and reused, and
`fork_path_*` repeats the first level forking a kernel per episode, as runs whose cells call tools do);
the mock model's latency model at concurrency 1, 8, 64, 256 and 512
(episodes/s, efficiency against the ideal, runner CPU per step, runner RSS); a profile of the biggest CPU
share (the runner's own functions, or the kernel lifecycle phases); events/s through the real sinks with a
live tail; and the kernel-pool, perception and model-client benchmarks' headline figures. The keys other
tools read: `efficiency_512`, `cpu_ms_per_step`, `cpu_ms_per_episode`, `events_per_s`, `runner_rss_mb_512`.

`--quick` (under a minute) keeps every key but measures less: saturation at 8, latency levels 1 and 8 on
real kernels, 512 on the in-process fake kernel (the output says so), short sink and pool runs, and no
perception or model-client runs.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import anyio

from bench.perf import kernel_pool, llm_pool, perception_batching
from bench.perf._cli import say, write_figures
from bench.perf._workload import Workload, open_workload
from bench.perf.profile import kernel_lifecycle, runner_profile
from bench.perf.runtime import measure_level
from bench.perf.sink import measure_sink, read_events
from claw._files import temporary_directory

__all__ = ["KEYS", "BenchPlan", "add_arguments", "bench_command", "main", "run_bench"]

KEYS = ("efficiency_512", "cpu_ms_per_step", "cpu_ms_per_episode", "events_per_s", "runner_rss_mb_512")


@dataclass(frozen=True)
class BenchPlan:
    """What one `claw bench` run measures."""

    latency_ms: float = 500.0
    saturation_levels: tuple[int, ...] = (8, 64)
    latency_levels: tuple[int, ...] = (1, 8, 64, 256, 512)
    fake_levels: tuple[int, ...] = ()
    min_episodes: int = 120
    rounds: int = 2
    sink_copies: int = 2000
    pool_checkouts: int = 40
    lifecycle_kernels: int = 8
    others: bool = True

    @classmethod
    def quick(cls) -> BenchPlan:
        """The under-a-minute plan."""
        return cls(
            latency_ms=200.0,
            saturation_levels=(8,),
            latency_levels=(1, 8),
            fake_levels=(512,),
            min_episodes=16,
            rounds=1,
            sink_copies=200,
            pool_checkouts=5,
            lifecycle_kernels=3,
            others=False,
        )


async def run_bench(plan: BenchPlan) -> dict[str, object]:
    """Measure everything in `plan`; the figures (the five keys included)."""
    started = time.perf_counter()
    figures: dict[str, object] = {"plan": plan.__dict__.copy()}
    async with temporary_directory(prefix="claw-bench-") as folder:
        figures.update(await _saturation(plan, folder / "saturation"))
        figures.update(await _latency(plan, folder / "latency"))
        events = await anyio.to_thread.run_sync(read_events, folder / "saturation" / "events.jsonl")
        figures.update(await measure_sink(events, plan.sink_copies))
        figures.update(await _kernel_pool(plan, folder))
    if plan.others:
        figures.update(await _others())
    figures["bench_wall_s"] = round(time.perf_counter() - started, 1)
    _table(figures)
    return figures


async def _saturation(plan: BenchPlan, folder: Path) -> dict[str, object]:
    await anyio.Path(folder).mkdir()
    say("saturation: the model answers at once; episodes/s is what the machine gives (then the fork path:")
    say("  kernel reuse off, as when cells call the tools)")
    out: dict[str, object] = {}
    async with open_workload(folder, 0.0) as work:
        for c in plan.saturation_levels:
            episodes = max(plan.min_episodes, plan.rounds * c)
            level = await measure_level(work, c, episodes, 0.0, fake_kernel=False)
            out.update({f"saturated_{key}": value for key, value in level.items()})
        work.reuse = False
        c = plan.saturation_levels[0]
        fork = await measure_level(work, c, max(plan.min_episodes, plan.rounds * c), 0.0, fake_kernel=False)
        out.update({f"fork_path_{key}": value for key, value in fork.items()})
        work.reuse = True
        best = max(plan.saturation_levels, key=lambda c: float(out[f"saturated_episodes_per_s_{c}"]))  # type: ignore[arg-type]
        out["saturated_episodes_per_s"] = out[f"saturated_episodes_per_s_{best}"]
        out["cpu_ms_per_episode"] = out[f"saturated_cpu_ms_per_episode_{best}"]
        out["cpu_ms_per_episode_by_process"] = out[f"saturated_cpu_ms_per_episode_by_process_{best}"]
        out["cpu_ms_per_step"] = out[f"saturated_cpu_ms_per_step_{best}"]
        split = out["cpu_ms_per_episode_by_process"]
        out.update(await _profile(split, work, plan.lifecycle_kernels))  # type: ignore[arg-type]
    return out


async def _profile(split: dict[str, float], work: Workload, kernels: int) -> dict[str, object]:
    biggest = max(split, key=lambda name: split[name])
    say(f"biggest CPU share: {biggest} ({split[biggest]:.1f} ms/episode)")
    if biggest == "kernels":
        say("  a forked kernel's lifecycle (what reuse saves; a reused kernel costs its reset and cells):")
        phases = await kernel_lifecycle(kernels)
        for phase, ms in phases.items():
            say(f"  {phase:32s} {ms:8.2f} ms")
        return {"biggest_share": biggest, "profile": phases}
    lines = await runner_profile(work)
    for line in lines:
        say("  " + line)
    return {"biggest_share": biggest, "profile": lines}


async def _latency(plan: BenchPlan, folder: Path) -> dict[str, object]:
    await anyio.Path(folder).mkdir()
    say(f"latency model: every model call takes {plan.latency_ms:g} ms")
    out: dict[str, object] = {"latency_ms": plan.latency_ms}
    async with open_workload(folder, plan.latency_ms) as work:
        for c in plan.latency_levels:
            episodes = max(plan.rounds * c, min(plan.min_episodes, 20 * c))  # C = 1 waits on the model
            out.update(await measure_level(work, c, episodes, plan.latency_ms, fake_kernel=False))
        for c in plan.fake_levels:
            episodes = max(plan.min_episodes, plan.rounds * c)
            out.update(await measure_level(work, c, episodes, plan.latency_ms, fake_kernel=True))
            out[f"kernels_{c}"] = "in-process fake kernel (--quick): no kernel cost at this level"
            say(f"C={c:>4}: measured with the in-process fake kernel (--quick), not real kernels")
    return out


async def _kernel_pool(plan: BenchPlan, folder: Path) -> dict[str, object]:
    frame = await anyio.to_thread.run_sync(kernel_pool._write_frame, folder)
    figures = await kernel_pool.claw_pool(4, plan.pool_checkouts, 20, frame)
    say(
        f"kernel pool: checkout p50 {figures['checkout_ms_p50']} ms, "
        f"first cell {figures['first_cell_ms_p50']} ms, trivial cell {figures['trivial_cell_ms_p50']} ms, "
        f"replace {figures['replace_ms_p50']} ms, "
        f"{figures['idle_uss_mb']} MB per idle kernel"
    )
    return {f"pool_{key}": value for key, value in figures.items()}


async def _others() -> dict[str, object]:
    perception_args = perception_batching._parser().parse_args(["--requests", "96", "--clients", "1", "16"])
    perception = await perception_batching._main(perception_args)
    llm_args = llm_pool._parser().parse_args(["--episodes", "64", "512"])
    model = await llm_pool._main(llm_args)
    keep = ("speedup_", "latency_ratio_", "efficiency", "makespan")
    out = {f"perception_{k}": v for k, v in perception.items() if k.startswith(keep)}
    out.update({f"model_client_{k}": v for k, v in model.items() if k.startswith(keep)})
    return out


def _table(figures: dict[str, object]) -> None:
    say("")
    say(f"{'figure':40s} value")
    say("-" * 56)
    for key, value in figures.items():
        if isinstance(value, int | float | str) and not key.startswith("plan"):
            say(f"{key:40s} {value}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `claw bench` flags."""
    parser.add_argument("--json", type=Path, default=None, help="write every figure here as JSON")
    parser.add_argument("--quick", action="store_true", help="under a minute: fewer, smaller levels")
    parser.add_argument("--latency-ms", type=float, default=None, help="model latency per call")


def plan_from(args: argparse.Namespace) -> BenchPlan:
    """The plan the parsed flags ask for."""
    plan = BenchPlan.quick() if args.quick else BenchPlan()
    if args.latency_ms is not None:
        plan = BenchPlan(**{**plan.__dict__, "latency_ms": args.latency_ms})
    return plan


async def bench_command(args: argparse.Namespace) -> int:
    """Run `claw bench` with parsed flags: measure, print the table, write the JSON."""
    figures = await run_bench(plan_from(args))
    await anyio.to_thread.run_sync(write_figures, figures, args.json)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.perf.claw_bench`, the same as `claw bench`."""
    parser = argparse.ArgumentParser(prog="claw bench", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return anyio.run(bench_command, args, backend_options={"use_uvloop": True})


if __name__ == "__main__":
    raise SystemExit(main())
