"""Perception batching benchmark: the dynamic batcher against a one-request-at-a-time lock (the
reference's design), same backend, same HTTP path over a Unix socket, in one run.

`python -m bench.perf.perception_batching --json OUT` starts the perception server in-process with the
`costmodel` backend (default 40 ms fixed + 4 ms per item), drives it with 1, 8 and 64 closed-loop clients
in each mode, prints a table and writes JSON with `speedup_64` (batcher / lock throughput at 64 clients)
and `latency_ratio_1` (batcher / lock mean latency at 1 client). Targets: >= 3x and <= 1.1x. With
`--backend sam3|da3 --weights NAME=PATH` the same comparison runs against a real model; with
`--random-weights DIR` instead, a randomly initialised full-size checkpoint is written first (timing only).

Measured 2026-11-25 (defaults: max_batch 16, max_delay 5 ms; 1/8/64 clients):
- 2-core dev box, costmodel 40+4 ms: speedup_64 = 6.5, speedup_8 = 4.7, latency_ratio_1 = 1.00.
- H100 machine, same costmodel run: speedup_64 = 6.5, latency_ratio_1 = 1.00.
- H100, sam3 (full-size SAM 3 config, random weights, 480 px frames, 1 frame/request, threshold 0.99):
  speedup_64 = 2.73, speedup_8 = 1.91, latency_ratio_1 = 0.98 (batched forward: 27 ms/image at 16).
- H100, da3 (da3-large, random weights, 480 px, 1 frame/request): speedup_64 = 2.00, speedup_8 = 1.81,
  latency_ratio_1 = 0.98; CPU post-processing (~17 ms/frame) now outweighs the batched forward (11 ms/frame).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import anyio
import msgspec
import numpy as np

from bench.perf._cli import say, write_figures
from claw._files import temporary_directory
from claw.config import PerceptionConfig
from claw.wire.perception import NDArray, PerceptionBackend, ReconstructRequest, SegmentRequest, encode
from servers.perception._loader import load_backend
from servers.perception.server import serve_perception

CLIENTS = (1, 8, 64)


class Run(msgspec.Struct, frozen=True, kw_only=True):
    """One (mode, clients) measurement."""

    mode: str
    clients: int
    requests: int
    wall_s: float
    throughput_rps: float
    latency_ms_mean: float
    latency_ms_p50: float
    latency_ms_p95: float
    mean_batch_size: float
    errors: int


def _body(op: str, size: int, threshold: float) -> bytes:
    rng = np.random.default_rng(0)
    image = NDArray.from_numpy(rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
    if op == "segment":
        return encode(SegmentRequest(images=[image], frame_indices=[0], text="chair", threshold=threshold))
    return encode(ReconstructRequest(images=[image], frame_indices=[0]))


async def _client(
    session: aiohttp.ClientSession, path: str, body: bytes, n: int, latencies: list[float]
) -> int:
    errors = 0
    for _ in range(n):
        start = time.perf_counter()
        async with session.post(f"http://perception{path}", data=body) as resp:
            await resp.read()
            errors += resp.status != 200
        latencies.append(time.perf_counter() - start)
    return errors


async def _drive(
    sock: str, path: str, body: bytes, clients: int, per_client: int
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors: list[int] = []
    connector = aiohttp.UnixConnector(path=sock, limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await _client(session, path, body, 1, [])  # warm-up: connection + first batch

        async def one() -> None:
            errors.append(await _client(session, path, body, per_client, latencies))

        start = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(clients):
                tg.start_soon(one)
        wall = time.perf_counter() - start
    return wall, latencies, sum(errors)


async def _measure(
    args: argparse.Namespace, config: PerceptionConfig, backend: PerceptionBackend, mode: str, clients: int
) -> Run:
    per_client = max(2, args.requests // clients)
    path = "/v1/segment" if args.op == "segment" else "/v1/reconstruct"
    async with temporary_directory() as folder:
        sock = str(folder / "p.sock")
        async with serve_perception(
            config, socket_path=sock, backend=backend, batching=mode == "batch"
        ) as server:
            wall, lat, errors = await _drive(
                sock, path, _body(args.op, args.image_size, args.threshold), clients, per_client
            )
            dispatch = server.reconstruct if args.op == "reconstruct" else server.segment
            mean_batch = dispatch.statistics().mean_batch_size
    return _run(mode, clients, wall, lat, errors, mean_batch)


def _run(mode: str, clients: int, wall: float, lat: list[float], errors: int, mean_batch: float) -> Run:
    ordered = sorted(lat)
    return Run(
        mode=mode,
        clients=clients,
        requests=len(lat),
        wall_s=wall,
        throughput_rps=len(lat) / wall,
        latency_ms_mean=1000 * statistics.fmean(lat),
        latency_ms_p50=1000 * ordered[len(ordered) // 2],
        latency_ms_p95=1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        mean_batch_size=mean_batch,
        errors=errors,
    )


def _random_weights(backend: str, folder: Path, da3_model: str) -> str:
    """Write a randomly initialised full-size checkpoint for `backend` (timing only: answers are noise)."""
    import torch

    target = folder / backend
    target.mkdir(parents=True, exist_ok=True)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        if backend == "sam3":
            _random_sam3(target)
        else:
            _random_da3(target, da3_model)
    return str(target)


def write_clip_vocab(folder: Path) -> None:
    """A character-level CLIP tokenizer (vocab.json + merges.txt) for randomly initialised SAM 3 weights."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in "abcdefghijklmnopqrstuvwxyz":
        vocab[ch] = len(vocab)
        vocab[ch + "</w>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt")).save_pretrained(folder)


