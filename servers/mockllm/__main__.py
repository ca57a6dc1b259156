"""`python -m servers.mockllm`: run the mock LLM server as a process.

Binds loopback (port 0 picks a free one), prints exactly one line `READY http://127.0.0.1:PORT/v1` to
stdout once it accepts connections, and exits cleanly on SIGTERM or SIGINT. Flags set the policy, seed,
served model names, fault rates and the latency model.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import sys
from functools import partial

import anyio

from claw._logging import configure_logging
from claw.errors import ClawError
from servers._lifeline import die_with_parent
from servers.mockllm.faults import Faults
from servers.mockllm.latency import LatencyModel
from servers.mockllm.policy import Policy, load_policy
from servers.mockllm.server import MockOptions, serve_mockllm

_FAULT_FLAGS: tuple[str, ...] = ("error_rate", "rate_limit_rate", "retry_after_s", "hang_rate", "hang_s")
_FAULT_FLAGS += ("truncate_rate", "garbage_rate", "slow_rate", "slow_chunk_s")
_LATENCY_FLAGS = ("base_ms", "prefill_ms_per_token", "cached_prefill_ms_per_token", "decode_ms_per_token")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m servers.mockllm", description=__doc__)
    parser.add_argument("--policy", default="echo", help="scripted, echo or random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--model", action="append", default=[], help="served model name (repeatable)")
    for name in _FAULT_FLAGS + _LATENCY_FLAGS:
        parser.add_argument("--" + name.replace("_", "-"), type=float, default=None)
    parser.add_argument("--max-batch", type=int, default=0, help="concurrent sequences (0: unlimited)")
    parser.add_argument(
        "--reasoning",
        choices=("none", "field", "tags"),
        default="none",
        help="answer like a thinking model: reasoning in reasoning_content (field) or <think> tags",
    )
    return parser


def loop_options() -> dict[str, bool]:
    """anyio backend options: uvloop when it is installed (as `claw` itself runs)."""
    return {"use_uvloop": True} if importlib.util.find_spec("uvloop") is not None else {}


def options_from_args(args: argparse.Namespace) -> MockOptions:
    """The `MockOptions` the parsed flags describe."""
    given = vars(args)
    faults = Faults(**{k: given[k] for k in _FAULT_FLAGS if given[k] is not None})
    latency = LatencyModel(
        max_batch=args.max_batch, **{k: given[k] for k in _LATENCY_FLAGS if given[k] is not None}
    )
    return MockOptions(
        policy=args.policy,
        seed=args.seed,
        models=tuple(args.model),
        faults=faults,
        latency=latency,
        reasoning=args.reasoning,
    )


async def _serve(options: MockOptions, policy: Policy, host: str, port: int, announce: bool) -> None:
    async with anyio.create_task_group() as group:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            bound = await group.start(partial(serve_mockllm, options, host=host, port=port, policy=policy))
            if announce:
                sys.stdout.write(f"READY http://{host}:{bound}/v1\n")
                sys.stdout.flush()
            async for _ in signals:
                group.cancel_scope.cancel()
                break


async def run_server(
    options: MockOptions, policy: Policy, host: str, port: int, announce: bool = True
) -> str | None:
    """Serve until SIGTERM or SIGINT (print the READY line if `announce`); return why it failed, or None."""
    failure: str | None = None
    try:
        await _serve(options, policy, host, port, announce)
    except* OSError as group:
        failure = f"cannot serve on {host}:{port}: {group.exceptions[0]}"
    return failure


def main(argv: list[str] | None = None) -> int:
    """Run the server; the exit status is 0 after a signal, 2 for bad options, 1 if it cannot serve."""
    die_with_parent()
    configure_logging()
    args = _parser().parse_args(argv)
    try:
        options = options_from_args(args)
        policy = load_policy(options.policy)
    except ClawError as exc:
        sys.stderr.write(f"mockllm: {exc.message}\n")
        return 2
    failure = anyio.run(run_server, options, policy, args.host, args.port, backend_options=loop_options())
    if failure is not None:
        sys.stderr.write(f"mockllm: {failure}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
