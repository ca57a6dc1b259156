"""`claw eval` end to end on real parts: the mock LLM server (scripted policy) over loopback HTTP, the
perception server with the synthetic backend over a Unix socket, real kernels, and the files a run
leaves behind. Also: user errors end in one line and a non-zero exit code."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest

from claw.events import (
    AnswerSubmitted,
    CellChecked,
    CellExecuted,
    CellProposed,
    EpisodeFinished,
    EpisodeStarted,
    LLMRequested,
    LLMResponded,
    ObservationMade,
    PlanMade,
    RunFinished,
    RunStarted,
    decode_event,
    decode_result,
)
from tests._claw_cli import eval_args, eval_command, run_claw

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("run") / "r"
    done = run_claw(*eval_args(path, n=3, seed=1), timeout=600)
    assert done.returncode == 0, done.stderr
    assert "accuracy" in done.stdout and str(path) in done.stdout
    return path


def test_every_stage_ran_and_every_line_decodes(run_dir: Path) -> None:
    lines = (run_dir / "events.jsonl").read_bytes().splitlines()
    events = [decode_event(line) for line in lines]
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    assert events[-1].status == "success"
    kinds = Counter(type(e) for e in events)
    for stage in (
        EpisodeStarted,
        PlanMade,
        LLMRequested,
        LLMResponded,
        CellProposed,
        CellChecked,
        CellExecuted,
        ObservationMade,
        AnswerSubmitted,
        EpisodeFinished,
    ):
        assert kinds[stage] >= 1, f"no {stage.__name__} event"
    assert kinds[EpisodeStarted] == kinds[EpisodeFinished] == 3
    assert any(e.status == "error" for e in events if isinstance(e, CellExecuted)), "no raising cell"


def test_answers_were_scored_against_ground_truth(run_dir: Path) -> None:
    finished = [decode_event(line) for line in (run_dir / "events.jsonl").read_bytes().splitlines()]
    finished = [e for e in finished if isinstance(e, EpisodeFinished)]
    results = [decode_result(line) for line in (run_dir / "results.jsonl").read_bytes().splitlines()]
    assert sorted(r.episode_id for r in results) == sorted(e.episode_id or "" for e in finished)
    for event in finished:
        assert event.answer is not None
        assert 0.0 <= event.score <= 1.0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["n"] == 3
    assert summary["accuracy"] == pytest.approx(sum(r.score for r in results) / 3)
    assert summary["accuracy"] >= 2 / 3
    assert set(summary["per_category"]) == {r.category for r in results}


def test_rerun_resumes_without_redoing_or_losing_results(run_dir: Path) -> None:
    before = (run_dir / "results.jsonl").read_bytes()
    done = run_claw(*eval_args(run_dir, n=3, seed=1), timeout=600)
    assert done.returncode == 0, done.stderr
    assert (run_dir / "results.jsonl").read_bytes() == before
    starts = [
        e
        for e in map(decode_event, (run_dir / "events.jsonl").read_bytes().splitlines())
        if isinstance(e, RunStarted)
    ]
    assert starts[-1].resumed_episodes == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("eval", "--suite", "nope"), "unknown suite 'nope'"),
        (("eval", "--max-steps", "0"), "agent.max_steps = 0 is not allowed: it must be a whole number"),
        (("eval", "--interface", "cdoe"), "did you mean 'code'?"),
        (("eval", "--noise", "realistc"), "did you mean 'realistic'?"),
        (("eval", "--config", "/nonexistent/claw.toml"), "does not exist"),
        (("report", "/nonexistent/run"), "no event log at /nonexistent/run"),
    ],
)
def test_user_errors_are_one_line_without_traceback(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    done = run_claw(*args, timeout=300, cwd=tmp_path)
    assert not (tmp_path / "runs").exists(), "a refused run must not leave a run directory behind"
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_sigterm_stops_cleanly_and_the_run_resumes(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    command = eval_command(run_dir, n=12, seed=2)
    stderr_path = tmp_path / "stderr.txt"
    with (
        stderr_path.open("w") as stderr,
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr) as process,
    ):
        # Stop once one episode is recorded (progress lines are throttled, so they are no signal).
        results = run_dir / "results.jsonl"
        deadline = time.monotonic() + 600
        while not (results.exists() and results.read_bytes().count(b"\n") >= 1):
            assert time.monotonic() < deadline, "no episode finished within 600 s"
            with pytest.raises(subprocess.TimeoutExpired):  # doubles as the poll interval
                process.wait(timeout=0.05)
        helpers = psutil.Process(process.pid).children(recursive=True)
        assert helpers, "claw eval started no helper processes"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=300) == 143, stderr_path.read_text()
    _gone, alive = psutil.wait_procs(helpers, timeout=60)
    assert not alive, f"left running: {[p.cmdline() for p in alive]}"
    events = [decode_event(line) for line in (run_dir / "events.jsonl").read_bytes().splitlines()]
    assert isinstance(events[-1], RunFinished) and events[-1].status == "cancelled"
    assert json.loads((run_dir / "summary.json").read_text())["n"] >= 1
    done = run_claw(*eval_args(run_dir, "--quiet", n=12, seed=2), timeout=600)
    assert done.returncode == 0, done.stderr
    assert json.loads((run_dir / "summary.json").read_text())["n"] == 12
