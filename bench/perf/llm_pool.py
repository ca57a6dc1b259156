"""LLM client-layer benchmark: many concurrent multi-step episodes against 4 mock endpoints.

`python -m bench.perf.llm_pool --json OUT` starts 4 mock LLM servers (child processes, echo policy, the
latency model: 20 ms + prefill per uncached prompt token + a cheaper rate per cached one + 10 ms per
output token, 64 sequences per server) and runs 64 and then 512 concurrent episodes through `open_llm`
(per-endpoint limit 64). Each episode makes `--steps` requests whose transcripts grow append-only, as
the agent's do; observation lengths (and so reply lengths and service times) vary per step, seeded.

Reported per concurrency: `efficiency_N` = ideal / achieved wall time, where the ideal is the same
closed-loop workload (the service times the servers' token counts imply) on 256 interchangeable slots
with zero client overhead and global first-come-first-served (`ideal_makespan`); client CPU per request
(this process only: pool, HTTP, JSON); and `prefix_hit_share`, the share of non-first requests whose
messages extend an earlier whole request exactly *on the server that received it* (counted by the
servers from the wire bytes, so it also measures that episodes stayed on their endpoint).
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import aiohttp
import anyio
import msgspec

from bench.perf._cli import say, write_figures
from claw.config import EndpointConfig, ModelsConfig
from claw.llm import ChatRequest, Message, RoleRouter, open_llm, start_mock_server
from servers.mockllm.__main__ import loop_options
from servers.mockllm.latency import LatencyModel
from servers.mockllm.server import ServerStats

ENDPOINTS = 4
SYSTEM = Message(role="system", content="# claw agent\n" + "You write one Python cell per turn. " * 160)


class Run(msgspec.Struct, frozen=True, kw_only=True):
    """One concurrency level."""

    episodes: int
    requests: int
    wall_s: float
    ideal_s: float
    efficiency: float
    throughput_rps: float
    latency_ms_p50: float
    latency_ms_p95: float
    client_cpu_ms_per_request: float
    prefix_hit_share: float
    sticky_hits: int
    failed_calls: int


class _Samples:
    """What the episodes record: each request's latency, each episode's modelled service times."""

    def __init__(self) -> None:
        self.latency: list[float] = []
        self.chains: list[list[float]] = []


def ideal_makespan(chains: Sequence[Sequence[float]], slots: int) -> float:
    """Wall time of the closed-loop workload on `slots` interchangeable server slots with no overhead.

    Every episode issues its next request the instant the previous one finishes; a free slot takes the
    request that has waited longest. This is the ideal the client layer is measured against.
    """
    ready = [(0.0, i, 0) for i in range(len(chains)) if chains[i]]
    heapq.heapify(ready)
    free_at = [0.0] * slots
    end = 0.0
    while ready:
        t, episode, step = heapq.heappop(ready)
        start = max(t, heapq.heappop(free_at))
        done = start + chains[episode][step]
        heapq.heappush(free_at, done)
        end = max(end, done)
        if step + 1 < len(chains[episode]):
            heapq.heappush(ready, (done, episode, step + 1))
    return end


def _latency(args: argparse.Namespace) -> LatencyModel:
    return LatencyModel(
        base_ms=args.base_ms, prefill_ms_per_token=args.prefill_ms,
        cached_prefill_ms_per_token=args.cached_prefill_ms, decode_ms_per_token=args.decode_ms,
        max_batch=args.max_batch,
    )  # fmt: skip


def _server_flags(model: LatencyModel) -> list[str]:
    return [
        "--base-ms", str(model.base_ms), "--prefill-ms-per-token", str(model.prefill_ms_per_token),
        "--cached-prefill-ms-per-token", str(model.cached_prefill_ms_per_token),
        "--decode-ms-per-token", str(model.decode_ms_per_token), "--max-batch", str(model.max_batch),
    ]  # fmt: skip


@asynccontextmanager
async def _servers(model: LatencyModel) -> AsyncIterator[list[str]]:
    async with AsyncExitStack() as stack:
        urls: list[str] = [""] * ENDPOINTS

        async def start(i: int) -> None:
            server = start_mock_server("echo", seed=i, extra_args=_server_flags(model))
            urls[i] = await stack.enter_async_context(server)

        for i in range(ENDPOINTS):  # sequential: an exit stack is not safe to enter from several tasks
            await start(i)
        yield urls


async def _stats(urls: Sequence[str]) -> list[ServerStats]:
    async with aiohttp.ClientSession() as session:
        found = []
        for url in urls:
            async with session.get(url.removesuffix("/v1") + "/stats") as reply:
                found.append(msgspec.json.decode(await reply.read(), type=ServerStats))
        return found


def _observation(episode: int, step: int, chars: int) -> Message:
    text = f"## Observation (step {step})\n[Output]\nepisode {episode} step {step} " + "x" * chars
    return Message(role="user", content=text)


async def _episode(
    llm: RoleRouter, episode: int, args: argparse.Namespace, model: LatencyModel, out: _Samples
) -> None:
    messages = [
        SYSTEM,
        Message(role="user", content=f"## Question\nHow far apart are A and B? (episode {episode})"),
    ]
    chain: list[float] = []
    for step in range(args.steps):
        request = ChatRequest(
            role="agent", messages=list(messages), session_id=f"ep{episode}", max_tokens=512
        )
        started = time.perf_counter()
        reply = await llm.complete(request)
        out.latency.append(time.perf_counter() - started)
        usage = reply.usage
        chain.append(model.service_s(usage.prompt_tokens, usage.cached_tokens, usage.completion_tokens))
        chars = random.Random(f"{episode}:{step}").randint(args.obs_min, args.obs_max)
        messages += [Message(role="assistant", content=reply.content), _observation(episode, step, chars)]
    out.chains.append(chain)


async def _measure(episodes: int, args: argparse.Namespace) -> Run:
    model = _latency(args)
    async with _servers(model) as urls:
        models = ModelsConfig(agent=[EndpointConfig(url=u, model="mock") for u in urls])
        out = _Samples()
        async with open_llm(models, per_endpoint_limit=args.max_batch, env={}) as llm:
            cpu, wall = time.process_time(), time.perf_counter()
            async with anyio.create_task_group() as group:
                for i in range(episodes):
                    group.start_soon(_episode, llm, i, args, model, out)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            pool = llm.statistics()["agent"]
        servers = await _stats(urls)
    return _run(episodes, out, wall, cpu, servers, pool.sticky_hits, pool.failed_calls)


def _run(
    episodes: int,
    out: _Samples,
    wall: float,
    cpu: float,
    servers: list[ServerStats],
    sticky: int,
    failed: int,
) -> Run:
    requests = len(out.latency)
    slots = sum(s.max_batch for s in servers)
    ideal = ideal_makespan(out.chains, slots)
    latencies = sorted(out.latency)
    extends = sum(s.extends_previous for s in servers)
    return Run(
        episodes=episodes, requests=requests, wall_s=wall, ideal_s=ideal, efficiency=ideal / wall,
        throughput_rps=requests / wall, latency_ms_p50=1000 * statistics.median(latencies),
        latency_ms_p95=1000 * latencies[int(0.95 * (len(latencies) - 1))],
        client_cpu_ms_per_request=1000 * cpu / requests,
        prefix_hit_share=extends / max(1, requests - episodes),
        sticky_hits=sticky, failed_calls=failed,
    )  # fmt: skip


def _summary(runs: list[Run], args: argparse.Namespace) -> dict[str, object]:
    by = {run.episodes: run for run in runs}
    non_first = sum(r.requests - r.episodes for r in runs)
    return {
        "efficiency_64": by[64].efficiency if 64 in by else None,
        "efficiency_512": by[512].efficiency if 512 in by else None,
        "prefix_hit_share": sum(r.prefix_hit_share * (r.requests - r.episodes) for r in runs)
        / max(1, non_first),
        "client_cpu_ms_per_request": sum(r.client_cpu_ms_per_request * r.requests for r in runs)
        / sum(r.requests for r in runs),
        "endpoints": ENDPOINTS,
        "steps": args.steps,
        "latency_model": msgspec.to_builtins(_latency(args)),
        "runs": [msgspec.to_builtins(r) for r in runs],
    }


def _print(runs: list[Run]) -> None:
    say(f"{'episodes':>8} {'requests':>8} {'wall s':>7} {'ideal s':>7} {'eff':>6} {'req/s':>7} "
          f"{'p50 ms':>7} {'p95 ms':>7} {'cpu ms/req':>10} {'prefix':>6} {'failed':>6}")  # fmt: skip
    for r in runs:
        say(
            f"{r.episodes:>8} {r.requests:>8} {r.wall_s:>7.2f} {r.ideal_s:>7.2f} {r.efficiency:>6.3f} "
            f"{r.throughput_rps:>7.1f} {r.latency_ms_p50:>7.0f} {r.latency_ms_p95:>7.0f} "
            f"{r.client_cpu_ms_per_request:>10.3f} {r.prefix_hit_share:>6.3f} {r.failed_calls:>6}"
        )


async def _main(args: argparse.Namespace) -> dict[str, object]:
    runs = [await _measure(n, args) for n in args.episodes]
    _print(runs)
    return _summary(runs, args)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.perf.llm_pool", description=__doc__)
    p.add_argument("--json", type=Path, default=None, help="write the figures here")
    p.add_argument("--episodes", type=int, nargs="+", default=[64, 512])
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--obs-min", type=int, default=50, help="shortest observation (the echo reply is as long)")
    p.add_argument("--obs-max", type=int, default=400, help="longest observation")
    p.add_argument("--base-ms", type=float, default=20.0)
    p.add_argument("--prefill-ms", type=float, default=0.02)
    p.add_argument("--cached-prefill-ms", type=float, default=0.002)
    p.add_argument("--decode-ms", type=float, default=10.0)
    p.add_argument("--max-batch", type=int, default=64)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print a table; write JSON when asked."""
    args = _parser().parse_args(argv)
    summary = anyio.run(_main, args, backend_options=loop_options())
    say(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))
    if args.json is not None:
        write_figures(summary, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
