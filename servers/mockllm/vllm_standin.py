"""A stand-in for the `vllm` executable, for tests on machines without vLLM or a GPU.

`vllm serve MODEL [flags]` is parsed with the subset of vLLM's documented `vllm serve` flags that claw
uses (an unknown flag exits 2, as vLLM's parser does), and the mock server answers on `--host:--port`
under `--served-model-name` (as a thinking model with `--reasoning-parser`: reasoning in its own
field). Like vLLM, it is ready when `GET /v1/models` answers; nothing is printed
for readiness. When `CLAW_VLLM_STANDIN_LOG` names a file, the argv and `CUDA_VISIBLE_DEVICES` are
appended to it as one JSON line, so tests can check the exact command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import anyio

from servers.mockllm.__main__ import loop_options, run_server
from servers.mockllm.policy import load_policy
from servers.mockllm.server import MockOptions

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vllm")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("model")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--served-model-name", nargs="+", default=None)
    serve.add_argument("--tensor-parallel-size", "-tp", type=int, default=1)
    serve.add_argument("--max-num-seqs", type=int, default=256)
    serve.add_argument("--kv-cache-dtype", choices=["auto", "fp8", "fp8_e4m3", "fp8_e5m2"], default="auto")
    serve.add_argument("--gpu-memory-utilization", type=float, default=0.9)
    serve.add_argument("--enable-prefix-caching", action="store_true")
    serve.add_argument("--limit-mm-per-prompt", type=json.loads, default=None)
    serve.add_argument("--max-model-len", type=int, default=None)
    serve.add_argument("--load-format", choices=["auto", "safetensors", "pt", "dummy"], default="auto")
    serve.add_argument("--reasoning-parser", default=None)
    serve.add_argument("--chat-template", default=None)
    serve.add_argument("--enable-auto-tool-choice", action="store_true")
    serve.add_argument("--default-chat-template-kwargs", type=json.loads, default=None)
    return parser


def _record(argv: list[str]) -> None:
    path = os.environ.get("CLAW_VLLM_STANDIN_LOG")
    if path:
        line = json.dumps({"argv": argv, "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")})
        with open(path, "a", encoding="utf-8") as log:
            log.write(line + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run like `vllm serve`; exit status 2 for flags vLLM would reject."""
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    _record(argv)
    names = tuple(args.served_model_name or [args.model])
    # with a reasoning parser vLLM returns a thinking model's reasoning in its own field
    options = MockOptions(policy="echo", models=names, reasoning="field" if args.reasoning_parser else "none")
    policy = load_policy("echo")
    failure = anyio.run(
        run_server, options, policy, args.host, args.port, False, backend_options=loop_options()
    )
    if failure is not None:
        sys.stderr.write(f"vllm stand-in: {failure}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
