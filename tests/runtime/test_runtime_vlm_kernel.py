"""`vlm.ask`, `vlm.locate` and `vlm.reason` from a real confined kernel: each call goes over the
kernel's relayed Unix socket to the runtime's `serve_vlm`, becomes one isolated model request, is
logged under the episode with its own role, and its tokens are counted for the episode. The tool-call
interface's `vlm_ask`, `vlm_locate` and `vlm_reason` function tools run the same way."""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio
from PIL import Image

from claw.agent.toolcall import cell_for_call, tool_specs
from claw.events import Event, LLMResponded
from claw.llm import ChatRequest, ChatResponse, ScriptedTransport, Usage
from claw.llm.types import FunctionCall, ToolCall
from claw.runtime.vlm_server import SubCallTokens, serve_vlm
from claw.sandbox import KernelPool, check_cell
from tests.sandbox.conftest import TEST_CONFIG, make_setup, pool_in_task

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _model(request: ChatRequest) -> ChatResponse:
    """Answers like a thinking VLM: grounding JSON for locate, a short answer otherwise."""
    system = request.messages[0].text()
    if "0 to 1000 grid" in system:
        text = request.messages[1].text()
        content = (
            '{"visible": false}'
            if "unicorn" in text
            else '```json\n{"visible": true, "boxes": [[100, 200, 500, 1000]], "points": [[250, 500]]}\n```'
        )
    elif request.messages[1].text().startswith("x = 2\n\nQuestion: "):
        content = "4"
    else:
        content = (
            f"a red cup ({sum(1 for p in request.messages[1].content if not isinstance(p, str)) - 1} images)"
        )
    usage = Usage(prompt_tokens=100, completion_tokens=10)
    return ChatResponse(
        content=content, usage=usage, endpoint="vlm", latency_s=0.0, reasoning="I look at the image first."
    )


@pytest.fixture(scope="module")
def socket_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="claw-vk-") as name:
        yield Path(name)


@pytest.fixture(scope="module")
def frames_dir() -> Iterator[Path]:
    """Two 32 x 24 frames, world-readable (confined kernels run as another uid)."""
    with tempfile.TemporaryDirectory(prefix="claw-vf-") as name:
        directory = Path(name)
        directory.chmod(0o755)
        for i in range(2):
            Image.fromarray(np.full((24, 32, 3), 40 * i, np.uint8)).save(directory / f"f{i}.png")
            (directory / f"f{i}.png").chmod(0o644)
        yield directory


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pool() -> AsyncIterator[KernelPool]:
    opened = KernelPool(TEST_CONFIG, size=1, max_stdout_chars=2000, max_images_per_step=2)
    async with pool_in_task(opened):
        yield opened


@asynccontextmanager
async def _bridge(socket: Path, events: list[Event], tokens: SubCallTokens) -> AsyncIterator[str]:
    async def emit(event: Event) -> None:
        events.append(event)

    transport = ScriptedTransport(_model)
    async with serve_vlm(str(socket), transport, run_id="r", emit=emit, tokens=tokens) as path:
        yield path


async def test_ask_locate_and_reason_from_a_confined_kernel(
    pool: KernelPool, frames_dir: Path, socket_dir: Path
) -> None:
    assert pool.confined, "this test is about the confined kernel's relayed socket"
    events: list[Event] = []
    tokens = SubCallTokens()
    code = (
        "a = vlm.ask('what is on the table?', images=[InputImages[0], InputImages[1].array])\n"
        "cup = vlm.locate('red cup', InputImages[0])\n"
        "gone = vlm.locate('unicorn', InputImages[1])\n"
        "r = vlm.reason('what is x + x?', context='x = 2')\n"
        "print(a)\nprint(bool(cup), cup.boxes.tolist(), cup.points.tolist())\n"
        "print(bool(gone), gone.boxes.shape, repr(gone))\nprint(r)\n"
    )
    async with _bridge(socket_dir / "a.sock", events, tokens) as path:
        async with pool.checkout(make_setup(frames_dir, vlm_socket=path)) as kernel:
            result = await kernel.execute(code, timeout=60)
    assert result.status == "ok", result.error
    # frames are 32 x 24 pixels: the 0..1000 grid scales to them
    assert result.stdout.splitlines() == [
        "a red cup (2 images)",
        "True [[3.2, 4.8, 16.0, 24.0]] [[8.0, 12.0]]",
        "False (0, 4) Located('unicorn': not visible)",
        "4",
    ]
    responded = [e for e in events if isinstance(e, LLMResponded)]
    assert [e.role for e in responded] == ["vlm_ask", "vlm_locate", "vlm_locate", "vlm_reason"]
    assert {e.episode_id for e in responded} == {"ep-test"}
    assert all(e.reasoning == "I look at the image first." for e in responded)
    assert tokens.take("ep-test") == 4 * 110 and tokens.take("ep-test") == 0


