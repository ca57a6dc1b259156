"""`claw replay`: the recorded replies are served back by episode and role, differences between a
recording and its replay are found and named, a whole run replays identically, a doctored recording is
caught, and `--from-step` branches an episode into a new run directory that goes on live."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from claw.errors import LLMBadResponse
from claw.events import (
    CellExecuted,
    EpisodeFinished,
    Event,
    LLMRequested,
    LLMResponded,
    RecordedMessage,
    decode_event,
    encode_line,
)
from claw.llm._scripted import ScriptedTransport
from claw.llm.types import ChatRequest, Message
from claw.runtime.replay import ReplayTransport, compare_episode, recorded_exchanges
from claw.runtime.transcript import read_events
from tests._claw_cli import run_claw


def _request(episode: str, step: int, role: str = "agent") -> LLMRequested:
    user = [] if step else [RecordedMessage(role="user", content="q")]
    return LLMRequested(run_id="r", episode_id=episode, step=step, role=role, n_messages=1, thread=role,
                        base=step, appended=user)  # fmt: skip


def _reply(episode: str, step: int, text: str, role: str = "agent") -> LLMResponded:
    return LLMResponded(run_id="r", episode_id=episode, step=step, role=role, endpoint="u", prompt_tokens=3,
                        completion_tokens=2, latency_s=0.1, content=text)  # fmt: skip


def _recording() -> list[Event]:
    return [
        _request("e1", 0), _reply("e1", 0, "first"), _request("e1", 1), _reply("e1", 1, "second"),
        _request("e2", 0), _reply("e2", 0, "other episode"),
    ]  # fmt: skip


def _chat(episode: str) -> ChatRequest:
    return ChatRequest(role="agent", messages=[Message(role="user", content="q")], session_id=episode)


async def test_replies_come_back_per_episode_in_order_then_the_replay_says_it_diverged() -> None:
    transport = ReplayTransport(recorded_exchanges(_recording(), ["e1", "e2"]), live=None)
    assert (await transport.complete(_chat("e2"))).content == "other episode"
    assert (await transport.complete(_chat("e1"))).content == "first"
    assert (await transport.complete(_chat("e1"))).content == "second"
    with pytest.raises(LLMBadResponse, match="asked for more agent replies than were recorded"):
        await transport.complete(_chat("e1"))


async def test_a_branch_replays_the_steps_before_k_then_asks_the_live_model() -> None:
    live = ScriptedTransport(lambda request: "live reply")
    transport = ReplayTransport(recorded_exchanges(_recording(), ["e1"], before_step=1), live=live)
    assert (await transport.complete(_chat("e1"))).content == "first"
    assert (await transport.complete(_chat("e1"))).content == "live reply"
    assert (transport.replayed, transport.live_requests) == (1, 1)


def _cell(step: int, stdout: str, **fields: object) -> CellExecuted:
    return CellExecuted(run_id="r", episode_id="e", step=step, status="ok", duration_s=0.1, stdout=stdout,
                        **fields)  # type: ignore[arg-type]  # fmt: skip


def _finished(answer: str, score: float) -> EpisodeFinished:
    return EpisodeFinished(run_id="r", episode_id="e", sample_id="s", category="c", answer=answer,
                           ground_truth="1", score=score, metric="exact", reason="answered", steps=2,
                           duration_s=1.0)  # fmt: skip


def test_compare_names_each_difference_by_step_and_field() -> None:
    original = [_cell(0, "a\nb"), _cell(1, "x", variable_notes=["n: int"]), _finished("1", 1.0)]
    replayed = [_cell(0, "a\nB"), _cell(1, "x", variable_notes=["n: float"]), _cell(2, "extra"),
                _finished("2", 0.0)]  # fmt: skip
    comparison = compare_episode(original, replayed, "e")
    assert not comparison.identical and comparison.cells == 3
    assert comparison.differences[0] == "step 0: stdout differs: line 2: 'b' → 'B'"
    assert comparison.differences[1].startswith("step 1: variables differ")
    assert comparison.differences[2] == "step 2: ran only in the replay"
    assert comparison.differences[3].startswith("outcome differs")
    assert compare_episode(original, original, "e").identical
    assert compare_episode(original, replayed, "e", up_to_step=0).identical


@pytest.fixture(scope="module")
def recorded_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("replay") / "run"
    made = run_claw("eval", "--n", "2", "--seed", "4", "--run-dir", str(run_dir), "--quiet")
    assert made.returncode == 0, made.stderr
    return run_dir


@pytest.mark.slow
def test_a_whole_run_replays_identically(recorded_run: Path, tmp_path: Path) -> None:
    done = run_claw("replay", str(recorded_run), "--run-dir", str(tmp_path / "replay"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "identical: 2 of 2 episodes (100.0%)" in done.stdout
    assert ", 0 asked live" in done.stdout


def _doctor(source: Path, target: Path) -> None:
    """A copy of the run whose log says the first cell printed something else."""
    target.mkdir()
    for item in source.iterdir():
        if item.name != "events.jsonl":
            (target / item.name).symlink_to(item)
    lines = []
    changed = False
    for line in (source / "events.jsonl").read_bytes().splitlines(keepends=True):
        event = decode_event(line)
        if isinstance(event, CellExecuted) and event.stdout and not changed:
            event, changed = msgspec.structs.replace(event, stdout=event.stdout + "tampered\n"), True
        lines.append(encode_line(event))
    (target / "events.jsonl").write_bytes(b"".join(lines))


@pytest.mark.slow
def test_a_recording_that_differs_is_caught(recorded_run: Path, tmp_path: Path) -> None:
    _doctor(recorded_run, tmp_path / "doctored")
    done = run_claw("replay", str(tmp_path / "doctored"), "--run-dir", str(tmp_path / "replay"))
    assert done.returncode == 1
    assert "identical: 1 of 2 episodes (50.0%)" in done.stdout
    assert "stdout differs" in done.stdout and "'tampered' → (no line)" in done.stdout


@pytest.mark.slow
def test_from_step_branches_into_a_new_run_that_goes_on_live(recorded_run: Path, tmp_path: Path) -> None:
    branch = tmp_path / "branch"
    done = run_claw("replay", str(recorded_run), "syn-4-00001", "--from-step", "1", "--run-dir", str(branch))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 model replies replayed" in done.stdout and "branch run directory" in done.stdout
    events = list(read_events(branch / "events.jsonl"))
    replies = [e for e in events if isinstance(e, LLMResponded) and e.role == "agent"]
    assert replies[0].endpoint == "replay" and all(r.endpoint != "replay" for r in replies[1:])
    original = [e for e in read_events(recorded_run / "events.jsonl") if isinstance(e, CellExecuted)
                and e.episode_id == "synthetic/syn-4-00001/s4"]  # fmt: skip
    first = next(e for e in events if isinstance(e, CellExecuted))
    assert (first.stdout, first.status) == (original[0].stdout, original[0].status)
    assert any(isinstance(e, EpisodeFinished) for e in events)
    shown = run_claw("transcript", str(branch), "syn-4-00001")
    assert "replayed from the recording" in shown.stdout


@pytest.mark.slow
def test_a_branch_past_the_last_step_says_nothing_went_live(recorded_run: Path, tmp_path: Path) -> None:
    branch = tmp_path / "branch"
    done = run_claw("replay", str(recorded_run), "syn-4-00001", "--from-step", "99", "--run-dir", str(branch))
    assert done.returncode == 0, done.stdout + done.stderr
    assert ", 0 asked live" in done.stdout
    assert "note: the episode ended before step 99; nothing went live" in done.stdout
