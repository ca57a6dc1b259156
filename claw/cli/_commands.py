"""What each `claw` command does, given its parsed arguments; `COMMANDS` maps a command name to it.
Heavy modules are imported inside each command, so `claw --help` stays fast."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import anyio
import msgspec

from claw.cli._parser import EXIT_EPISODE_ERRORS, eval_config_from_args
from claw.config import EvalConfig, config_from_mapping, load_config
from claw.errors import ClawError, ConfigError
from claw.llm.types import Role

if TYPE_CHECKING:
    from claw.llm.endpoints import EndpointsFile
    from claw.runtime.sinks import Summary


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
    problem = unscored_episodes(summary, run_dir)
    if problem is None:
        return 0
    print(problem, file=sys.stderr)
    return EXIT_EPISODE_ERRORS


def unscored_episodes(summary: Summary, run_dir: Path) -> str | None:
    """The one line `claw eval` ends with when episodes ended in error (infrastructure failures are not
    scores, so the run is not done until they run again), or None when every episode was scored."""
    unscored = summary.errors + summary.failed
    if unscored == 0:
        return None
    see = f"see `claw tail {run_dir} --event episode_failed --event episode_finished`"
    if summary.n == 0:
        return (
            f"claw: error: every episode failed ({summary.errors} ended in error, {summary.failed} could "
            f"not run); {see}"
        )
    return (
        f"claw: error: {unscored} of {summary.n + unscored} episodes ended in error (infrastructure "
        f"failures, not scores); re-run the same command to run them again; {see}"
    )


async def _cmd_tail(args: argparse.Namespace) -> int:
    from claw.runtime.tail import tail_events

    relative = args.time == "relative"
    if args.follow and not (Path(args.run_dir) / "events.jsonl").exists():
        print(
            f"claw: waiting for {Path(args.run_dir) / 'events.jsonl'} (is `claw eval` starting?)",
            file=sys.stderr,
        )
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
    if args.from_step is not None and result.live_requests == 0:
        print(f"note: the episode ended before step {args.from_step}; nothing went live (a plain replay)")
    print(f"{kind} run directory: {result.out_dir}")
    return 0 if same == total else 1


async def _cmd_report(args: argparse.Namespace) -> int:
    from bench.htmlreport import read_run_facts, write_report
    from bench.report import render_results
    from claw.runtime.sinks import read_results
    from claw.runtime.tables import report_run

    if args.out is not None and not args.no_html and not args.out.parent.is_dir():
        raise ClawError(f"--out {args.out}: the folder {args.out.parent} does not exist; create it first")
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
    if args.serve_command == "register":
        return await _cmd_serve_register(args)
    if args.ray_address:
        from claw.distributed.serve import ray_session

        async with ray_session(args.ray_address) as ray:
            return await _cmd_serve_vllm(args, ray)
    return await _cmd_serve_vllm(args, None)


async def _cmd_serve_register(args: argparse.Namespace) -> int:
    from claw.distributed.serve import serve_registered
    from claw.wire.ray import Registration

    roles = tuple(role.strip() for role in args.roles.split(",") if role.strip())
    unknown = sorted(set(roles) - set(get_args(Role)))
    if unknown:
        raise ConfigError(f"--roles: unknown role {unknown[0]!r}; use {', '.join(get_args(Role))}")
    if args.kind == "model" and not args.model:
        raise ConfigError("claw serve register --kind model needs --model (the served model name)")
    if not args.url.startswith(("http://", "https://")):
        raise ConfigError(f"--url {args.url!r} is not an http(s) URL")
    registration = Registration(
        kind=args.kind,
        url=args.url,
        model=args.model,
        roles=roles,
        token_env=args.token_env,
        max_concurrency=args.max_concurrency,
    )
    command = args.server_command[1:] if args.server_command[:1] == ["--"] else args.server_command
    return await serve_registered(args.ray_address, registration, command, ready_timeout_s=args.ready_timeout)


async def _cmd_serve_vllm(args: argparse.Namespace, ray: Any) -> int:
    from claw.llm.vllm import serve_vllm

    images = images_per_prompt(args)
    options = {
        "served_name": args.served_name,
        "max_model_len": args.max_model_len,
        "reasoning_parser": args.reasoning_parser,
        "chat_template": args.chat_template,
        "tool_call_parser": args.tool_call_parser,
        "load_format": args.load_format,
        "host": _node_ip(ray),
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
        on_ready=_registering(ray),
        **{k: v for k, v in options.items() if v is not None},
    )


def _node_ip(ray: Any) -> str | None:
    """With `--ray`, replicas listen on this node's cluster IP, where the other nodes reach them."""
    if ray is None:
        return None
    from claw.distributed.serve import node_ip

    return node_ip(ray)


def _registering(ray: Any) -> Callable[[EndpointsFile], AbstractAsyncContextManager[None]] | None:
    """For `claw serve vllm --ray`: keep the ready replicas in the cluster's registry while they run."""
    if ray is None:
        return None
    from claw.distributed.serve import registered
    from claw.wire.ray import Registration

    node_id = ray.get_runtime_context().get_node_id()

    def on_ready(served: EndpointsFile) -> AbstractAsyncContextManager[None]:
        return registered(
            ray,
            [
                Registration(
                    kind="model",
                    url=e.url,
                    model=e.model,
                    max_concurrency=e.max_concurrency,
                    max_images_per_prompt=e.max_images_per_prompt,
                    node_id=node_id,
                )
                for e in served.endpoints
            ],
        )

    return on_ready


async def _cmd_bench(args: argparse.Namespace) -> int:
    from bench.perf.claw_bench import bench_command

    return await bench_command(args)


COMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
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
