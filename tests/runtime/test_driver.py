"""The episode shell against in-tree fakes: a scripted model, a scripted kernel and a list sink."""

from __future__ import annotations

import itertools
from pathlib import Path

import anyio
import msgspec
import numpy as np
from PIL import Image

from claw.config import AgentConfig
from claw.errors import LLMTimeout
from claw.events import (
    AnswerSubmitted,
    CellExecuted,
    EpisodeFinished,
    EpisodeStarted,
    Event,
    KernelFailed,
    LLMFailed,
    ObservationMade,
    PlanMade,
)
from claw.llm import ScriptedTransport
from claw.llm.types import ChatRequest, ImagePart
from claw.runtime.driver import run_episode
from claw.runtime.episode_services import EpisodeServices
from claw.suite import Frame, Sample, Score, Video
from claw.wire.kernel import CellError, CellResult, SubmittedAnswer
from tests.fake_kernel import ScriptedKernel

FENCE = "```"


def reply(code: str) -> str:
    return f"**Purpose:** p\n**Reasoning:** r\n**Next Goal:** g\n**Code:**\n{FENCE}python\n{code}\n{FENCE}"


class Violation(msgspec.Struct, frozen=True):
    rule: str
    lineno: int
    message: str
    hint: str = ""


def check(code: str) -> Violation | None:
    return Violation("import", 1, "os is not allowed") if "import os" in code else None


def score(sample: Sample, answer: str | None) -> Score:
    return Score(value=float(answer == sample.ground_truth), metric="exact", extracted=answer)


def make_sample(tmp_path: Path) -> Sample:
    path = tmp_path / "f0.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(path)
    video = Video(name="v", frames=(Frame(path=str(path), index=0),))
    return Sample(
        id="1",
        suite="t",
        question="Which?",
        answer_format="letter",
        ground_truth="B",
        videos=(video,),
        options=("x", "y"),
        category="cat",
    )


async def run(tmp_path: Path, handler: object, results: list[CellResult], **agent: object) -> list[Event]:
    events: list[Event] = []

    async def emit(event: Event) -> None:
        events.append(event)

    services = EpisodeServices(
        run_id="r",
        llm=ScriptedTransport(handler),
        kernel=ScriptedKernel(results),  # type: ignore[arg-type]
        check=check,
        emit=emit,
        score=score,
        agent=AgentConfig(**agent),  # type: ignore[arg-type]
    )
    await run_episode(await anyio.to_thread.run_sync(make_sample, tmp_path), "ep", services)
    return events


async def test_error_then_fix_then_answer(tmp_path: Path) -> None:
    script = iter(["1. look", reply("print(y)"), reply("import os"), reply("ReturnAnswer('B')")])

    def handler(request: ChatRequest) -> str:
        return next(script)

    error = CellError(ename="NameError", evalue="name 'y' is not defined", traceback="", lineno=1)
    results = [
        CellResult(status="error", error=error),
        CellResult(status="ok", answer=SubmittedAnswer(text="B", valid=True)),
    ]
    events = await run(tmp_path, handler, results, max_steps=5)
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "EpisodeStarted" and kinds[-1] == "EpisodeFinished"
    assert any(isinstance(e, PlanMade) for e in events)
    executed = [e for e in events if isinstance(e, CellExecuted)]
    assert [e.status for e in executed] == ["error", "ok"]
    observations = [e.text for e in events if isinstance(e, ObservationMade)]
    assert "NameError" in observations[0]
    assert "CellChecked" in kinds and kinds.count("CellProposed") == 3
    finished = events[-1]
    assert isinstance(finished, EpisodeFinished)
    assert (finished.answer, finished.score, finished.reason, finished.steps) == ("B", 1.0, "answered", 3)
    assert all(e.run_id == "r" and e.episode_id == "ep" for e in events)
    assert isinstance(events[0], EpisodeStarted) and events[0].kernel_id == "fake-1"


