"""The `claw` argument parser: every command, flag and positional with its help, the environment the
command line reads, argparse errors as one `claw: error:` line, and the mapping from `claw eval`'s flags
onto the config."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

import msgspec

from claw._version import __version__
from claw.agent.interfaces import interface_names
from claw.config import EvalConfig, config_from_mapping, load_config
from claw.errors import ConfigError

EXIT_EPISODE_ERRORS = 1
"""`claw eval`: episodes ended in error (infrastructure failures, not scores); re-running retries them."""
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


def _eval_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "eval",
        help="run an evaluation (default: the synthetic suite, no GPU needed)",
        epilog=ENVIRONMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", type=Path, help="TOML config file; flags below override it")
    p.add_argument(
        "--preset",
        help="a config shipped with claw, applied under --config and the flags (paper: the published setup)",
    )
    p.add_argument("--suite", help="suite name (see `claw suites`); default synthetic")
    p.add_argument("--n", type=_count_or_all, help="number of samples, or `all` (default 30)")
    p.add_argument(
        "--sample",
        dest="samples",
        action="append",
        metavar="ID",
        help="run only this sample id (repeatable; among the first --n); see `claw tail RUN --event "
        "episode_started` for ids",
    )
    p.add_argument(
        "--seed", type=int, help="seed of sampling, synthetic scenes and the mock model (default 0)"
    )
    p.add_argument("--data", dest="data_dir", help="the benchmark's local data directory")
    p.add_argument("--run-dir", help="run directory (default runs/<run_id>); re-running resumes it")
    p.add_argument("--interface", help="action interface: " + ", ".join(interface_names()))
    p.add_argument("--policy", help="mock LLM policy when no model is configured: scripted, echo, random")
    p.add_argument("--noise", help="synthetic perception noise: none or realistic")
    p.add_argument("--max-steps", type=int, help="code turns per episode before a forced answer (default 30)")
    p.add_argument("--episodes", type=int, help="episodes in flight")
    p.add_argument("--kernels", type=int, help="kernels in the pool")
    p.add_argument(
        "--unsafe-no-confinement",
        action="store_true",
        default=None,
        help="run model code without OS confinement where namespaces are unavailable (unsafe)",
    )
    p.add_argument(
        "--no-retry-errors",
        dest="retry_errors",
        action="store_false",
        default=None,
        help="on resume, keep episodes that ended in error instead of running them again",
    )
    p.add_argument(
        "--ray", dest="ray_address", help="run the episodes on a Ray cluster: auto, HEAD_IP:PORT or local"
    )
    p.add_argument("--ray-workers", type=int, help="Ray worker actors (default: one per node)")
    p.add_argument(
        "--ray-discover",
        type=lambda text: [kind.strip() for kind in text.split(",") if kind.strip()],
        help="use the model/perception servers registered on the Ray cluster: models, perception or both "
        "(comma-separated)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress display or status lines")
    p.set_defaults(watches_stop=True)


ENVIRONMENT_HELP = """environment:
  CLAW_AGENT_URL, CLAW_PLANNER_URL, CLAW_VLM_ASK_URL
                  model endpoints per role (comma-separated base URLs up to /v1) when the config names none
  CLAW_<ROLE>_MODEL
                  the model name requests to that role's endpoints use
  CLAW_<ROLE>_API_KEY_ENV
                  the NAME of the variable that holds that role's API key (keys never go in a config)
  the variables named by models.*.api_key_env and perception.token_env hold the keys themselves
"""


class _Parser(argparse.ArgumentParser):
    """argparse with claw's one-line error format: `claw: error: what was wrong (see … --help)`."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"claw: error: {message} (see `{self.prog} --help`)\n")


