"""The tool-call interface: tool specs from `claw.tools`, calls turned into checked cells, and episodes
driven by function calls through the same shell."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import msgspec
import pytest

from claw.agent.toolcall import ToolCellError, cell_for_call, tool_specs
from claw.config import AgentConfig
from claw.events import CellExecuted, CellProposed, EpisodeFinished, Event
from claw.llm import ScriptedTransport
from claw.llm.types import ChatRequest, ChatResponse, FunctionCall, ToolCall, Usage
from claw.runtime.driver import run_episode
from claw.runtime.episode import (
    Begin,
    CellFinished,
    CellJudged,
    CheckCell,
    ModelReplied,
    RecordObservation,
    advance,
    initial_state,
)
from claw.runtime.episode_services import EpisodeServices
from claw.sandbox import check_cell
from claw.wire.kernel import CellResult, ShownImage, SubmittedAnswer
from tests.fake_kernel import ScriptedKernel
from tests.runtime.test_driver import make_sample, score


def call(name: str, arguments: dict[str, object], call_id: str = "c1") -> ToolCall:
    return ToolCall(id=call_id, function=FunctionCall(name=name, arguments=json.dumps(arguments)))


def test_specs_cover_the_kernel_tools_and_are_stable() -> None:
    names = [spec.name for spec in tool_specs()]
    assert names == sorted(names)
    for expected in ("SAM3", "Reconstruct", "Geometry_closest_distance", "Mask_area", "answer", "evaluate"):
        assert expected in names
    sam3 = next(s for s in tool_specs() if s.name == "SAM3")
    schema = msgspec.json.decode(sam3.parameters)
    assert "text" in schema["properties"] and schema["required"] == ["frames"]
    assert "At most 256" in sam3.description and "Raises:" in sam3.description  # the whole contract


@pytest.mark.parametrize(
    ("name", "arguments", "cell"),
    [
        (
            "SAM3",
            {"frames": "$InputImages[0]", "text": "chair"},
            "r1 = tools.SAM3(frames=InputImages[0], text='chair')",
        ),
        (
            "Geometry_closest_distance",
            {"a": "$r1", "b": "$r2"},
            "r1 = tools.Geometry.closest_distance(a=r1, b=r2)",
        ),
        ("answer", {"answer": 2.5}, "r1 = ReturnAnswer(answer=2.5)"),
        ("evaluate", {"expression": "r1.count(0)"}, "r1 = r1.count(0)"),
        (
            "Reconstruct",
            {"frames": ["$InputImages[0]", "$InputImages[1]"]},
            "r1 = tools.Reconstruct(frames=[InputImages[0], InputImages[1]])",
        ),
    ],
)
def test_calls_become_one_line_cells_that_pass_the_policy(
    name: str, arguments: dict[str, object], cell: str
) -> None:
    made = cell_for_call(call(name, arguments), 0)
    assert isinstance(made, str)
    assert made.splitlines()[0] == cell
    assert check_cell(made) is None


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("nope", {}, "there is no tool 'nope'"),
        ("SAM3", {"text": "chair"}, "needs the argument 'frames'"),
        ("SAM3", {"frames": "$InputImages[0]", "colour": "red"}, "has no parameter 'colour'"),
        ("SAM3", {"frames": "$InputImages.__class__"}, "only names, attributes"),
        ("evaluate", {"expression": "__import__('os')"}, "only names, attributes"),
        ("SAM3", {"frames": {"a": 1}}, "unsupported argument value"),
    ],
)
def test_bad_calls_say_what_is_wrong(name: str, arguments: dict[str, object], message: str) -> None:
    made = cell_for_call(call(name, arguments), 0)
    assert isinstance(made, ToolCellError) and message in made.message


def test_extra_calls_in_one_turn_are_answered_but_not_run(tmp_path: Path) -> None:
    state, actions = advance(initial_state("tool-call", 5), Begin(sample=make_sample(tmp_path)))
    assert actions[0].tools == tuple(tool_specs())  # type: ignore[attr-defined]
    two = (
        call("SAM3", {"frames": "$InputImages[0]", "text": "cup"}, "a"),
        call("Mask_area", {"mask": "$r1"}, "b"),
    )
    state, actions = advance(state, ModelReplied(text="", tool_calls=two))
    assert isinstance(actions[0], CheckCell) and actions[0].proposed.purpose == "tool call"
    state, actions = advance(state, CellJudged())
    state, actions = advance(state, CellFinished(result=CellResult(status="ok", stdout="Segmentation(...)")))
    recorded, request = actions
    replies = request.messages[-2:]  # type: ignore[attr-defined]
    assert [(m.role, m.tool_call_id) for m in replies] == [("tool", "a"), ("tool", "b")]
    assert "one tool call per turn" in replies[1].text()
    assert isinstance(recorded, RecordObservation) and recorded.text == replies[0].text()


def test_tool_results_with_images_carry_them_in_a_user_message(tmp_path: Path) -> None:
    state, _ = advance(initial_state("tool-call", 5), Begin(sample=make_sample(tmp_path)))
    state, _ = advance(state, ModelReplied(text="", tool_calls=(call("show", {"image": "$InputImages[0]"}),)))
    state, _ = advance(state, CellJudged())
    result = CellResult(status="ok", images=(ShownImage(png=b"", caption="frame"),))
    state, actions = advance(state, CellFinished(result=result, image_urls=("data:image/png;base64,AA==",)))
    tool_reply, images = actions[-1].messages[-2:]  # type: ignore[attr-defined]
    assert tool_reply.role == "tool" and "image 1: frame" in tool_reply.text()
    assert images.role == "user" and [type(p).__name__ for p in images.content] == ["TextPart", "ImagePart"]


async def test_episode_through_function_calls(tmp_path: Path) -> None:
    turns = iter(
        [
            [call("SAM3", {"frames": "$InputImages[0]", "text": "chair"}, "t1")],
            [call("answer", {"answer": "B"}, "t2")],
        ]
    )

    def handler(request: ChatRequest) -> ChatResponse:
        assert request.tools and request.role == "agent"
        return ChatResponse(content="", usage=Usage(), endpoint="e", latency_s=0.0, tool_calls=next(turns))

    events: list[Event] = []

    async def emit(event: Event) -> None:
        events.append(event)

    kernel = ScriptedKernel(
        [
            CellResult(status="ok", stdout="Segmentation"),
            CellResult(status="ok", answer=SubmittedAnswer(text="B", valid=True)),
        ]
    )
    services = EpisodeServices(
        run_id="r",
        llm=ScriptedTransport(handler),
        kernel=kernel,
        check=check_cell,
        emit=emit,
        score=score,
        agent=AgentConfig(interface="tool-call", plan=False),
    )
    await run_episode(await anyio.to_thread.run_sync(make_sample, tmp_path), "ep", services)
    assert kernel.cells[0].startswith("r1 = tools.SAM3(frames=InputImages[0]")
    assert kernel.cells[1].startswith("r2 = ReturnAnswer(answer='B')")
    assert sum(isinstance(e, CellProposed) for e in events) == 2
    assert sum(isinstance(e, CellExecuted) for e in events) == 2
    finished = events[-1]
    assert isinstance(finished, EpisodeFinished) and finished.score == 1.0 and finished.reason == "answered"
