"""Progress: counters folded from events (rate, ETA, tokens, requests in flight, endings), the plain
line format for pipes (no repeated last line), the live display, and what a real run prints and records
in `summary.json`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import msgspec
import pytest
from rich.console import Console

from claw.config import EvalConfig, RayConfig
from claw.events import (
    EpisodeFailed,
    EpisodeFinished,
    Event,
    KernelFailed,
    LLMFailed,
    LLMRequested,
    LLMResponded,
    RunStarted,
)
from claw.runtime.layout import RunLayout
from claw.runtime.progress import ProgressSink, ProgressSnapshot
from claw.runtime.progress_view import progress_view, render_snapshot
from claw.runtime.runner import _starting_line
from tests._claw_cli import run_claw


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _finished(score: float, reason: str = "answered") -> EpisodeFinished:
    return EpisodeFinished(run_id="r", episode_id="e", sample_id="s", category="c", answer="a",
                           ground_truth="a", score=score, metric="exact", reason=reason, steps=1,  # type: ignore[arg-type]
                           duration_s=1.0)  # fmt: skip


def _responded(prompt: int, completion: int) -> LLMResponded:
    return LLMResponded(run_id="r", role="agent", endpoint="u", prompt_tokens=prompt,
                        completion_tokens=completion, latency_s=0.1)  # fmt: skip


async def test_the_sink_counts_endings_tokens_and_requests_and_estimates_the_rest() -> None:
    clock, published = Clock(), []
    sink = ProgressSink(10, published.append, done=2, score_sum=1.0, interval_s=1.0, clock=clock)
    events: list[Event] = [
        RunStarted(run_id="r", suite="s", claw_version="0", config={}),
        LLMRequested(run_id="r", role="agent", n_messages=1),
        LLMRequested(run_id="r", role="agent", n_messages=1),
        LLMRequested(run_id="r", role="planner", n_messages=1),
        _responded(100, 20),
        LLMFailed(run_id="r", role="agent", error_type="LLMTimeout", message="slow"),
        _finished(1.0), _finished(0.0, "forced"), _finished(0.0, "error"),
        EpisodeFailed(run_id="r", episode_id="e", sample_id="s", error_type="OSError", message="m"),
        KernelFailed(run_id="r", kernel_id="k", message="died"),
    ]  # fmt: skip
    await sink.handle(events[:1])
    clock.now += 8.0
    await sink.handle(events[1:])
    last = published[-1]
    assert (last.done, last.total, last.accuracy) == (4, 10, 0.5)
    assert (last.forced, last.errors, last.failed, last.kernel_deaths) == (1, 1, 1, 1)
    assert (last.prompt_tokens, last.completion_tokens, last.requests_in_flight) == (100, 20, 1)
    assert last.rate == pytest.approx(4 / 8.0)
    assert last.eta_s == pytest.approx(4 / 0.5)
    await sink.handle([])
    assert len(published) == 2, "published again before interval_s passed"
    await sink.aclose()
    assert published[-1].finished


def _snapshot(done: int, elapsed: float, *, finished: bool = False) -> ProgressSnapshot:
    return ProgressSnapshot(done=done, total=4, accuracy=1.0, elapsed_s=elapsed, rate=0.5, eta_s=4.0,
                            finished=finished)  # fmt: skip


def test_plain_lines_are_spaced_and_the_last_is_not_repeated() -> None:
    stream = io.StringIO()
    with progress_view(stream, live=False) as view:
        view.report("starting services")
        for done, elapsed in [(0, 0.0), (1, 1.0), (1, 6.0), (2, 7.0), (3, 12.0)]:
            view.progress(_snapshot(done, elapsed))
        view.progress(_snapshot(3, 13.0, finished=True))
    lines = stream.getvalue().splitlines()
    assert lines[0] == "starting services"
    assert [line.split("]")[0] for line in lines[1:]] == ["[0/4", "[1/4", "[3/4"]


def test_a_finished_run_gets_its_last_line_when_it_changed() -> None:
    stream = io.StringIO()
    with progress_view(stream, live=False) as view:
        view.progress(_snapshot(1, 0.0))
        view.progress(_snapshot(4, 1.0, finished=True))
    assert [line.split("]")[0] for line in stream.getvalue().splitlines()] == ["[1/4", "[4/4"]


def test_the_live_display_shows_every_figure() -> None:
    console = Console(record=True, width=160)
    snapshot = ProgressSnapshot(
        done=7, total=20, accuracy=0.75, forced=2, errors=1, failed=3, kernel_deaths=4,
        requests_in_flight=5, prompt_tokens=12345, completion_tokens=678, elapsed_s=65.0, rate=0.12,
        eta_s=125.0,
    )  # fmt: skip
    console.print(render_snapshot(snapshot))
    text = console.export_text()
    for expected in ("11/20 episodes", "accuracy 0.750", "0.12 ep/s", "elapsed 1:05", "ETA 2:05",
                     "12,345 in + 678 out", "requests in flight 5", "forced 2", "errors 1", "failed 3",
                     "kernel deaths 4"):  # fmt: skip
        assert expected in text


@pytest.mark.slow
def test_a_run_says_it_is_starting_at_once_and_records_its_facts(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    with tempfile.TemporaryDirectory(prefix="cw") as temp:  # short: sockets are made in it
        left_by_a_killed_run = Path(temp) / f"claw-{dead.stdout.strip()}-x"
        left_by_a_killed_run.mkdir()  # its removal is logged, after the starting line
        env = {**os.environ, "TMPDIR": temp}
        done = run_claw("eval", "--n", "2", "--run-dir", str(run_dir), env=env)
        assert not left_by_a_killed_run.exists()
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "starting services" in lines[0]
    progress = [line for line in lines if line.startswith("[")]
    assert progress and progress[-1].startswith("[2/2]") and len(progress) == len(set(progress))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["target_n"] == 2 and summary["duration_s"] > 0
    assert summary["model"] == "mock LLM server (scripted policy)"
    assert summary["prompt_tokens"] > 0 and summary["completion_tokens"] > 0
    assert summary["failures"] == {} and summary["kernel_deaths"] == 0
    assert "status complete (n=2)" in done.stdout and "failures by kind: none" in done.stdout


def test_the_starting_line_says_where_the_services_start() -> None:
    """On Ray the driver starts no kernels: each worker starts its own services."""

    here = RunLayout(run_id="r1", run_dir=Path("runs/r1"), config=EvalConfig())
    assert "starting services (perception synthetic, the mock LLM server, 8 kernels)" in _starting_line(
        here, 0
    )
    ray = msgspec.structs.replace(here, config=EvalConfig(ray=RayConfig(address="local")))
    assert "starting services on each Ray worker (local) (perception" in _starting_line(ray, 0)
