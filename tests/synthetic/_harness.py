"""Whole episodes of the scripted policy without kernel processes or servers: the real driver, prompts
and AST policy, the in-tree `InProcessKernel` (the kernel tool API in this process), the policy answering
through a `ScriptedTransport`, and the perception client's `post` routed straight to a
`SyntheticBackend`. It checks that the scripted policy's cells work end to end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import anyio
import msgspec

import claw.tools._client as client
from bench.suites.synthetic import SyntheticSuite
from claw.agent.interfaces import InterfaceName
from claw.config import AgentConfig, PerceptionConfig
from claw.events import CellExecuted, CellProposed, Event, ObservationMade
from claw.llm import ScriptedTransport
from claw.llm.types import ChatRequest, ChatResponse, FunctionCall, ToolCall, Usage
from claw.runtime.driver import run_episode as drive_episode
from claw.runtime.episode_services import EpisodeServices
from claw.sandbox import check_cell
from claw.suite import Sample
from claw.wire.kernel import KernelSetup
from claw.wire.perception import ReconstructRequest, SegmentRequest
from servers.mockllm.policies.scripted import ScriptedPolicy
from servers.perception._backends.synthetic import SyntheticBackend
from tests.fake_kernel import InProcessKernel


class Outcome(msgspec.Struct, kw_only=True):
    """How one episode went."""

    answer: str | None
    score: float
    steps: int
    errors: int
    transcript: list[str]


@contextlib.contextmanager
def routed_perception(backend: SyntheticBackend) -> Iterator[None]:
    """Send the tool client's requests to `backend` in-process."""
    original = client.post

    def post(path: str, request: msgspec.Struct, response_type: type[Any]) -> Any:
        if isinstance(request, ReconstructRequest):
            return backend._reconstruct_one(request)
        assert isinstance(request, SegmentRequest)
        return backend._segment_one(request)

    client.post = post  # type: ignore[assignment]
    try:
        yield
    finally:
        client.post = original  # type: ignore[assignment]


def run_episode(
    suite: SyntheticSuite,
    sample: Sample,
    policy: ScriptedPolicy,
    *,
    seed: int = 0,
    max_steps: int = 12,
    socket: str | None = None,
    single_pass: bool = False,
) -> Outcome:
    """Run one code (or `single_pass`) episode of `policy` on `sample` through the real driver; the answer
    is scored by the suite.

    With `socket`, the tools talk to a real perception server there; otherwise wrap the call in
    `routed_perception`.
    """
    interface: InterfaceName = "single-pass" if single_pass else "code"
    return anyio.run(_episode, suite, sample, policy, _Run(interface, seed, max_steps, socket))


def backend(noise: str = "none") -> SyntheticBackend:
    """A synthetic backend with the given noise model."""
    return SyntheticBackend(PerceptionConfig(noise=noise))


def run_tool_episode(
    suite: SyntheticSuite, sample: Sample, policy: ScriptedPolicy, *, seed: int = 0, max_steps: int = 40
) -> Outcome:
    """Run one `tool-call` episode: each call becomes the runtime's one-line cell."""
    return anyio.run(_episode, suite, sample, policy, _Run("tool-call", seed, max_steps, None))


class _Run(msgspec.Struct, frozen=True):
    interface: InterfaceName
    seed: int
    max_steps: int
    socket: str | None


def _transport(policy: ScriptedPolicy, seed: int) -> ScriptedTransport:
    def answer(request: ChatRequest) -> ChatResponse:
        names = [tool.name for tool in request.tools] if request.tools else None
        reply = policy.respond(list(request.messages), seed=seed, tools=names)
        calls = [
            ToolCall(id=f"call{i}", function=FunctionCall(name=c.name, arguments=c.arguments))
            for i, c in enumerate(reply.tool_calls)
        ]
        return ChatResponse(
            content=reply.content, usage=Usage(), endpoint="policy", latency_s=0.0, tool_calls=calls
        )

    return ScriptedTransport(answer)


async def _episode(suite: SyntheticSuite, sample: Sample, policy: ScriptedPolicy, run: _Run) -> Outcome:
    events: list[Event] = []

    async def emit(event: Event) -> None:
        events.append(event)

    setup = KernelSetup(
        episode_id="ep",
        videos=sample.videos,
        answer_format=sample.answer_format,
        options=sample.options,
        metadata=sample.metadata,
        perception_socket=run.socket,
    )
    services = EpisodeServices(
        run_id="harness",
        llm=_transport(policy, run.seed),
        kernel=InProcessKernel(setup),
        check=check_cell,
        emit=emit,
        score=suite.score,
        agent=AgentConfig(interface=run.interface, max_steps=run.max_steps, plan=False),
    )
    outcome = await drive_episode(sample, "ep", services)
    return Outcome(
        answer=outcome.answer,
        score=outcome.score.value,
        steps=outcome.steps,
        errors=sum(isinstance(e, CellExecuted) and e.error_type is not None for e in events),
        transcript=[_transcript_line(e) for e in events if isinstance(e, CellProposed | ObservationMade)],
    )


def _transcript_line(event: CellProposed | ObservationMade) -> str:
    return event.code if isinstance(event, CellProposed) else event.text
