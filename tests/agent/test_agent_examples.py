"""Every worked example in the agent's system prompt runs: the fenced Python blocks of the rendered prompt
are executed in order, as one session, in a real confined kernel on a synthetic video sample whose scene
has a chair, with the synthetic perception server behind the kernel's socket. No block may raise, and
the examples must actually find and measure the chair (not only take their "nothing found" branch)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from bench.suites.synthetic import SyntheticSuite
from claw.agent import prompts
from claw.config import PerceptionConfig
from claw.events import Event
from claw.llm import ChatRequest, ChatResponse, ScriptedTransport, Usage
from claw.runtime.vlm_server import SubCallTokens, serve_vlm
from claw.sandbox import KernelPool, check_cell
from claw.suite import Sample, SuiteOptions
from claw.wire.kernel import KernelSetup
from servers.perception._backends.synthetic import match_prompt
from servers.perception.server import serve_perception
from tests.sandbox.conftest import TEST_CONFIG, pool_in_task
from tests.synthetic._harness import backend

_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def prompt_examples() -> list[str]:
    """The fenced Python blocks of the code interface's system prompt, in order."""
    return _BLOCK.findall(prompts.agent_system_prompt(30))


@pytest.fixture(scope="module")
def media() -> Iterator[Path]:
    """A world-readable media folder (kernels may run as another uid)."""
    with tempfile.TemporaryDirectory(prefix="claw-examples-") as name:
        Path(name).chmod(0o755)
        yield Path(name)


def _video_sample_with_a_chair(media: Path) -> Sample:
    world_of = backend()._world
    suite = SyntheticSuite(SuiteOptions(n=40, seed=3, media_dir=str(media)))
    for sample in suite.samples():
        video = sample.videos[0]
        if (
            video.fps
            and len(video.frames) >= 8
            and match_prompt(world_of(str(sample.metadata["scene"])), "chair")
        ):
            return sample
    raise AssertionError("no synthetic video sample with a chair among the first 40")


def _vlm_model(request: ChatRequest) -> ChatResponse:
    """Answers the vlm sub-calls: a grounding reply for vlm.locate, a short sentence otherwise."""
    grounding = "0 to 1000" in request.messages[0].text()
    content = (
        '{"visible": true, "boxes": [[100, 200, 400, 900]], "points": [[250, 550]]}'
        if grounding
        else "a chair"
    )
    return ChatResponse(
        content=content, usage=Usage(prompt_tokens=50, completion_tokens=5), endpoint="vlm", latency_s=0.0
    )


async def _ignore(event: Event) -> None:
    return None


def _readable(root: Path) -> None:
    for path in root.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def test_the_prompt_has_one_example_per_tool() -> None:
    system = prompts.agent_system_prompt(30)
    tools = [f"tools.{t}" for t in ("Reconstruct", "SAM3", "Geometry", "Mask", "Draw", "Time")]
    for name in [*tools, "vlm.ask", "vlm.locate", "vlm.reason"]:
        section = system.split(f"### {name}", 1)[1].split("\n### ", 1)[0]
        assert "Example:\n```python\n" in section, name
    assert len(prompt_examples()) >= 10


async def test_every_example_runs_in_a_confined_kernel(media: Path, tmp_path: Path) -> None:
    sample = await anyio.to_thread.run_sync(_video_sample_with_a_chair, media)
    await anyio.to_thread.run_sync(_readable, media)
    private = tmp_path / "private"
    await anyio.Path(private).mkdir(mode=0o700)
    socket = str(private / "perception.sock")
    outputs = []
    pool = KernelPool(TEST_CONFIG, size=1, max_stdout_chars=4000, max_images_per_step=4)
    vlm = serve_vlm(str(private / "vlm.sock"), ScriptedTransport(_vlm_model), run_id="r", emit=_ignore,
                    tokens=SubCallTokens())  # fmt: skip
    async with serve_perception(PerceptionConfig(), socket_path=socket, backend=backend()), vlm as vlm_path:
        setup = KernelSetup(
            episode_id="ep-examples", videos=sample.videos, answer_format=sample.answer_format,
            options=sample.options, metadata=sample.metadata, perception_socket=socket, vlm_socket=vlm_path,
            max_images_per_step=4,
        )  # fmt: skip
        async with pool_in_task(pool), pool.checkout(setup) as kernel:
            for code in prompt_examples():
                assert check_cell(code) is None, (code, check_cell(code))
                result = await kernel.execute(code, timeout=120)
                assert result.status == "ok" and result.error is None, (code, result.error, result.stderr)
                outputs.append(result)
    printed = "".join(r.stdout for r in outputs)
    assert "first frame with a chair: None" not in printed, printed
    assert "chair boxes (pixels):" in printed and printed.count("a chair") >= 2, printed
    assert "distance from the camera:" in printed and "upright box sides (m):" in printed, printed
    assert any(r.images for r in outputs), "the Draw example shows the overlay"
