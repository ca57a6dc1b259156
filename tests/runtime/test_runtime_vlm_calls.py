"""The `vlm` sub-calls without a kernel: grounding replies read leniently but never guessed, sub-call
transcripts isolated per kind, and sub-call tokens counted towards the episode's token budget."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from claw.config import AgentConfig
from claw.events import EpisodeFinished
from claw.llm import ScriptedTransport
from claw.llm.types import ChatRequest
from claw.runtime.driver import run_episode
from claw.runtime.episode_services import EpisodeServices
from claw.runtime.vlm_calls import GroundingUnreadable, grounding_response, sub_call_messages
from claw.wire.kernel import CellResult
from claw.wire.vlm import AskRequest
from tests.fake_kernel import ScriptedKernel
from tests.runtime.test_driver import check, make_sample, reply, score


@pytest.mark.parametrize(
    ("text", "visible", "boxes", "points"),
    [
        ('{"visible": true, "boxes": [[1, 2, 3, 4]], "points": [[2, 3]]}', True, [[1, 2, 3, 4]], [[2, 3]]),
        ('Here:\n```json\n{"boxes": [[0, 0, 2000, 10]]}\n```', True, [[0, 0, 1000, 10]], []),
        ('{"visible": false, "boxes": [[1, 2, 3, 4]]}', False, [], []),
        ('{"visible": true, "boxes": [[1, 2, 3]], "points": "x"}', False, [], []),
        ("The cup is not visible in this image.", False, [], []),
    ],
)
def test_grounding_replies(
    text: str, visible: bool, boxes: list[list[float]], points: list[list[float]]
) -> None:
    response = grounding_response(text, "thinking")
    assert (response.visible, response.boxes, response.points) == (visible, boxes, points)
    assert response.reasoning == "thinking"


@pytest.mark.parametrize("text", ["It is on the left.", '{"boxes": [1, 2'])
def test_an_unreadable_grounding_reply_is_an_error_not_a_guess(text: str) -> None:
    with pytest.raises(GroundingUnreadable):
        grounding_response(text, "")


def test_each_kind_gets_its_own_isolated_transcript() -> None:
    png = b"\x89PNG..."
    ask = sub_call_messages(AskRequest(episode_id="e", question="what?", images=[png]))
    locate = sub_call_messages(AskRequest(episode_id="e", question="cup", images=[png], kind="locate"))
    reason = sub_call_messages(AskRequest(episode_id="e", question="sum?", kind="reason", context="a=1"))
    assert [m.role for m in ask] == [m.role for m in locate] == [m.role for m in reason] == ["system", "user"]
    assert "0 to 1000 grid" in locate[0].text() and locate[1].text() == "Find: cup"
    assert reason[1].content == "a=1\n\nQuestion: sum?"
    assert len(ask[1].content) == 2 and isinstance(reason[1].content, str)


async def test_sub_call_tokens_count_towards_the_token_budget(tmp_path: Path) -> None:
    events: list[object] = []

    async def emit(event: object) -> None:
        events.append(event)

    def handler(request: ChatRequest) -> str:
        if "[FINAL ANSWER REQUIRED]" in request.messages[-1].text():
            return "Final answer: B"
        return reply("print(vlm.ask('?'))")

    def run_with(spent: int) -> EpisodeServices:
        return EpisodeServices(
            run_id="r",
            llm=ScriptedTransport(handler),
            kernel=ScriptedKernel([CellResult(status="ok", stdout="x")] * 5),  # type: ignore[arg-type]
            check=check,
            emit=emit,  # type: ignore[arg-type]
            score=score,
            agent=AgentConfig(max_steps=5, plan=False, token_budget=1_000_000),
            subcall_tokens=lambda _episode: spent,
        )

    sample = await anyio.to_thread.run_sync(make_sample, tmp_path)
    await run_episode(sample, "ep", run_with(10_000_000))
    spendthrift = events[-1]
    events.clear()
    await run_episode(sample, "ep", run_with(0))
    frugal = events[-1]
    assert isinstance(spendthrift, EpisodeFinished) and isinstance(frugal, EpisodeFinished)
    assert spendthrift.reason == "forced" and spendthrift.steps < frugal.steps


def test_the_system_prompt_documents_every_vlm_call() -> None:
    from claw.agent.prompts import agent_system_prompt
    from claw.tools import vlm

    prompt = agent_system_prompt(30)
    for name in ("ask", "locate", "reason"):
        assert f"vlm.{name}(" in prompt
        assert getattr(vlm.api, name).__doc__  # the kernel function carries its full contract too
    assert "not visible" in prompt and "pixel" in prompt