async def test_failures_are_one_line_errors_in_the_cell(
    pool: KernelPool, frames_dir: Path, socket_dir: Path
) -> None:
    code = "vlm.locate('cup', [InputImages[0], InputImages[1]])"
    async with _bridge(socket_dir / "b.sock", [], SubCallTokens()) as path:
        async with pool.checkout(make_setup(frames_dir, vlm_socket=path)) as kernel:
            two = await kernel.execute(code, timeout=60)
            many = await kernel.execute("vlm.ask('?', images=[InputImages[0]] * 9)", timeout=60)
    assert two.error is not None and two.error.ename == "TypeError"  # a list is not one image
    assert many.error is not None and "at most 8 images" in many.error.evalue
    assert check_cell("g = vlm.ask.__globals__") is not None  # the AST policy guards the bridge's insides
    assert check_cell("vlm._State") is not None
    assert check_cell("found = vlm.locate('cup', InputImages[0])") is None


async def test_tool_call_vlm_functions_from_a_confined_kernel(
    pool: KernelPool, frames_dir: Path, socket_dir: Path
) -> None:
    calls = [
        ("vlm_ask", {"question": "what is on the table?", "images": ["$InputImages[0]"]}),
        ("vlm_locate", {"name": "red cup", "image": "$InputImages[0]"}),
        ("vlm_reason", {"question": "what is x + x?", "context": "x = 2"}),
    ]
    offered = {spec.name: spec.description for spec in tool_specs()}
    assert "pixel boxes and points" in offered["vlm_locate"] and "Raises:" in offered["vlm_reason"]
    events: list[Event] = []
    printed: list[str] = []
    async with _bridge(socket_dir / "c.sock", events, SubCallTokens()) as path:
        async with pool.checkout(make_setup(frames_dir, vlm_socket=path)) as kernel:
            for step, (name, arguments) in enumerate(calls):
                function = FunctionCall(name=name, arguments=json.dumps(arguments))
                cell = cell_for_call(ToolCall(id=f"call-{step}", function=function), step)
                assert isinstance(cell, str) and check_cell(cell) is None, cell
                result = await kernel.execute(cell, timeout=60)
                assert result.status == "ok", result.error
                printed.append(result.stdout.strip())
    assert printed == [
        "'a red cup (1 images)'",
        "Located('red cup': 1 boxes [[3.2, 4.8, 16.0, 24.0]], points [[8.0, 12.0]])",
        "'4'",
    ]
    responded = [e for e in events if isinstance(e, LLMResponded)]
    assert [e.role for e in responded] == ["vlm_ask", "vlm_locate", "vlm_reason"]


async def test_an_unreachable_bridge_is_an_infrastructure_failure_of_the_cell(
    pool: KernelPool, frames_dir: Path, socket_dir: Path
) -> None:
    gone = socket_dir / "never-served.sock"  # the runtime's end is not there: nothing answers
    async with pool.checkout(make_setup(frames_dir, vlm_socket=str(gone))) as kernel:
        result = await kernel.execute("vlm.reason('what is 2 + 2?')", timeout=60)
    assert result.error is not None and result.error.ename == "VlmError"
    assert "vlm cannot be used right now" in result.error.evalue
    [failure] = result.tool_failures
    assert failure.startswith("vlm: the runtime's vlm bridge is unreachable")
