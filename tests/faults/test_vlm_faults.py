"""The model endpoint behind the kernel's `vlm` sub-calls fails (5xx after retries, garbage bodies, no
answer within the attempt timeout, or it dies mid-run) while the agent's own endpoint works: every
episode still ends, as an infrastructure `error` (never a score), the failure is in the cell's record,
the model is told plainly that the endpoint failed, not its code, and a resume with a working endpoint
scores them. A `vlm` call that fails only after its cell stopped waiting (the cell timed out) still makes
its episode an error."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import msgspec
import pytest

from claw.config import EndpointConfig, EvalConfig, ModelsConfig
from claw.errors import LLMTimeout
from claw.events import CellExecuted, Event, LLMFailed, ObservationMade
from claw.llm.mockserver import start_mock_server
from claw.llm.types import ChatRequest, ChatResponse, ChatTransport
from claw.runtime.runner import run_eval
from claw.runtime.sinks import Summary
from tests.faults.fault_helpers import (
    HARD_DEADLINE_S,
    read_request_head,
    read_run,
    results_of,
    serve_each,
    small_config,
)

pytestmark = pytest.mark.slow

N = 2


def _config(run_dir: Path, agent_url: str, vlm_url: str, **models: object) -> EvalConfig:
    config = small_config(run_dir, n=N, cell_timeout_s=300.0)
    endpoints = {
        "agent": [EndpointConfig(url=agent_url, model="mock")],
        "vlm_ask": [EndpointConfig(url=vlm_url, model="mock")],
    }
    return msgspec.structs.replace(config, models=ModelsConfig(**endpoints, **models))  # type: ignore[arg-type]


async def _assert_every_episode_is_a_vlm_error(run_dir: Path, summary: Summary) -> None:
    record = await read_run(run_dir)
    assert len(record.finished) == N and not record.failed
    assert {f.reason for f in record.finished.values()} == {"error"}
    assert (summary.n, summary.errors) == (0, N)
    assert set((await results_of(run_dir)).values()) == {"error"}
    for episode_id in record.finished:
        mine = [e for e in record.events if e.episode_id == episode_id]
        assert any(isinstance(e, LLMFailed) and e.role == "vlm_ask" for e in mine)
        failures = [f for e in mine if isinstance(e, CellExecuted) for f in e.tool_failures]
        assert failures and all(f.startswith("vlm.ask: its model endpoint failed (LLM") for f in failures)
        seen = " ".join(e.text for e in mine if isinstance(e, ObservationMade))
        assert "the model endpoint behind vlm failed" in seen and "not a mistake in your code" in seen


@pytest.mark.parametrize(
    ("fault", "models"),
    [
        (["--error-rate", "1.0"], {"max_retries": 1}),
        (["--garbage-rate", "1.0"], {"max_retries": 1}),
        # The attempt timeout is every role's: long enough for the working agent endpoint on a slow,
        # loaded machine, and both attempts together well inside the cell's 300 s.
        (["--hang-rate", "1.0", "--hang-s", "600"], {"max_retries": 1, "attempt_timeout_s": 20.0}),
    ],
    ids=["5xx", "garbage", "no-answer"],
)
async def test_a_failing_vlm_endpoint_makes_errors_not_scores(
    tmp_path: Path, fault: list[str], models: dict[str, object]
) -> None:
    run_dir = tmp_path / "r"
    with anyio.fail_after(HARD_DEADLINE_S):
        async with (
            start_mock_server("probe", seed=0) as agent,
            start_mock_server("probe", seed=0, extra_args=fault) as vlm,
        ):
            summary = await run_eval(_config(run_dir, agent, vlm, **models))
            await _assert_every_episode_is_a_vlm_error(run_dir, summary)
            resumed = await run_eval(_config(run_dir, agent, agent))
    assert (resumed.n, resumed.errors) == (N, 0)
    assert set((await results_of(run_dir)).values()) == {"answered"}


async def test_a_vlm_endpoint_that_dies_mid_run_makes_errors(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    with anyio.fail_after(HARD_DEADLINE_S):
        async with start_mock_server("probe", seed=0) as agent, _dies_at_first_completion() as vlm:
            summary = await run_eval(_config(run_dir, agent, vlm, max_retries=1))
    await _assert_every_episode_is_a_vlm_error(run_dir, summary)
    failed = [e for e in (await read_run(run_dir)).events if isinstance(e, LLMFailed)]
    assert {e.error_type for e in failed} == {"LLMConnectError"}


@asynccontextmanager
async def _dies_at_first_completion() -> AsyncIterator[str]:
    """An endpoint that lists its model (so the run's preflight passes), then dies at the first chat
    request: that connection is dropped unanswered and the port stops listening."""
    [listener] = (await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)).listeners
    port = listener.extra(anyio.abc.SocketAttribute.local_port)

    async def serve(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            head = await read_request_head(stream)
            if head is None:
                return
            if head.startswith(b"GET /v1/models"):
                body = b'{"object": "list", "data": [{"id": "mock", "object": "model"}]}'
                await stream.send(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                return
            await listener.aclose()  # dead: this request gets no answer, later ones are refused

    async with anyio.create_task_group() as tg:
        tg.start_soon(serve_each, listener, serve, tg)
        yield f"http://127.0.0.1:{port}/v1"
        tg.cancel_scope.cancel()


class _VlmFailsAfterItsCellTimedOut:
    """Sink and transport wrapper: a `vlm` call gets no answer until its cell has timed out, then fails
    (the endpoint gave up after the kernel stopped waiting); the episode's next agent call waits for that
    failure, so the order is fixed however fast the machine is."""

    name = "vlm-fails-late"

    def __init__(self) -> None:
        self.timed_out: dict[str, anyio.Event] = {}
        self.failed: dict[str, anyio.Event] = {}

    def _event(self, table: dict[str, anyio.Event], episode_id: str) -> anyio.Event:
        return table.setdefault(episode_id, anyio.Event())

    async def handle(self, events: Sequence[Event]) -> None:
        for event in events:
            if isinstance(event, CellExecuted) and event.status == "timeout" and event.episode_id:
                self._event(self.timed_out, event.episode_id).set()

    async def aclose(self) -> None:
        """Nothing to release."""

    def wrap(self, inner: ChatTransport) -> ChatTransport:
        return _LateFailure(inner, self)


class _LateFailure:
    def __init__(self, inner: ChatTransport, gate: _VlmFailsAfterItsCellTimedOut) -> None:
        self.inner, self.gate = inner, gate

    async def complete(self, request: ChatRequest) -> ChatResponse:
        episode_id = request.session_id or ""
        if request.role == "vlm_ask":
            await self.gate._event(self.gate.timed_out, episode_id).wait()
            self.gate._event(self.gate.failed, episode_id).set()
            raise LLMTimeout("the vlm endpoint gave up after the cell stopped waiting", endpoint="vlm")
        if episode_id in self.gate.timed_out:
            await self.gate._event(self.gate.failed, episode_id).wait()
        return await self.inner.complete(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_vlm_failure_after_its_cell_timed_out_still_makes_an_error(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    gate = _VlmFailsAfterItsCellTimedOut()
    # The vlm call never answers before the cell's time is up, so a short cell timeout races nothing.
    config = small_config(run_dir, policy="probe", n=N, cell_timeout_s=2.0)
    with anyio.fail_after(HARD_DEADLINE_S):
        summary = await run_eval(config, wrap_llm=gate.wrap, sinks=[gate])
    record = await read_run(run_dir)
    assert len(record.finished) == N and not record.failed
    assert {f.reason for f in record.finished.values()} == {"error"}
    assert (summary.n, summary.errors) == (0, N)
    timed_out = [e for e in record.events if isinstance(e, CellExecuted) and e.status == "timeout"]
    assert {e.episode_id for e in timed_out} == set(record.finished)
    failures = [f for e in record.events if isinstance(e, CellExecuted) for f in e.tool_failures]
    assert len(failures) == N and all("LLMTimeout" in f for f in failures)
