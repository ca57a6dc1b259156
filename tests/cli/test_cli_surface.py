"""The command line's surface: help on every flag and positional, `--version`, the environment in the
help, one-line `claw: error:` messages, `--n all` and `--sample`, `claw suites`, and `claw tail`'s times,
details and event-name check."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from claw._version import __version__
from claw.cli import build_parser, eval_config_from_args
from claw.errors import ClawError
from claw.events import CellExecuted, EpisodeStarted, Event, LLMFailed
from claw.runtime.tail import EVENT_NAMES, check_event_names, render_event
from tests._claw_cli import run_claw


def _claw(*args: str) -> subprocess.CompletedProcess[str]:
    return run_claw(*args, timeout=300)


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _parsers(child)


def test_every_flag_and_positional_has_help() -> None:
    missing = [
        f"{parser.prog}: {action.dest}"
        for parser in _parsers(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not (action.help or "").strip()
    ]
    assert missing == []


def test_every_subcommand_has_help() -> None:
    missing = [
        f"{parser.prog} {choice.dest}"
        for parser in _parsers(build_parser())
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for choice in action._choices_actions
        if not choice.help
    ]
    assert missing == []


def test_version_and_environment_in_help() -> None:
    assert _claw("--version").stdout.strip() == f"claw {__version__}"
    for help_text in (_claw("--help").stdout, _claw("eval", "--help").stdout):
        assert "CLAW_AGENT_URL" in help_text and "CLAW_<ROLE>_API_KEY_ENV" in help_text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["eval", "--n", "lots"],
            "claw: error: argument --n: expected a number of samples or `all`, got 'lots'",
        ),
        (["nosuch"], "claw: error: argument COMMAND: invalid choice: 'nosuch'"),
        (["tail"], "claw: error: the following arguments are required: run_dir"),
        (
            ["report", "runs/x", "--out", "no/such/folder/r.html"],
            "claw: error: --out no/such/folder/r.html: the folder no/such/folder does not exist",
        ),
    ],
)
def test_usage_errors_are_one_claw_error_line(args: list[str], message: str) -> None:
    done = _claw(*args)
    assert done.returncode == 2
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1, done.stderr


def test_n_all_and_repeated_sample_reach_the_config() -> None:
    args = build_parser().parse_args(
        ["eval", "--n", "all", "--sample", "syn-0-00003", "--sample", "syn-0-00007"]
    )
    config = eval_config_from_args(args)
    assert config.n is None and config.samples == ["syn-0-00003", "syn-0-00007"]
    assert eval_config_from_args(build_parser().parse_args(["eval", "--n", "5"])).n == 5


def test_suites_lists_description_sample_count_and_data_need() -> None:
    done = _claw("suites")
    assert done.returncode == 0
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[1:]}
    assert "any (--n)" in rows["synthetic"] and " no " in rows["synthetic"]
    assert "400" in rows["erqa"] and " yes " in rows["erqa"] and "ERQA (Single-image)" in rows["erqa"]
    assert "published system's scoring" in rows["erqa-sc"]
    assert "all 20 benchmarks" in rows["paper20"]


def _events() -> list[Event]:
    return [
        EpisodeStarted(run_id="r", episode_id="e", sample_id="s", suite="x", category="size",
                       question="How tall is the lamp?\nIn metres.", answer_format="number", t_wall=1000.0),
        CellExecuted(run_id="r", episode_id="e", step=2, status="error", duration_s=0.5,
                     error_type="NameError",
                     error_message="name 'pts' is not defined", t_wall=1003.25),
        LLMFailed(run_id="r", episode_id="e", step=3, role="agent", error_type="LLMTimeout",
                  message="no reply in 60 s", t_wall=1010.0),
    ]  # fmt: skip


def test_tail_lines_carry_relative_times_questions_and_errors() -> None:
    lines = [render_event(e, origin=1000.0) for e in _events()]
    assert lines[0] == "+    0.000s e #0 episode_started [size] How tall is the lamp?"
    assert lines[1] == "+    3.250s e #2 cell_executed error 0.50s NameError: name 'pts' is not defined"
    assert lines[2] == "+   10.000s e #3 llm_failed agent LLMTimeout: no reply in 60 s"


def test_tail_wall_times_are_times_of_day() -> None:
    line = render_event(_events()[1])
    clock = line.split()[0]
    assert len(clock) == len("12:34:56.250") and clock.endswith(".250") and clock.count(":") == 2


def test_unknown_event_names_are_refused_with_a_suggestion() -> None:
    check_event_names(["cell_executed", "episode_started"])
    with pytest.raises(ClawError, match="did you mean 'cell_executed'"):
        check_event_names(["cell_execute"])
    assert "key_frames_chosen" in EVENT_NAMES and "run_finished" in EVENT_NAMES


def test_a_sample_id_the_suite_lacks_is_one_error_line(tmp_path: Path) -> None:
    # One real episode runs; the bound only stops a hung run, however slow the machine. Its own TMPDIR:
    # what a killed run of another test left in a shared one is swept with an (info) line on stderr.
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    done = run_claw("eval", "--n", "2", "--kernels", "1", "--quiet", "--run-dir", str(tmp_path / "run"),
                    "--sample", "syn-0-00001", "--sample", "syn-0-0001", timeout=900, env=env)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(
        "claw: error: --sample syn-0-0001: no such sample among the first 2 samples of synthetic (ids look "
        "like syn-0-00000, syn-0-00001)"
    ), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    results = (tmp_path / "run" / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["sample_id"] for line in results] == ["syn-0-00001"]
