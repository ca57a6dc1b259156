"""Kernel pool benchmark: what a kernel costs claw versus a plain Jupyter kernel, on this machine.

`python -m bench.perf.kernel_pool --json OUT` measures, in one run:

- `cold_start_ms_p50`: a plain ipykernel started by jupyter_client's AsyncKernelManager until ready;
- `reset_ms_p50`: `%reset -f` on that kernel (how the reference reuses kernels between episodes);
- `checkout_ms_p50` / `checkout_ms_p95`: `pool.checkout(setup)` on a warm claw pool: the kernel is
  taken, the episode's setup written and the bootstrap sent (it runs while the model writes its first
  cell; `first_cell_ms_p50` is the first cell after checkout, which waits for it);
- `trivial_cell_ms_p50`: `kernel.execute("x = 1")` round trip, report included;
- `replace_ms_p50`: from returning a kernel until its replacement (forked from the template) is ready;
- `idle_uss_mb`: unique memory (USS) per idle pooled kernel (keeper + ipykernel processes), plus the
  template's own USS once (`template_uss_mb`), which every kernel shares.

Confinement is whatever `SandboxConfig()` gives here (namespaces when available).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import anyio
import psutil
from jupyter_client.manager import AsyncKernelManager

from bench.perf._cli import say, write_figures
from claw.config import SandboxConfig
from claw.sandbox import KernelPool
from claw.suite import Frame, Video
from claw.wire.kernel import KernelSetup


def _ms(samples: list[float], q: float = 0.5) -> float:
    ordered = sorted(samples)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def _setup(frame: Path) -> KernelSetup:
    video = Video(name="v", frames=(Frame(path=str(frame), index=0),))
    return KernelSetup(episode_id="bench", videos=(video,), answer_format="number", metadata={"scene": "s"})


async def _execute(client: object, code: str) -> None:
    reply = await client.execute(code, reply=True, timeout=60)  # type: ignore[attr-defined]
    assert reply["content"]["status"] == "ok", reply


async def cold_kernel(runs: int, resets: int) -> dict[str, float]:
    """Cold AsyncKernelManager starts, and %reset -f on the last one."""
    starts: list[float] = []
    reset_times: list[float] = []
    for i in range(runs):
        manager = AsyncKernelManager(kernel_name="python3")
        started = time.perf_counter()
        await manager.start_kernel()
        client = manager.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        starts.append(time.perf_counter() - started)
        if i == runs - 1:
            for _ in range(resets):
                await _execute(client, "import numpy as np\na = np.zeros(1000); b = list(range(100))")
                t = time.perf_counter()
                await _execute(client, "%reset -f")
                reset_times.append(time.perf_counter() - t)
        client.stop_channels()
        await manager.shutdown_kernel(now=True)
    return {"cold_start_ms_p50": _ms(starts), "reset_ms_p50": _ms(reset_times)}


async def _wait_full(pool: KernelPool) -> float:
    started = time.perf_counter()
    while pool.statistics().idle < pool.size:  # noqa: ASYNC110 - a benchmark polls the public statistics
        await anyio.sleep(0.002)
    return time.perf_counter() - started


def _idle_uss(pool: KernelPool) -> tuple[float, float]:
    assert pool.template_pid is not None
    template = psutil.Process(pool.template_pid)
    kernels = template.children(recursive=True)
    total = sum(process.memory_full_info().uss for process in kernels)
    return total / pool.size / 2**20, template.memory_full_info().uss / 2**20


async def claw_pool(size: int, checkouts: int, cells: int, frame: Path) -> dict[str, float]:
    """Checkout, trivial cell, replacement and idle memory on a warm pool."""
    checkout_times: list[float] = []
    cell_times: list[float] = []
    first_cell_times: list[float] = []
    replace_times: list[float] = []
    started = time.perf_counter()
    async with KernelPool(SandboxConfig(), size=size, reuse_clean=False) as pool:  # every checkout forks
        pool_start = time.perf_counter() - started
        await _wait_full(pool)
        await anyio.sleep(1.0)
        uss, template_uss = await anyio.to_thread.run_sync(_idle_uss, pool)  # psutil reads /proc
        for i in range(checkouts):
            t = time.perf_counter()
            async with pool.checkout(_setup(frame)) as kernel:
                checkout_times.append(time.perf_counter() - t)
                t = time.perf_counter()
                await kernel.execute("x = 0", timeout=30)
                first_cell_times.append(time.perf_counter() - t)
                for _ in range(cells if i == 0 else 1):
                    t = time.perf_counter()
                    await kernel.execute("x = 1", timeout=30)
                    cell_times.append(time.perf_counter() - t)
            replace_times.append(await _wait_full(pool))
        confined = pool.statistics().confined
    return {
        "checkout_ms_p50": _ms(checkout_times),
        "checkout_ms_p95": _ms(checkout_times, 0.95),
        "first_cell_ms_p50": _ms(first_cell_times),
        "trivial_cell_ms_p50": _ms(cell_times),
        "trivial_cell_ms_p95": _ms(cell_times, 0.95),
        "replace_ms_p50": _ms(replace_times),
        "idle_uss_mb": round(uss, 2),
        "template_uss_mb": round(template_uss, 2),
        "pool_start_s": round(pool_start, 3),
        "pool_size": size,
        "confined": confined,
    }


def _write_frame(directory: Path) -> Path:
    from PIL import Image

    frame = directory / "f.png"
    Image.new("RGB", (64, 48)).save(frame)
    directory.chmod(0o755)  # kernels may run as another uid
    return frame


async def main(args: argparse.Namespace) -> dict[str, float]:
    """Run the cold-kernel and pooled-kernel measurements and return their figures by name."""
    with tempfile.TemporaryDirectory(prefix="claw-bench-") as directory:
        frame = _write_frame(Path(directory))
        results = await cold_kernel(args.cold_runs, args.resets)
        results.update(await claw_pool(args.size, args.checkouts, args.cells, frame))
    return results


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--size", type=int, default=4, help="pool size")
    parser.add_argument("--checkouts", type=int, default=40)
    parser.add_argument("--cells", type=int, default=200, help="trivial cells in the first checkout")
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--resets", type=int, default=20)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = _parse(sys.argv[1:])
    figures = anyio.run(main, arguments)
    for key, value in figures.items():
        say(f"{key:24s} {value}")
    if arguments.json is not None:
        write_figures(figures, arguments.json)
