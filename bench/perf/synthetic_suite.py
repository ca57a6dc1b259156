"""Speed of the synthetic suite, measured: renderer ms per frame (by resolution and object count), sample
generation (render + question + PNG + the frames' ground-truth files) per sample, ground-truth backend
latency per request, and the backend's CPU per frame the first time a sample's frames are asked for, from
the suite's ground-truth files and by ray-casting them again.

Run `python -m bench.perf.synthetic_suite [--json OUT]`; it prints one line per figure and, with
`--json`, writes them as JSON. Numbers are medians over repeats on the current machine;
pin the process to one core (`taskset -c 0`) for the per-core figure the issue asks for.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import msgspec
import numpy as np

from bench.perf._cli import say, write_figures
from bench.suites.synthetic._suite import SyntheticSuite
from claw.config import PerceptionConfig
from claw.suite import Sample, SuiteOptions
from claw.wire.names import GROUND_TRUTH_FOLDER
from claw.wire.perception import NDArray, ReconstructRequest, SegmentRequest
from servers.perception._backends.synthetic import SyntheticBackend
from synthscene.render import render
from synthscene.world import WorldKey, build_world

__all__ = ["PerfReport", "main"]


class PerfReport(msgspec.Struct, kw_only=True):
    """The figures one run measured (milliseconds)."""

    render_ms: dict[str, float]
    """`<W>x<H>` -> median ms per rendered frame over scenes of every size."""
    render_ms_by_objects: dict[str, float]
    """Object count -> median ms per 256x256 frame."""
    sample_ms: float
    """Median ms to draw, render and write one sample (all its frames)."""
    reconstruct_ms_per_frame: float
    segment_ms_per_frame: float
    first_reconstruct_cpu_ms_per_frame: dict[str, float]
    """`from_suite_files` / `ray_cast` -> backend CPU ms per frame answering each sample's frames once."""


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _render_figures(size: tuple[int, int]) -> tuple[float, dict[str, float]]:
    by_objects: dict[int, list[float]] = {}
    for index in range(40):
        world = build_world(WorldKey(0, index))
        cam = world.rig.cameras[0]
        ms = _median_ms(functools.partial(render, world.scene, cam, *size), 3)
        by_objects.setdefault(len(world.scene.objects), []).append(ms)
    every = [ms for values in by_objects.values() for ms in values]
    return statistics.median(every), {str(k): statistics.median(v) for k, v in sorted(by_objects.items())}


async def _backend_figures() -> tuple[float, float]:
    backend = SyntheticBackend(PerceptionConfig())
    key = WorldKey(0, 0)
    frames = list(build_world(key).rig.frame_indices)
    images = [NDArray.from_numpy(np.zeros((256, 256, 3), dtype=np.uint8))] * len(frames)
    rec = ReconstructRequest(images=images, frame_indices=frames, scene=key.text)
    seg = SegmentRequest(images=images, frame_indices=frames, scene=key.text, text="chair")
    await backend.reconstruct([rec])  # warm the frame cache, as a second call in an episode would be
    start = time.perf_counter()
    await backend.reconstruct([rec])
    rec_ms = (time.perf_counter() - start) * 1000 / len(frames)
    start = time.perf_counter()
    await backend.segment([seg])
    return rec_ms, (time.perf_counter() - start) * 1000 / len(frames)


async def _first_reconstruct_cpu_ms(samples: list[Sample], truth_dir: str | None) -> float:
    backend = SyntheticBackend(PerceptionConfig(truth_dir=truth_dir))
    image = NDArray.from_numpy(np.zeros((256, 256, 3), dtype=np.uint8))
    requests = [
        ReconstructRequest(
            images=[image] * len(s.videos[0].frames),
            frame_indices=[f.index for f in s.videos[0].frames],
            scene=str(s.metadata["scene"]),
        )
        for s in samples
    ]
    start = time.process_time()
    for request in requests:
        await backend.reconstruct([request])
    return (time.process_time() - start) * 1000 / sum(len(r.frame_indices) for r in requests)


def measure() -> PerfReport:
    """Run every measurement once."""
    render_ms, by_objects = {}, {}
    for size in ((128, 128), (256, 256), (512, 384)):
        median, per_count = _render_figures(size)
        render_ms[f"{size[0]}x{size[1]}"] = median
        if size == (256, 256):
            by_objects = per_count
    with tempfile.TemporaryDirectory() as media:
        suite = SyntheticSuite(SuiteOptions(n=26, media_dir=media))
        sample_ms = statistics.median(_median_ms(functools.partial(suite.sample, i), 1) for i in range(26))
        samples = [suite.sample(i) for i in range(26)]
        first_cpu = {
            "from_suite_files": anyio.run(
                _first_reconstruct_cpu_ms, samples, str(Path(media) / GROUND_TRUTH_FOLDER)
            ),
            "ray_cast": anyio.run(_first_reconstruct_cpu_ms, samples, None),
        }
    rec_ms, seg_ms = anyio.run(_backend_figures)
    return PerfReport(
        render_ms=render_ms,
        render_ms_by_objects=by_objects,
        sample_ms=sample_ms,
        reconstruct_ms_per_frame=rec_ms,
        segment_ms_per_frame=seg_ms,
        first_reconstruct_cpu_ms_per_frame=first_cpu,
    )


def main(argv: list[str] | None = None) -> None:
    """Measure, print and write the JSON report."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf.synthetic_suite")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    figures = msgspec.structs.asdict(measure())
    for name, value in figures.items():
        say(f"{name}: {value}")
    write_figures(figures, args.json)


if __name__ == "__main__":
    main()