def _count_or_all(text: str) -> int | str:
    if text == "all":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of samples or `all`, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="claw",
        description="Spatial-reasoning agent runtime.",
        epilog=ENVIRONMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"claw {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    _eval_parser(sub)
    tail = sub.add_parser("tail", help="print (and follow) a run's event log")
    tail.add_argument("run_dir", type=Path, help="a run directory made by `claw eval`")
    tail.add_argument(
        "-f", "--follow", action="store_true", help="keep printing new events until the run ends"
    )
    tail.add_argument("--episode", help="only this episode id (substring match)")
    tail.add_argument(
        "--event",
        action="append",
        metavar="NAME",
        help="only these event types, e.g. cell_executed (repeatable)",
    )
    tail.add_argument(
        "--time",
        choices=["wall", "relative"],
        default="wall",
        help="wall-clock time of day (default), or seconds since the run started",
    )
    transcript = sub.add_parser("transcript", help="print the conversation one episode had with the model")
    transcript.add_argument("run_dir", type=Path, help="a run directory made by `claw eval`")
    transcript.add_argument("episode", help="an episode id (see `claw tail`), or its sample id")
    transcript.add_argument("--full", action="store_true", help="print every request whole, not as deltas")
    transcript.add_argument(
        "--json", action="store_true", help="one JSON object per request: its wire messages, images inline"
    )
    replay = sub.add_parser(
        "replay",
        help="re-run recorded episodes with the recorded model replies in fresh kernels; say what differs",
    )
    replay.add_argument("run_dir", type=Path, help="a run directory made by `claw eval`")
    replay.add_argument("episode", nargs="*", help="episode ids or sample ids (default: every episode)")
    replay.add_argument(
        "--from-step",
        type=int,
        metavar="K",
        help="replay steps before K, then go on live with the configured model (branch the run at K)",
    )
    replay.add_argument(
        "--run-dir",
        dest="out_dir",
        type=Path,
        help="where the replay runs (default RUN_DIR-replay-<time>; RUN_DIR-branch-<time> with --from-step)",
    )
    report = sub.add_parser(
        "report", help="print a run's score tables and write its HTML report (RUN_DIR/report.html)"
    )
    report.add_argument("run_dir", type=Path, help="a run directory made by `claw eval`")
    report.add_argument(
        "--out", type=Path, help="where to write the HTML report (default RUN_DIR/report.html)"
    )
    report.add_argument("--no-html", action="store_true", help="print the tables only; write no HTML file")
    report.add_argument(
        "--rules",
        choices=["official", "sc"],
        default="official",
        help="benchmark scoring: the official rules, or the published system's (sc)",
    )
    sub.add_parser("suites", help="list the suites: description, sample count, whether --data is needed")
    data = sub.add_parser("data", help="benchmark data helpers")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    check = data_sub.add_parser("check", help="say which files of a benchmark are missing")
    check.add_argument("--suite", required=True, help="the benchmark's suite name (see `claw suites`)")
    check.add_argument("--data", required=True, type=Path, help="the benchmark's local data directory")
    sandbox = sub.add_parser("sandbox", help="sandbox tools")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", required=True)
    run = sandbox_sub.add_parser("run", help="run FILE.py as one cell under the episode sandbox")
    run.add_argument("file", type=Path, help="a Python file to run as one cell")
    run.add_argument(
        "--unsafe-no-confinement",
        action="store_true",
        help="run without OS confinement where it is unavailable",
    )
    run.add_argument(
        "--no-ast-check",
        action="store_true",
        help="skip the AST policy, so the cell meets only the OS confinement (to see what that layer holds)",
    )
    bench = sub.add_parser(
        "bench", help="measure the runtime: episodes/s, efficiency, CPU, memory (JSON + table)"
    )
    bench.add_argument("--json", type=Path, default=None, help="write every figure here as JSON")
    bench.add_argument("--quick", action="store_true", help="under a minute: fewer, smaller levels")
    bench.add_argument("--latency-ms", type=float, default=None, help="model latency per call (default 500)")
    serve = sub.add_parser("serve", help="start model servers")
    serve_sub = serve.add_subparsers(dest="serve_command", required=True)
    _add_vllm_parser(serve_sub.add_parser("vllm", help="start vLLM servers and write an endpoints file"))
    _add_register_parser(
        serve_sub.add_parser("register", help="run a server registered with a Ray cluster (for discovery)")
    )
    return parser


def _add_register_parser(register: argparse.ArgumentParser) -> None:
    register.usage = (
        "claw serve register --ray ADDRESS --url URL [--model NAME] [--kind model|perception] "
        "[-- COMMAND ...]"
    )
    register.add_argument(
        "--ray", required=True, dest="ray_address", help="the cluster: auto or HEAD_IP:PORT"
    )
    register.add_argument(
        "--url", required=True, help="where other nodes reach the server (model: up to /v1)"
    )
    register.add_argument(
        "--kind", choices=["model", "perception"], default="model", help="what it serves (default model)"
    )
    register.add_argument("--model", default="", help="the served model name (model servers)")
    register.add_argument("--roles", default="", help="comma-separated roles it serves (default: all)")
    register.add_argument("--token-env", help="variable holding a perception server's bearer token")
    register.add_argument("--max-concurrency", type=int, help="requests this server takes at once")
    register.add_argument(
        "--ready-timeout", type=float, default=600.0, help="seconds for the server to answer (default 600)"
    )
    register.add_argument("server_command", nargs=argparse.REMAINDER, help="after --: the server to run")


