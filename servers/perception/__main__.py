"""`python -m servers.perception --backend NAME [--operation OP=NAME ...] --socket PATH [--port N]
[--weights NAME=PATH ...]`: run the perception server as a process. One process may host several
backends, one per operation (e.g. `--operation segment=sam3 --operation reconstruct=da3`).

Prints exactly one readiness line to stdout once it accepts requests (`READY unix=PATH tcp=URL|-
[token=TOKEN]`), serves until SIGTERM/SIGINT, then drains and exits 0. A user error (unknown backend,
missing weights, socket in use) is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from typing import TextIO

import anyio

from claw._logging import configure_logging
from claw.config import PerceptionConfig
from claw.errors import ClawError, ConfigError
from claw.wire.perception import PerceptionBackend
from servers._lifeline import die_with_parent
from servers.perception.server import serve_perception

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m servers.perception", description=__doc__)
    parser.add_argument("--backend", default="synthetic", help="synthetic, costmodel, sam3 or da3")
    parser.add_argument(
        "--operation",
        action="append",
        default=[],
        metavar="OP=NAME",
        help="serve operation OP (reconstruct, segment) with backend NAME instead of --backend",
    )
    parser.add_argument("--socket", required=True, help="Unix socket path to listen on")
    parser.add_argument("--port", type=int, default=None, help="also listen on 127.0.0.1:PORT (0 = any)")
    parser.add_argument("--noise", default="none", help="synthetic backend noise model")
    parser.add_argument(
        "--truth-dir", default=None, help="folder of the synthetic suite's rendered depth, ids and cameras"
    )
    parser.add_argument("--max-batch", type=int, default=16)
    parser.add_argument("--max-delay-ms", type=float, default=5.0)
    parser.add_argument("--weights", action="append", default=[], metavar="NAME=PATH", help="local weights")
    parser.add_argument("--token-env", default=None, help="environment variable holding the TCP token")
    defaults = PerceptionConfig()
    for name in ("image", "reconstruct", "segment"):
        default = getattr(defaults, f"max_{name}_pixels")
        parser.add_argument(f"--max-{name}-pixels", type=int, default=default, help=f"default {default}")
    parser.add_argument("--no-batching", action="store_true", help="one request at a time (comparisons)")
    parser.add_argument("--cost-ms", type=_cost, default=None, metavar="FIXED,PER_ITEM", help="costmodel ms")
    return parser


def _cost(text: str) -> tuple[float, float]:
    try:
        fixed, per_item = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected FIXED,PER_ITEM in milliseconds, got {text!r}") from None
    return fixed, per_item


def _config(args: argparse.Namespace) -> PerceptionConfig:
    weights = _pairs(args.weights, "--weights NAME=PATH")
    return PerceptionConfig(
        backend=args.backend,
        operations=_pairs(args.operation, "--operation OP=NAME"),
        noise=args.noise,
        truth_dir=args.truth_dir,
        socket=args.socket,
        max_batch=args.max_batch,
        max_delay_ms=args.max_delay_ms,
        weights=weights,
        token_env=args.token_env,
        max_image_pixels=args.max_image_pixels,
        max_reconstruct_pixels=args.max_reconstruct_pixels,
        max_segment_pixels=args.max_segment_pixels,
    )


def _pairs(items: list[str], form: str) -> dict[str, str]:
    bad = [item for item in items if "=" not in item]
    if bad:
        raise ConfigError(f"expected {form}, got {bad[0]!r}")
    return dict(item.split("=", 1) for item in items)


def _backend(args: argparse.Namespace, config: PerceptionConfig) -> PerceptionBackend | None:
    if args.cost_ms is None:
        return None
    from servers.perception._backends.costmodel import CostModelBackend

    fixed, per_item = args.cost_ms
    return CostModelBackend(config, fixed_ms=fixed, per_item_ms=per_item)


def _private_stdout() -> TextIO:
    """Keep stdout for the readiness line only: anything else written to fd 1 (model loaders log there)
    goes to stderr from now on."""
    sys.stdout.flush()
    ready = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    return ready


async def _serve(args: argparse.Namespace) -> None:
    config = _config(args)
    with _private_stdout() as ready, anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with serve_perception(
            config,
            socket_path=args.socket,
            tcp_port=args.port,
            backend=_backend(args, config),
            batching=not args.no_batching,
        ) as server:
            ready.write(server.readiness_line() + "\n")
            ready.flush()
            async for _ in signals:
                break


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server; returns the process exit code."""
    die_with_parent()
    configure_logging()
    args = _parser().parse_args(argv)
    try:
        anyio.run(_serve, args)
    except ClawError as exc:
        sys.stderr.write(f"perception server: {exc.message}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
