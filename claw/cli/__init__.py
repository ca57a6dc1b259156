"""The `claw` command line: `eval`, `tail`, `transcript`, `replay`, `report`, `suites`, `data check`,
`sandbox run`, `serve vllm`, `bench`.

User errors (unknown suite, bad config value, a port in use, a server that does not come up) end in one
line on stderr that says what was wrong and what to do, and a non-zero exit code; never a traceback.
The parser lives in `_parser`, the commands in `_commands`; this module runs one under signal handling.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from claw._logging import configure_logging
from claw._process import first_leaf
from claw.cli._commands import COMMANDS, images_per_prompt
from claw.cli._parser import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USER_ERROR,
    build_parser,
    eval_config_from_args,
)
from claw.errors import ClawError

__all__ = ["build_parser", "eval_config_from_args", "images_per_prompt", "main"]


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
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        return _run(COMMANDS[args.command], args)
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