def _add_vllm_parser(vllm: argparse.ArgumentParser) -> None:
    vllm.usage = "claw serve vllm --model NAME [options] [-- ANY VLLM SERVE ARGUMENT ...]"
    vllm.add_argument("--model", required=True, help="the model to serve (a local path or a hub name)")
    vllm.add_argument("--tp", type=int, default=1, help="tensor-parallel GPUs per replica (default 1)")
    vllm.add_argument("--replicas", type=int, default=1, help="servers to start (default 1)")
    vllm.add_argument("--port", type=int, default=8000, help="port of the first replica; the next count up")
    vllm.add_argument(
        "--endpoints-file",
        type=Path,
        default=Path("endpoints.json"),
        help="where to write the endpoints for `models.endpoints_file` (default endpoints.json)",
    )
    vllm.add_argument("--served-name", help="the model name requests use (default: --model)")
    vllm.add_argument("--max-model-len", type=int, help="context length in tokens")
    vllm.add_argument("--reasoning-parser", help="vLLM reasoning parser, e.g. qwen3 or gemma4")
    vllm.add_argument("--chat-template", help="chat template file (or inline template) to use instead")
    vllm.add_argument(
        "--tool-call-parser",
        help="vLLM tool-call parser, e.g. gemma4 or hermes: turns on the tool calls that "
        "--interface tool-call needs",
    )
    vllm.add_argument("--load-format", help="e.g. dummy: random weights, for throughput runs")
    vllm.add_argument(
        "--limit-images",
        type=int,
        help="images per prompt (vLLM --limit-mm-per-prompt); default: models.max_images_per_prompt "
        "of --config / --preset, else 64",
    )
    vllm.add_argument("--config", type=Path, help="the run's claw config, for its images-per-prompt limit")
    vllm.add_argument("--preset", help="the run's preset (e.g. paper), for its images-per-prompt limit")
    vllm.add_argument(
        "--ray",
        dest="ray_address",
        help="register the replicas with this Ray cluster (auto or HEAD_IP:PORT) for `[ray] discover`; "
        "they listen on this node's cluster IP",
    )
    vllm.add_argument("vllm_args", nargs=argparse.REMAINDER, help="after --: passed to vllm serve as is")


def _set(tree: dict[str, Any], dotted: str, value: object) -> None:
    *parents, leaf = dotted.split(".")
    for key in parents:
        tree = tree.setdefault(key, {})
    tree[leaf] = value


_FLAG_FIELDS = {
    "suite": "suite",
    "n": "n",
    "samples": "samples",
    "seed": "seed",
    "data_dir": "data_dir",
    "run_dir": "run_dir",
    "interface": "agent.interface",
    "policy": "models.policy",
    "noise": "perception.noise",
    "max_steps": "agent.max_steps",
    "episodes": "limits.episodes",
    "kernels": "limits.kernels",
    "unsafe_no_confinement": "sandbox.unsafe_no_confinement",
    "retry_errors": "retry_errors",
    "ray_address": "ray.address",
    "ray_workers": "ray.workers",
    "ray_discover": "ray.discover",
}


def eval_config_from_args(args: argparse.Namespace) -> EvalConfig:
    """The config file (if any) with every given flag applied on top.

    Raises:
        ConfigError: a value is invalid; the message names the flag's config field.
    """
    preset = getattr(args, "preset", None)
    if args.config:
        base = load_config(args.config, preset=preset)
    else:
        base = config_from_mapping({"preset": preset}) if preset else EvalConfig()
    tree: dict[str, Any] = msgspec.to_builtins(base)
    for flag, field in _FLAG_FIELDS.items():
        value = getattr(args, flag, None)
        if value is not None:
            _set(tree, field, None if value == "all" else value)
    config = config_from_mapping(tree)
    if getattr(args, "ray_workers", None) is not None and config.ray.address is None:
        raise ConfigError(
            "--ray-workers needs a Ray cluster: add --ray auto|local|HEAD_IP:PORT (or [ray] address)",
            field="ray.workers",
        )
    return config