async def test_model_timeouts_end_in_an_error_result_not_a_crash(tmp_path: Path) -> None:
    def handler(request: ChatRequest) -> str:
        raise LLMTimeout("no answer in 600 s", endpoint="http://127.0.0.1:1/v1")

    events = await run(tmp_path, handler, [], max_steps=5, plan=False)
    assert sum(isinstance(e, LLMFailed) for e in events) == 3
    finished = events[-1]
    assert isinstance(finished, EpisodeFinished) and finished.reason == "error" and finished.score == 0.0


async def test_budget_forces_an_answer_from_the_transcript(tmp_path: Path) -> None:
    def handler(request: ChatRequest) -> str:
        if "[FINAL ANSWER REQUIRED]" in request.messages[-1].text():
            return "Final answer: B"
        return reply("print(1)")

    events = await run(tmp_path, handler, [CellResult(status="ok", stdout="1")] * 2, max_steps=2, plan=False)
    forced = [e for e in events if isinstance(e, AnswerSubmitted)]
    assert forced and forced[-1].forced and forced[-1].answer == "B"
    finished = events[-1]
    assert isinstance(finished, EpisodeFinished) and finished.reason == "forced" and finished.score == 1.0


async def test_first_message_carries_key_frames_as_images(tmp_path: Path) -> None:
    seen: list[ChatRequest] = []

    def handler(request: ChatRequest) -> str:
        seen.append(request)
        return "Final answer: B"

    await run(tmp_path, handler, [], interface="cot", plan=False)
    content = seen[0].messages[1].content
    assert not isinstance(content, str)
    images = [p for p in content if isinstance(p, ImagePart)]
    assert len(images) == 1 and images[0].image_url.url.startswith("data:image/png;base64,")


async def test_every_agent_request_extends_the_previous_one(tmp_path: Path) -> None:
    script = iter(
        [reply("print(y)"), "no code here", reply("import os"), reply("print(2)"), reply("print(3)")]
    )
    transport_requests: list[ChatRequest] = []

    def handler(request: ChatRequest) -> str:
        transport_requests.append(request)
        if "[FINAL ANSWER REQUIRED]" in request.messages[-1].text():
            return "Final answer: B"
        return next(script)

    error = CellError(ename="NameError", evalue="y", traceback="", lineno=1)
    results = [CellResult(status="error", error=error), CellResult(status="ok"), CellResult(status="ok")]
    await run(tmp_path, handler, results, max_steps=5, plan=False)
    agent = [r.messages for r in transport_requests if r.role == "agent"]
    assert len(agent) == 6
    for before, after in itertools.pairwise(agent):
        assert after[: len(before)] == before and len(after) > len(before)


async def test_dead_kernel_is_swapped_for_a_fresh_one(tmp_path: Path) -> None:
    script = iter([reply("x = 1"), reply("ReturnAnswer('B')")])
    error = CellError(ename="KernelDied", evalue="exited", traceback="")
    first = ScriptedKernel([CellResult(status="died", error=error)])
    second = ScriptedKernel([CellResult(status="ok", answer=SubmittedAnswer(text="B", valid=True))])
    events: list[Event] = []

    async def emit(event: Event) -> None:
        events.append(event)

    async def replace_kernel() -> ScriptedKernel:
        return second

    services = EpisodeServices(
        run_id="r",
        llm=ScriptedTransport(lambda _r: next(script)),
        kernel=first,
        check=check,
        emit=emit,
        score=score,
        agent=AgentConfig(plan=False),
        replace_kernel=replace_kernel,  # type: ignore[arg-type]
    )
    outcome = await run_episode(await anyio.to_thread.run_sync(make_sample, tmp_path), "ep", services)
    assert (first.cells, second.cells) == (["x = 1"], ["ReturnAnswer('B')"])
    assert any(isinstance(e, KernelFailed) for e in events)
    assert outcome.reason == "answered" and outcome.score.value == 1.0