def _random_sam3(target: Path) -> None:
    from transformers.models.sam3.configuration_sam3 import Sam3Config
    from transformers.models.sam3.modeling_sam3 import Sam3Model

    Sam3Model(Sam3Config()).save_pretrained(target)
    write_clip_vocab(target)


def _random_da3(target: Path, model_name: str) -> None:
    import torch
    from depth_anything_3.cfg import create_object, load_config
    from depth_anything_3.registry import MODEL_REGISTRY
    from safetensors.torch import save_model

    import servers.perception._backends.da3  # noqa: F401 - imports depth_anything_3 with its warnings muted

    holder = torch.nn.Module()
    holder.model = create_object(load_config(MODEL_REGISTRY[model_name]))
    save_model(holder, str(target / "model.safetensors"))
    (target / "config.json").write_text(json.dumps({"model_name": model_name}))


def _config(args: argparse.Namespace) -> PerceptionConfig:
    weights = dict(item.split("=", 1) for item in args.weights)
    if args.random_weights and args.backend in ("sam3", "da3") and args.backend not in weights:
        weights[args.backend] = _random_weights(args.backend, Path(args.random_weights), args.da3_model)
    return PerceptionConfig(
        backend=args.backend, max_batch=args.max_batch, max_delay_ms=args.max_delay_ms, weights=weights
    )


def _backend(args: argparse.Namespace, config: PerceptionConfig) -> PerceptionBackend:
    if args.backend != "costmodel":
        return load_backend(config)
    from servers.perception._backends.costmodel import CostModelBackend

    return CostModelBackend(config, fixed_ms=args.fixed_ms, per_item_ms=args.per_item_ms)


def _summary(args: argparse.Namespace, runs: list[Run]) -> dict[str, object]:
    by = {(r.mode, r.clients): r for r in runs}
    out: dict[str, object] = {
        "backend": args.backend,
        "op": args.op,
        "fixed_ms": args.fixed_ms if args.backend == "costmodel" else None,
        "per_item_ms": args.per_item_ms if args.backend == "costmodel" else None,
        "max_batch": args.max_batch,
        "max_delay_ms": args.max_delay_ms,
        "image_size": args.image_size,
        "runs": [msgspec.to_builtins(r) for r in runs],
    }
    for n in args.clients:
        out[f"speedup_{n}"] = by["batch", n].throughput_rps / by["lock", n].throughput_rps
        out[f"latency_ratio_{n}"] = by["batch", n].latency_ms_mean / by["lock", n].latency_ms_mean
    return out


def _print(runs: list[Run], summary: dict[str, object]) -> None:
    header = ("mode", "clients", "req", "req/s", "mean ms", "p95 ms", "batch", "err")
    say("{:<6} {:>7} {:>5} {:>8} {:>8} {:>8} {:>6} {:>4}".format(*header))
    for r in runs:
        say(
            f"{r.mode:<6} {r.clients:>7} {r.requests:>5} {r.throughput_rps:>8.1f} {r.latency_ms_mean:>8.1f} "
            f"{r.latency_ms_p95:>8.1f} {r.mean_batch_size:>6.1f} {r.errors:>4}"
        )
    for key, value in summary.items():
        if key.startswith(("speedup_", "latency_ratio_")):
            say(f"{key} = {value:.2f}")


async def _main(args: argparse.Namespace) -> dict[str, object]:
    config = _config(args)
    backend = await anyio.to_thread.run_sync(_backend, args, config)  # a real backend loads weights
    runs = [
        await _measure(args, config, backend, mode, n) for n in args.clients for mode in ("lock", "batch")
    ]
    summary = _summary(args, runs)
    _print(runs, summary)
    return summary


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.perf.perception_batching", description=__doc__)
    p.add_argument("--json", default=None, help="write the results here")
    p.add_argument("--backend", default="costmodel")
    p.add_argument("--op", choices=("reconstruct", "segment"), default="reconstruct")
    p.add_argument("--fixed-ms", type=float, default=40.0)
    p.add_argument("--per-item-ms", type=float, default=4.0)
    p.add_argument("--max-batch", type=int, default=16)
    p.add_argument("--max-delay-ms", type=float, default=5.0)
    p.add_argument("--requests", type=int, default=192, help="requests per run (split over clients)")
    p.add_argument("--clients", type=int, nargs="+", default=list(CLIENTS))
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument(
        "--threshold", type=float, default=0.3, help="segment score threshold (random weights: 0.99)"
    )
    p.add_argument("--weights", action="append", default=[], metavar="NAME=PATH")
    p.add_argument(
        "--random-weights", default=None, metavar="DIR", help="write random full-size weights here"
    )
    p.add_argument("--da3-model", default="da3-large", help="preset for --random-weights with da3")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    args = _parser().parse_args(argv)
    summary = anyio.run(_main, args)
    if args.json:
        write_figures(summary, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
