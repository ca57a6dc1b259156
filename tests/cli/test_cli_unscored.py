"""`claw eval` never ends quietly with episodes that ended in error: infrastructure failures are not scores,
so one line says how many and how to run them again, and the exit status is non-zero; re-running retries
them unless `--no-retry-errors` keeps them."""

from __future__ import annotations

from pathlib import Path

from claw.cli import build_parser, eval_config_from_args
from claw.cli._commands import unscored_episodes
from claw.runtime.sinks import Summary


def _summary(n: int, errors: int, failed: int) -> Summary:
    return Summary(
        run_id="r", suite="synthetic", n=n, accuracy=0.5, per_category={}, answered=n, forced=0,
        errors=errors, failed=failed,
    )  # fmt: skip


def test_a_fully_scored_run_ends_without_a_line() -> None:
    assert unscored_episodes(_summary(4, 0, 0), Path("runs/r")) is None


def test_some_errors_are_one_line_saying_how_to_run_them_again() -> None:
    line = unscored_episodes(_summary(3, 1, 1), Path("runs/r"))
    assert line is not None and "\n" not in line
    assert line.startswith(
        "claw: error: 2 of 5 episodes ended in error (infrastructure failures, not scores)"
    )
    assert "re-run the same command" in line and "claw tail runs/r" in line


def test_every_episode_failed_says_so() -> None:
    line = unscored_episodes(_summary(0, 2, 1), Path("runs/r"))
    assert line is not None
    assert line.startswith("claw: error: every episode failed (2 ended in error, 1 could not run)")


def test_errors_are_retried_on_resume_unless_the_flag_keeps_them() -> None:
    parse = build_parser().parse_args
    assert eval_config_from_args(parse(["eval"])).retry_errors is True
    assert eval_config_from_args(parse(["eval", "--no-retry-errors"])).retry_errors is False
