"""The `claw` command line: `eval`, `tail`, `report`, `suites`, `data check`, `sandbox run`, `serve vllm`.

User errors (unknown suite, bad config value, a port in use, a server that does not come up) end in one
line on stderr that says what was wrong and what to do, and a non-zero exit code; never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import anyio
import msgspec

from claw._logging import configure_logging
from claw._process import first_leaf
from claw._version import __version__
from claw.agent.interfaces import interface_names
from claw.config import EvalConfig, config_from_mapping, load_config
from claw.errors import ClawError

__all__ = ["main"]

EXIT_ALL_FAILED = 1
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


def _build_parser() -> argparse.ArgumentParser:
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
    return parser


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
    vllm.add_argument("--load-format", help="e.g. dummy: random weights, for throughput runs")
    vllm.add_argument(
        "--limit-images",
        type=int,
        help="images per prompt (vLLM --limit-mm-per-prompt); default: models.max_images_per_prompt "
        "of --config / --preset, else 64",
    )
    vllm.add_argument("--config", type=Path, help="the run's claw config, for its images-per-prompt limit")
    vllm.add_argument("--preset", help="the run's preset (e.g. paper), for its images-per-prompt limit")
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
    return config_from_mapping(tree)


async def _cmd_eval(args: argparse.Namespace) -> int:
    from claw.distributed import executor_for
    from claw.runtime.progress_view import progress_view
    from claw.runtime.runner import run_eval
    from claw.runtime.tables import summary_table

    config = eval_config_from_args(args)
    with progress_view(sys.stderr, quiet=args.quiet) as view:
        executor = executor_for(config, view.report)
        summary = await run_eval(
            config, report=view.report, progress=view.progress, stop=args.stop, executor=executor
        )
    print(summary_table(summary))
    run_dir = Path(config.run_dir) if config.run_dir else Path("runs") / summary.run_id
    print(f"run directory: {run_dir}")
    if summary.n == 0 and summary.errors + summary.failed > 0:
        print(
            f"claw: error: every episode failed ({summary.errors} ended in error, {summary.failed} could "
            f"not run); see `claw tail {run_dir} --event episode_failed --event episode_finished`",
            file=sys.stderr,
        )
        return EXIT_ALL_FAILED
    return 0


async def _cmd_tail(args: argparse.Namespace) -> int:
    from claw.runtime.tail import tail_events

    relative = args.time == "relative"
    tail = tail_events(
        args.run_dir, follow=args.follow, episode=args.episode, kinds=args.event, relative=relative
    )
    async for line in tail:
        print(line, flush=True)
    return 0


async def _cmd_transcript(args: argparse.Namespace) -> int:
    from claw.runtime.transcript import (
        episode_events,
        exchanges,
        find_episode,
        render_transcript,
        wire_messages,
    )

    episode = await anyio.to_thread.run_sync(find_episode, args.run_dir, args.episode)
    items = exchanges(await anyio.to_thread.run_sync(episode_events, args.run_dir, episode))
    if not args.json:
        print(render_transcript(items, full=args.full))
        return 0
    for item in items:
        messages = await anyio.to_thread.run_sync(wire_messages, item, args.run_dir)
        record = {"thread": item.thread, "step": item.step, "messages": messages, "tools": item.tools}
        print(msgspec.json.encode(record).decode())
    return 0


async def _cmd_replay(args: argparse.Namespace) -> int:
    import time

    from claw.runtime.replay import replay_run
    from claw.runtime.transcript import find_episode

    if args.from_step is not None and (args.from_step < 0 or len(args.episode) != 1):
        raise ClawError("--from-step K needs K >= 0 and exactly one episode to branch")
    episodes = [await anyio.to_thread.run_sync(find_episode, args.run_dir, e) for e in args.episode]
    kind = "replay" if args.from_step is None else "branch"
    out_dir = args.out_dir or Path(f"{args.run_dir}-{kind}-{time.strftime('%Y%m%d-%H%M%S')}")
    result = await replay_run(args.run_dir, episodes, out_dir, from_step=args.from_step)
    for comparison in result.comparisons:
        verdict = "identical" if comparison.identical else f"{len(comparison.differences)} difference(s)"
        print(f"{comparison.episode_id}: {verdict} ({comparison.cells} cells compared)")
        for line in comparison.differences:
            print(f"    {line}")
    same = sum(c.identical for c in result.comparisons)
    total = len(result.comparisons)
    print(f"identical: {same} of {total} episodes ({100 * same / max(total, 1):.1f}%)")
    print(f"{result.replayed_requests} model replies replayed, {result.live_requests} asked live")
    print(f"{kind} run directory: {result.out_dir}")
    return 0 if same == total else 1


async def _cmd_report(args: argparse.Namespace) -> int:
    from bench.htmlreport import read_run_facts, write_report
    from bench.report import render_results
    from claw.runtime.sinks import read_results
    from claw.runtime.tables import report_run

    facts = await anyio.to_thread.run_sync(read_run_facts, args.run_dir)
    if not facts.complete:
        print(f"note: this run is {facts.status}; the tables cover its {facts.finished} finished episodes")
    print(await anyio.to_thread.run_sync(report_run, args.run_dir))
    results = await anyio.to_thread.run_sync(read_results, args.run_dir / "results.jsonl")
    if any(r.suite != "synthetic" for r in results):
        print()
        print(render_results(results, rules=args.rules))
    if not args.no_html:
        written = await anyio.to_thread.run_sync(
            lambda: write_report(args.run_dir, args.out, rules=args.rules)
        )
        print(f"HTML report: {written}")
    return 0


async def _cmd_suites(args: argparse.Namespace) -> int:
    from bench.suites._catalog import about
    from claw.suite import suite_names

    rows = [about(name) for name in await anyio.to_thread.run_sync(suite_names)]
    width = max(len(r.name) for r in rows)
    print(f"{'suite':<{width}}  {'samples':>9}  --data  description")
    for row in rows:
        needs = "yes" if row.needs_data else "no"
        print(f"{row.name:<{width}}  {row.samples:>9}  {needs:<6}  {row.description}")
    return 0


async def _cmd_data(args: argparse.Namespace) -> int:
    from bench.suites.check import check_report

    missing, skipped = await anyio.to_thread.run_sync(check_report, args.suite, args.data)
    for line in [*missing, *skipped]:
        print(line)
    if missing:
        return 1
    print(f"{args.suite}: all files present under {args.data}")
    return 0


async def _cmd_sandbox(args: argparse.Namespace) -> int:
    from claw.config import SandboxConfig
    from claw.sandbox.cli import sandbox_run

    config = SandboxConfig(unsafe_no_confinement=args.unsafe_no_confinement)
    return await sandbox_run(args.file, config, ast_check=not args.no_ast_check)


def images_per_prompt(args: argparse.Namespace) -> int:
    """`claw serve vllm`'s image limit: `--limit-images`, else the run config's (or preset's), the same
    value the runtime keeps requests under."""
    if args.limit_images is not None:
        return int(args.limit_images)
    if args.config is not None:
        config = load_config(args.config, preset=args.preset)
    else:
        config = config_from_mapping({"preset": args.preset}) if args.preset else EvalConfig()
    return config.models.max_images_per_prompt


async def _cmd_serve(args: argparse.Namespace) -> int:
    from claw.llm.vllm import serve_vllm

    images = images_per_prompt(args)
    options = {
        "served_name": args.served_name,
        "max_model_len": args.max_model_len,
        "reasoning_parser": args.reasoning_parser,
        "chat_template": args.chat_template,
        "load_format": args.load_format,
    }
    extra = args.vllm_args[1:] if args.vllm_args[:1] == ["--"] else args.vllm_args
    return await serve_vllm(
        model=args.model,
        tp=args.tp,
        replicas=args.replicas,
        port=args.port,
        endpoints_file=args.endpoints_file,
        max_images_per_prompt=images,
        extra_args=tuple(extra),
        **{k: v for k, v in options.items() if v is not None},
    )


async def _cmd_bench(args: argparse.Namespace) -> int:
    from bench.perf.claw_bench import bench_command

    return await bench_command(args)


_COMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "bench": _cmd_bench,
    "eval": _cmd_eval,
    "tail": _cmd_tail,
    "transcript": _cmd_transcript,
    "replay": _cmd_replay,
    "report": _cmd_report,
    "suites": _cmd_suites,
    "data": _cmd_data,
    "sandbox": _cmd_sandbox,
    "serve": _cmd_serve,
}


class Terminated(Exception):
    """The process got SIGINT, SIGTERM or SIGHUP; everything it started has been stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


async def _until_signalled(command: Callable[[argparse.Namespace], Any], args: argparse.Namespace) -> int:
    """Run `command`, turning SIGINT/SIGTERM/SIGHUP into a clean stop so that every server, kernel and file it
    opened is closed by the block that opened it (no orphaned helper processes). The first signal sets
    `args.stop` (commands that watch it, like `eval`, wind down and write their summary); a second one,
    or the first for commands that do not watch it, cancels everything."""
    code = 0
    signalled: int | None = None
    failure: Exception | None = None
    args.stop = anyio.Event()
    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            nonlocal signalled
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM, signal.SIGHUP) as signals:
                async for signum in signals:
                    if signalled is not None or not getattr(args, "watches_stop", False):
                        tg.cancel_scope.cancel()
                    signalled = signum
                    args.stop.set()

        async def work() -> None:
            nonlocal code, failure
            try:
                code = await command(args)
            except Exception as exc:  # noqa: BLE001 - re-raised below, outside the task group's wrapping
                failure = exc
            finally:
                tg.cancel_scope.cancel()

        tg.start_soon(watch)
        tg.start_soon(work)
    if failure is not None:
        raise failure
    if signalled is not None:
        raise Terminated(signalled)
    return code


def _run(command: Callable[[argparse.Namespace], Any], args: argparse.Namespace) -> int:
    options = {"use_uvloop": True} if sys.platform == "linux" else {}
    try:
        code: int = anyio.run(_until_signalled, command, args, backend_options=options)
    except ModuleNotFoundError as exc:
        if exc.name == "uvloop":
            code = anyio.run(_until_signalled, command, args)
        else:
            raise
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `claw` console script; returns the exit code."""
    args = _build_parser().parse_args(argv)
    configure_logging()
    try:
        return _run(_COMMANDS[args.command], args)
    except ClawError as exc:
        print(f"claw: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BaseExceptionGroup as group:
        # A user error raised inside a task group (a service or the sandbox refusing to start) arrives
        # wrapped; it still gets its one line.
        leaf = first_leaf(group)
        if not isinstance(leaf, ClawError):
            raise
        print(f"claw: error: {leaf}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:
        # The reader went away (e.g. `claw tail … | head`): not an error; silence the final flush.
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        print("claw: interrupted; re-run the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated as stopped:
        print(f"claw: stopped by {stopped}; re-run the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED if stopped.signum == signal.SIGINT else EXIT_TERMINATED
    except OSError as exc:
        print(f"claw: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
