"""The event log is the complete record of what the model saw: `claw transcript` rebuilds, from
`events.jsonl` alone, exactly the requests the model server received (text, images, tool calls), and the
log shows that each thread grew append-only."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import anyio
import msgspec
import pytest

from claw.config import EndpointConfig, EvalConfig, config_from_mapping
from claw.events import CellExecuted, KeyFramesChosen, LLMRequested, LLMResponded
from claw.llm.types import Message
from claw.runtime.runner import run_eval
from claw.runtime.transcript import episode_events, exchanges, find_episode, read_events, wire_messages
from servers.mockllm.policy import Policy, PolicyReply, load_policy
from servers.mockllm.server import MockOptions, serve_mockllm
from tests._claw_cli import run_claw

pytestmark = pytest.mark.slow


class RecordingPolicy:
    """The scripted policy, keeping every message list the server received."""

    name = "recording"

    def __init__(self, inner: Policy) -> None:
        self.inner = inner
        self.received: list[list[Message]] = []

    def respond(self, messages: list[Message], *, seed: int, tools: list[str] | None = None) -> PolicyReply:
        self.received.append(list(messages))
        return self.inner.respond(messages, seed=seed, tools=tools)


async def _recorded_run(run_dir: Path, interface: str, n: int) -> list[list[Message]]:
    policy = RecordingPolicy(await anyio.to_thread.run_sync(load_policy, "scripted"))
    async with anyio.create_task_group() as tg:
        port = await tg.start(partial(serve_mockllm, MockOptions(policy="scripted"), policy=policy))
        base = msgspec.to_builtins(EvalConfig(n=n, run_dir=str(run_dir)))
        base["agent"]["interface"] = interface
        base["models"]["agent"] = [
            msgspec.to_builtins(EndpointConfig(url=f"http://127.0.0.1:{port}/v1", model="mock"))
        ]
        await run_eval(config_from_mapping(base))
        tg.cancel_scope.cancel()
    return policy.received


def _encoded(requests: list[list[Message]]) -> list[bytes]:
    return sorted(msgspec.json.encode(messages) for messages in requests)


def _rebuilt(run_dir: Path) -> list[list[Message]]:
    episodes = {e.episode_id for e in read_events(run_dir / "events.jsonl") if e.episode_id}
    return [
        wire_messages(item, run_dir)
        for episode in sorted(episodes)
        for item in exchanges(episode_events(run_dir, episode))
    ]


@pytest.mark.parametrize(("interface", "n"), [("code", 2), ("tool-call", 1)])
async def test_rebuilt_requests_equal_what_the_server_received(
    tmp_path: Path, interface: str, n: int
) -> None:
    received = await _recorded_run(tmp_path / "run", interface, n)
    rebuilt = await anyio.to_thread.run_sync(_rebuilt, tmp_path / "run")
    assert len(received) >= 3 * n
    assert _encoded(rebuilt) == _encoded(received)


@pytest.fixture(scope="module")
def code_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("transcript") / "run"
    anyio.run(_recorded_run, run_dir, "code", 1)
    return run_dir


def test_the_agent_thread_grows_append_only_and_records_replies_and_images(code_run: Path) -> None:
    events = list(read_events(code_run / "events.jsonl"))
    agent = [e for e in events if isinstance(e, LLMRequested) and e.thread == "agent"]
    assert agent[0].base == 0 and agent[0].appended[0].role == "system"
    sizes = [e.n_messages for e in agent]
    for before, request in zip(sizes, agent[1:], strict=False):
        assert request.base == before, "an agent request did not extend the previous one"
    assert sum(m.role == "system" for e in agent for m in e.appended) == 1, "system prompt recorded twice"
    replies = [e for e in events if isinstance(e, LLMResponded) and e.role == "agent"]
    assert replies and all("```python" in r.content for r in replies[:-1])
    frames = next(e for e in events if isinstance(e, KeyFramesChosen)).frames
    assert frames and all((code_run / f.path).is_file() for f in frames)
    shown = [img for e in events if isinstance(e, CellExecuted) for img in e.images]
    assert shown, "the scripted policy shows a mask overlay"
    assert all(img.path.startswith("media/episodes/") and (code_run / img.path).is_file() for img in shown)


def test_claw_transcript_prints_the_conversation(code_run: Path) -> None:
    episode = find_episode(code_run, "syn-0-00000")
    done = run_claw("transcript", str(code_run), episode)
    assert done.returncode == 0, done.stderr
    assert "=== request 1 · planner" in done.stdout
    assert "(repeats the previous 3 messages, appends 2)" in done.stdout
    assert "[image media/" in done.stdout and "ReturnAnswer(" in done.stdout


def test_an_unknown_episode_is_one_line(code_run: Path) -> None:
    done = run_claw("transcript", str(code_run), "nope")
    assert done.returncode == 2
    assert done.stderr.startswith("claw: error: 'nope' names no episode of this run; give one episode id")


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short directory (Unix socket paths are limited to ~100 bytes), made off the event loop."""
    with tempfile.TemporaryDirectory(prefix="claw-vlm-") as directory:
        yield Path(directory)


async def test_a_vlm_call_is_recorded_whole_with_its_image_under_the_run(
    tmp_path: Path, socket_dir: Path
) -> None:
    import io

    import aiohttp
    from PIL import Image

    from claw.events import Event, RecordedImage
    from claw.llm import ChatRequest, ScriptedTransport
    from claw.runtime.vlm_server import serve_vlm
    from claw.wire.vlm import AskRequest

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buffer, format="PNG")
    events: list[Event] = []

    async def emit(event: Event) -> None:
        events.append(event)

    def answer(request: ChatRequest) -> str:
        return "red"

    async with serve_vlm(str(socket_dir / "vlm.sock"), ScriptedTransport(answer), run_id="r", emit=emit,
                         run_dir=tmp_path) as path:  # fmt: skip
        connector = aiohttp.UnixConnector(path=path)
        async with aiohttp.ClientSession(connector=connector) as session:
            ask = AskRequest(episode_id="s/x/s0", question="what colour?", images=[buffer.getvalue()])
            async with session.post("http://vlm/v1/ask", data=msgspec.msgpack.encode(ask)) as reply:
                assert reply.status == 200
    requested = next(e for e in events if isinstance(e, LLMRequested))
    assert requested.thread == "vlm_ask" and requested.base == 0
    assert requested.appended[0].role == "system" and requested.appended[-1].role == "user"
    content = requested.appended[-1].content
    image = next(p for p in content if isinstance(p, RecordedImage))
    assert image.path.startswith("media/episodes/s/x/s0/")
    assert await anyio.Path(tmp_path / image.path).read_bytes() == buffer.getvalue()
    replies = [e for e in events if isinstance(e, LLMResponded)]
    assert replies[0].content == "red"
