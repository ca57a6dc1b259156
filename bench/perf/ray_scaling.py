"""Ray scaling: episodes/s of one synthetic run on the single-process runner and on 1, 2 and 4 local Ray
workers, in the same invocation, and the Ray driver's CPU per episode.

`python -m bench.perf.ray_scaling --json OUT [--n 8] [--latency-ms 300] [--episodes 2] [--kernels 2]`

Every configuration runs the same suite, seed and samples (frames rendered once, before any timing)
against one shared mock model server with its latency model (`--latency-ms` per request plus 1 ms per
completion token, as a remote GPU replica would answer). Ray is a private one-node cluster on 127.0.0.1
(`ray start --head`, `--cpus` logical CPUs split evenly between 4 workers), started once and stopped at
the end. Figures per configuration:
`episodes_per_s` over the episode phase (first `EpisodeStarted` to last `EpisodeFinished` in its
`events.jsonl`) and `wall_s` with start-up; `speedup_k` is the k-worker rate over the single-process
rate; `driver_cpu_ms_per_episode` is this process's CPU time (every thread: `run_eval`, the dispatcher,
Ray's client, drawing samples) during the 4-worker run, per episode; `driver_only_*` is the driver's own
path alone (`bench.perf._ray_driver`: 1,000 recorded episodes through the dispatcher and the real sinks
from 64 stand-in workers, no Ray), `ray_call_cpu_ms` the driver's CPU per call to a worker actor (a 1 kB
`take`-like round trip) and `ray_calls_per_episode` how many batch calls a run made per episode. The
machine's load average is
printed and recorded beside them: on a small shared machine the workers compete for the same cores.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import msgspec
import psutil

from bench.perf._cli import say, write_figures
from bench.perf._ray_driver import driver_only, ray_call_cpu_ms
from claw._files import temporary_directory
from claw.config import EndpointConfig, EvalConfig, InputsConfig, Limits, ModelsConfig, RayConfig
from claw.distributed.cluster import RayExecutor, import_ray
from claw.events import EpisodeFinished, EpisodeStarted, decode_event
from claw.llm import start_mock_server
from claw.runtime.runner import run_eval
from claw.suite import SuiteOptions, get_suite

__all__ = ["ray_scaling"]

WORKER_COUNTS = (1, 2, 4)


def _render(config: EvalConfig) -> None:
    options = SuiteOptions(n=config.n, seed=config.seed, media_dir=config.inputs.media_dir or "media")
    for _sample in get_suite(config.suite, options).samples():
        pass


def _episode_rate(run_dir: Path) -> tuple[int, float]:
    events = [decode_event(line) for line in (run_dir / "events.jsonl").read_bytes().splitlines()]
    starts = [e.t_wall for e in events if isinstance(e, EpisodeStarted)]
    ends = [e.t_wall for e in events if isinstance(e, EpisodeFinished)]
    span = max(ends) - min(starts) if starts and ends else 0.0
    return len(ends), len(ends) / span if span > 0 else 0.0


def _cpu_s() -> float:
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


async def _timed(config: EvalConfig, workers: int | None, cpus: float) -> dict[str, float]:
    executor = None
    if workers is not None:
        ray_config = RayConfig(address="local", workers=workers, worker_cpus=cpus / max(WORKER_COUNTS))
        config = msgspec.structs.replace(config, ray=ray_config)
        executor = RayExecutor(ray_config)
    cpu, wall = _cpu_s(), time.perf_counter()
    summary = await run_eval(config, executor=executor)
    wall, cpu = time.perf_counter() - wall, _cpu_s() - cpu
    episodes, rate = _episode_rate(Path(str(config.run_dir)))
    calls = {"ray_calls_per_episode": round(executor.batches / max(episodes, 1), 1)} if executor else {}
    return {
        **calls,
        "episodes": episodes,
        "accuracy": round(summary.accuracy, 4),
        "episodes_per_s": round(rate, 3),
        "wall_s": round(wall, 1),
        "driver_cpu_ms_per_episode": round(1000 * cpu / max(episodes, 1), 1),
    }


@asynccontextmanager
async def _local_cluster(folder: Path, cpus: float) -> AsyncIterator[str]:
    """A one-node Ray cluster of `cpus` CPUs on 127.0.0.1 in its own session (`ray start --block`), with
    its own auth token and temp folder; stopped (by its session) when the block ends."""
    token = folder / "ray-auth-token"
    token.write_text(secrets.token_hex(32))
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token), RAY_USAGE_STATS_ENABLED="0")
    port = _free_port()
    command = [str(Path(sys.executable).parent / "ray"), "start", "--head", "--block", f"--port={port}"]
    command += ["--node-ip-address=127.0.0.1", f"--num-cpus={cpus:g}", "--include-dashboard=false"]
    command += [f"--temp-dir={folder / 'ray'}", "--disable-usage-stats"]
    head = await anyio.to_thread.run_sync(
        lambda: subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
    )
    try:
        await anyio.to_thread.run_sync(_wait_for_port, port, head)
        yield f"127.0.0.1:{port}"
    finally:
        head.terminate()  # `ray start --block` stops its node's processes on SIGTERM
        try:
            await anyio.to_thread.run_sync(lambda: head.wait(timeout=60))
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(head.pid, signal.SIGKILL)  # anything of that session still there


def _wait_for_port(port: int, head: subprocess.Popen[bytes], limit_s: float = 300.0) -> None:
    deadline = time.monotonic() + limit_s
    while head.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=5):
            return
        time.sleep(0.5)  # noqa: TID251 - runs in a worker thread
    raise RuntimeError(f"the Ray head did not come up on port {port} (exit status {head.poll()})")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _configs(base: EvalConfig, folder: Path) -> Iterator[tuple[str, int | None, EvalConfig]]:
    yield "single", None, msgspec.structs.replace(base, run_dir=str(folder / "single"))
    for count in WORKER_COUNTS:
        yield f"ray_{count}", count, msgspec.structs.replace(base, run_dir=str(folder / f"ray{count}"))


async def ray_scaling(n: int, latency_ms: float, episodes: int, kernels: int, cpus: float) -> dict[str, Any]:
    """Run every configuration; the figures."""
    latency = ["--base-ms", str(latency_ms), "--decode-ms-per-token", "1", "--model", "mock"]
    async with temporary_directory(prefix="claw-rayscale-") as folder:
        async with start_mock_server("scripted", seed=0, extra_args=latency) as url:
            base = EvalConfig(
                n=n,
                models=ModelsConfig(agent=[EndpointConfig(url=url, model="mock")]),
                inputs=InputsConfig(media_dir=str(folder / "media")),
                limits=Limits(episodes=episodes, kernels=kernels),
            )
            await anyio.to_thread.run_sync(_render, base)
            async with _local_cluster(folder, cpus) as address:
                ray = import_ray()  # after the cluster's token is in the environment: Ray reads it at import
                connect = {"address": address, "log_to_driver": False}
                await anyio.to_thread.run_sync(lambda: ray.init(**connect))
                try:
                    figures = {name: await _timed(c, w, cpus) for name, w, c in _configs(base, folder)}
                    call_ms = await ray_call_cpu_ms(ray)
                finally:
                    await anyio.to_thread.run_sync(ray.shutdown)
            (folder / "replay").mkdir()
            driver = await driver_only(folder / "single" / "events.jsonl", folder / "replay")
    single = figures["single"]["episodes_per_s"] or 1e-9
    return {
        "n": n,
        "latency_ms": latency_ms,
        "limits_per_worker": {"episodes": episodes, "kernels": kernels},
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        **figures,
        **{f"speedup_{k}": round(figures[f"ray_{k}"]["episodes_per_s"] / single, 2) for k in WORKER_COUNTS},
        "driver_cpu_ms_per_episode": figures["ray_4"]["driver_cpu_ms_per_episode"],
        **driver,
        "ray_call_cpu_ms": call_ms,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the figures (and write them as JSON with --json)."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf.ray_scaling", description=__doc__)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--n", type=int, default=8, help="samples per configuration")
    parser.add_argument("--latency-ms", type=float, default=300.0, help="mock model time per request")
    parser.add_argument("--episodes", type=int, default=2, help="[limits] episodes of each runner")
    parser.add_argument("--kernels", type=int, default=2, help="[limits] kernels of each runner")
    parser.add_argument("--cpus", type=float, default=4.0, help="logical CPUs of the local Ray cluster")
    args = parser.parse_args(argv)
    options = {"use_uvloop": True} if sys.platform == "linux" else {}
    figures = anyio.run(
        ray_scaling, args.n, args.latency_ms, args.episodes, args.kernels, args.cpus, backend_options=options
    )
    for key, value in figures.items():
        say(f"{key}: {value}")
    write_figures(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
