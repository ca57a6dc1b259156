"""Where the CPU of a trivial episode goes: a profile of the runner (cProfile over a short level, the
functions with the most own time) and the kernel lifecycle split into phases (fork and start, ready,
warm-up, kill and reap), each phase's CPU read from the kernel process tree.

Used by `claw bench` for whichever process has the biggest share; `python -m bench.perf.profile` prints
both.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time

import anyio

from bench.perf._cli import say
from bench.perf._workload import Workload, _kernel_tree_cpu, open_workload
from claw._files import temporary_directory
from claw.config import SandboxConfig
from claw.sandbox._kernel import PooledKernel
from claw.sandbox._launch import _WARM_UP, KernelLauncher

__all__ = ["kernel_lifecycle", "runner_profile"]

_SETTLE_S = 0.1
"""Pause between phases so a kernel's background threads finish what the phase started."""


async def runner_profile(
    workload: Workload, episodes: int = 40, concurrency: int = 8, top: int = 12
) -> list[str]:
    """The runner's `top` functions by own CPU time over `episodes` episodes on real kernels."""
    async with workload.pool(concurrency) as pool:
        await workload.run(1, 1, pool)
        profiler = cProfile.Profile(time.process_time)  # CPU, not wall: waiting is free
        profiler.enable()
        await workload.run(episodes, concurrency, pool)
        profiler.disable()
    stats = pstats.Stats(profiler)
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:top]  # type: ignore[attr-defined]
    lines = []
    for (file, line, name), (_, calls, own, _cumulative, _) in rows:
        where = f"{file.rsplit('/site-packages/', 1)[-1].rsplit('/wt-', 1)[-1]}:{line}"
        lines.append(
            f"{1000 * own / episodes:7.2f} ms/episode own  {calls / episodes:8.1f} calls  {name} ({where})"
        )
    return lines


async def kernel_lifecycle(kernels: int = 8) -> dict[str, float]:
    """CPU ms per kernel of each lifecycle phase, over `kernels` kernels started one at a time."""
    phases = {"start": 0.0, "ready": 0.0, "warm_up": 0.0, "kill_and_reap": 0.0}
    async with KernelLauncher(SandboxConfig(), size=1, max_stdout_chars=4000, ready_timeout=60.0) as launcher:
        assert launcher.template is not None and launcher.template.hello is not None
        template = launcher.template.hello.pid

        async def cpu() -> float:
            await anyio.sleep(_SETTLE_S)
            return await anyio.to_thread.run_sync(_kernel_tree_cpu, template)

        for _ in range(kernels):
            before = await cpu()
            kernel: PooledKernel = await launcher.start_unready()
            started = await cpu()
            await kernel.wait_ready(60.0)
            ready = await cpu()
            await kernel.run_silently(_WARM_UP, timeout=60.0)
            warm = await cpu()
            await launcher.discard(kernel)
            gone = await cpu()
            for phase, seconds in zip(
                phases, (started - before, ready - started, warm - ready, gone - warm), strict=True
            ):
                phases[phase] += seconds
    return {f"kernel_{phase}_cpu_ms": round(1000 * s / kernels, 2) for phase, s in phases.items()}


async def _main() -> None:
    async with temporary_directory(prefix="claw-profile-") as folder, open_workload(folder, 0.0) as work:
        for line in await runner_profile(work):
            say(line)
    started = time.perf_counter()
    for phase, ms in (await kernel_lifecycle()).items():
        say(f"{phase:32s} {ms:8.2f}")
    say(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    anyio.run(_main)
    sys.exit(0)
