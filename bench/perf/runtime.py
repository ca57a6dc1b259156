"""Runtime benchmark: episodes per second and runtime CPU per agent step, through the real episode
shell, event bus, JSONL log and HTTP model client, at 1, 8, 64 and 512 concurrent episodes.

`python -m bench.perf.runtime --json OUT` starts one mock LLM server (child process, `steps` policy:
a plan, three trivial cells, then the answer, so each episode makes exactly 5 model calls) with a fixed
latency per call, and replaces kernels with an instant in-process kernel, so what is left to measure is
claw's own overhead. `efficiency_N` = achieved / ideal episodes per second, where the ideal is N
episodes in flight each waiting only on the model (5 × latency); `runtime_cpu_ms_per_step` is this
process's CPU time (state machine, prompts, events, log writes, HTTP client) per model call.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import anyio
import numpy as np
from PIL import Image

from bench.perf._cli import say, write_figures
from claw.config import AgentConfig, ModelsConfig
from claw.llm import open_llm, start_mock_server
from claw.llm.types import ChatTransport
from claw.runtime.bus import Bus
from claw.runtime.driver import EpisodeServices, run_episode
from claw.runtime.sinks import JsonlSink
from claw.sandbox import check_cell
from claw.suite import Frame, Sample, Score, Video
from claw.wire.kernel import CellResult, SubmittedAnswer
from servers.mockllm.policies.steps import STEPS

CALLS_PER_EPISODE = STEPS + 2


class InstantKernel:
    """A `Kernel` that answers every cell at once (the benchmark measures everything but kernels)."""

    kernel_id = "instant"

    async def execute(self, code: str, *, timeout: float) -> CellResult:
        """Accept option A when the cell submits, else print `1`."""
        if "ReturnAnswer" in code:
            return CellResult(status="ok", answer=SubmittedAnswer(text="A", valid=True))
        return CellResult(status="ok", stdout="1")


def _score(sample: Sample, answer: str | None) -> Score:
    return Score(value=float(answer == sample.ground_truth), metric="exact")


def _sample(folder: Path) -> Sample:
    frame = folder / "frame.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(frame)
    video = Video(name="v", frames=(Frame(path=str(frame), index=0),))
    return Sample(
        id="s",
        suite="bench",
        question="Which?",
        answer_format="letter",
        ground_truth="A",
        videos=(video,),
        options=("a", "b"),
    )


async def _run_level(
    llm: ChatTransport, sample: Sample, folder: Path, concurrency: int, rounds: int
) -> dict[str, float]:
    episodes = concurrency * rounds
    limiter = anyio.CapacityLimiter(concurrency)
    async with Bus([JsonlSink(folder / f"events-{concurrency}.jsonl")]) as bus:

        async def one(index: int) -> None:
            async with limiter:
                services = EpisodeServices(
                    run_id="bench",
                    llm=llm,
                    kernel=InstantKernel(),
                    check=check_cell,
                    emit=bus.emit,
                    score=_score,
                    agent=AgentConfig(),
                )
                await run_episode(sample, f"e{concurrency}-{index}", services)

        cpu, wall = time.process_time(), time.perf_counter()
        async with anyio.create_task_group() as tg:
            for index in range(episodes):
                tg.start_soon(one, index)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"episodes": episodes, "wall_s": wall, "cpu_s": cpu}


async def _main(args: argparse.Namespace) -> dict[str, object]:
    levels = [int(level) for level in args.levels.split(",")]
    extra = ["--base-ms", str(args.latency_ms), "--max-batch", "100000"]
    figures: dict[str, object] = {"latency_ms": args.latency_ms, "calls_per_episode": CALLS_PER_EPISODE}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sample = _sample(folder)
        async with start_mock_server("steps", seed=0, extra_args=extra) as url:
            async with open_llm(ModelsConfig(), per_endpoint_limit=100000, default_url=url) as llm:
                await _run_level(llm, sample, folder, 1, 1)  # warm-up: connections, imports, caches
                for level in levels:
                    run = await _run_level(llm, sample, folder, level, args.rounds)
                    ideal = level / (CALLS_PER_EPISODE * args.latency_ms / 1000)
                    achieved = run["episodes"] / run["wall_s"]
                    steps = run["episodes"] * CALLS_PER_EPISODE
                    figures[f"episodes_per_s_{level}"] = round(achieved, 2)
                    figures[f"efficiency_{level}"] = round(achieved / ideal, 3)
                    figures[f"runtime_cpu_ms_per_step_{level}"] = round(1000 * run["cpu_s"] / steps, 3)
                    say(
                        f"concurrency {level:>4}: {achieved:8.1f} episodes/s  efficiency "
                        f"{achieved / ideal:.3f}  runtime CPU {1000 * run['cpu_s'] / steps:.2f} ms/step"
                    )
    cpu_keys = [k for k in figures if k.startswith("runtime_cpu_ms_per_step_")]
    figures["runtime_cpu_ms_per_step"] = min(float(figures[k]) for k in cpu_keys)  # type: ignore[arg-type]
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print figures and optionally write them as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf.runtime", description=__doc__)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--levels", default="1,8,64,512", help="concurrent episodes, comma-separated")
    parser.add_argument("--rounds", type=int, default=2, help="episodes per level = level × rounds")
    parser.add_argument("--latency-ms", type=float, default=500.0, help="fixed model latency per call")
    args = parser.parse_args(argv)
    figures = anyio.run(_main, args)
    if args.json:
        write_figures(figures, args.json)
    say(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
