"""What a hostile cell can make claw's own processes hold through its `vlm` socket: the relay buffers at
most `MAX_BUFFERED_BYTES` of one kernel's requests at once, whatever the number of connections (the rest
get a 413 before their bodies are read), and the runtime refuses an image whose header declares a huge
size (a tiny PNG can decode to gigabytes) before anything decodes it; a frame over the perception
server's pixel budget comes back to the cell as one line. Run from a real confined kernel, through the
relays, to the real `vlm` and perception servers."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import ImageFile

from claw.config import PerceptionConfig
from claw.events import Event
from claw.llm import ChatRequest, ChatResponse, ScriptedTransport, Usage
from claw.runtime.vlm_server import serve_vlm
from claw.sandbox import KernelPool
from claw.sandbox._relay import MAX_BUFFERED_BYTES, MAX_CONNECTIONS
from servers.perception.server import serve_perception
from tests.sandbox.conftest import make_setup

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")

_CONNECT = """
import socket, select, zlib, struct, msgspec
def connect():
    s = socket.socket(socket.AF_UNIX)
    s.connect('/claw/exchange/v.sock')
    return s
def answer(s):
    data = b''
    while b'\\r\\n\\r\\n' not in data:
        data += s.recv(65536)
    head, _, body = data.partition(b'\\r\\n\\r\\n')
    length = int(head.lower().split(b'content-length:')[1].split(b'\\r\\n')[0])
    while len(body) < length:
        body += s.recv(65536)
    return int(head.split()[1]), msgspec.msgpack.decode(body)
def post(s, body):
    s.sendall(b'POST /v1/ask HTTP/1.1\\r\\nHost: v\\r\\nContent-Length: %d\\r\\n\\r\\n' % len(body) + body)
"""

ASK_CELL = (
    _CONNECT
    + """
s = connect()
post(s, msgspec.msgpack.encode({'episode_id': 'ep-test', 'question': 'hi', 'images': []}))
print(answer(s))
"""
)

HOARDING_CELL = (
    _CONNECT
    + """
claimed = {claimed}
held = [connect() for _ in range({connections})]
for s in held:
    s.sendall(b'POST /v1/ask HTTP/1.1\\r\\nHost: v\\r\\nContent-Length: %d\\r\\n\\r\\n' % claimed)
refused = []
pending = list(held)
while len(refused) < len(held) - 1:
    ready, _, _ = select.select(pending, [], [], 300)
    assert ready, 'the relay answered nothing'
    for s in ready:
        pending.remove(s)
        refused.append(answer(s))
print(len(refused), 'refused;', sorted({{status for status, _ in refused}}))
print(refused[0][1]['message'])
for s in held:
    s.close()
"""
)

BOMB_CELL = (
    _CONNECT
    + """
def chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
bomb = b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', {width}, {height}, 8, 2, 0, 0, 0))
bomb += chunk(b'IDAT', zlib.compress(b'\\x00' * 4096)) + chunk(b'IEND', b'')
print(len(bomb), 'bytes')
s = connect()
body = msgspec.msgpack.encode({{'episode_id': 'ep-test', 'question': 'what is it?', 'images': [bomb]}})
post(s, body)
status, reply = answer(s)
print(status, reply['message'])
"""
)


@pytest.fixture
def private() -> Iterator[Path]:
    """A short directory for the runtime's socket (Unix socket paths are limited to ~100 bytes)."""
    with tempfile.TemporaryDirectory(prefix="claw-budget-") as directory:
        Path(directory).chmod(0o700)
        yield Path(directory)


def _answer(request: ChatRequest) -> ChatResponse:
    return ChatResponse(
        content="a cup", usage=Usage(prompt_tokens=1, completion_tokens=1), endpoint="m", latency_s=0.0
    )


async def _run(
    pool: KernelPool, frames_dir: Path, private: Path, cells: list[str], events: list[Event] | None = None
) -> list[str]:
    events = [] if events is None else events

    async def emit(event: Event) -> None:
        events.append(event)

    transport = ScriptedTransport(_answer)
    socket = str(private / "vlm.sock")
    async with serve_vlm(socket, transport, run_id="r", emit=emit):
        async with pool.checkout(make_setup(frames_dir, vlm_socket=socket)) as kernel:
            results = [await kernel.execute(cell, timeout=600) for cell in cells]
    assert all(result.status == "ok" for result in results), [r.error for r in results]
    return [result.stdout for result in results]


@MODULE_LOOP
async def test_a_kernel_cannot_make_the_relay_buffer_more_than_its_budget(
    pool: KernelPool, frames_dir: Path, private: Path
) -> None:
    """Every connection claims a body of 60% of the budget and sends none: one may hold its claim, every
    other is answered 413 at once (nothing of theirs was read), and the socket works again afterwards."""
    claimed = MAX_BUFFERED_BYTES * 6 // 10
    hoard = HOARDING_CELL.format(claimed=claimed, connections=MAX_CONNECTIONS)
    hoarded, asked = await _run(pool, frames_dir, private, [hoard, ASK_CELL])
    count, message = hoarded.splitlines()
    assert count == f"{MAX_CONNECTIONS - 1} refused; [413]"
    assert "vlm requests in flight" in message and "send fewer or smaller images" in message
    assert asked.startswith("(200, {'answer': 'a cup'")


@MODULE_LOOP
@pytest.mark.parametrize(("width", "height"), [(8000, 6000), (100_000, 100_000)])
async def test_a_tiny_png_declaring_a_huge_image_is_refused_undecoded(
    pool: KernelPool,
    frames_dir: Path,
    private: Path,
    monkeypatch: pytest.MonkeyPatch,
    width: int,
    height: int,
) -> None:
    """48 MP (under PIL's own bomb guard) and 10 GP: refused from the header; no pixel is decoded in the
    runtime and the model is never asked."""
    loads: list[object] = []
    real_load = ImageFile.ImageFile.load

    def recording_load(self: ImageFile.ImageFile) -> object:
        loads.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    events: list[Event] = []
    cell = BOMB_CELL.format(width=width, height=height)
    (out,) = await _run(pool, frames_dir, private, [cell], events)
    size, refusal = out.splitlines()
    assert int(size.split()[0]) < 1000
    assert refusal.startswith("400 vlm image 1 declares ") and "resize or crop it" in refusal
    assert loads == []
    assert events == []  # no LLMRequested: the model was never asked


OVERSIZED_CELL = "tools.Reconstruct(np.zeros((300, 400, 3), np.uint8))"
WITHIN_CELL = "print(tools.Reconstruct(np.zeros((60, 80, 3), np.uint8)).depth[0].shape)"


@MODULE_LOOP
async def test_a_frame_over_the_perception_budget_reaches_the_cell_as_one_line(
    pool: KernelPool, frames_dir: Path, private: Path
) -> None:
    """Through the real tool path: the refusal is the cell's error (what the model sees), and the server
    answers the next call."""
    config = PerceptionConfig(backend="costmodel", max_image_pixels=200 * 200)
    socket = str(private / "perception.sock")
    async with serve_perception(config, socket_path=socket):
        async with pool.checkout(make_setup(frames_dir, perception_socket=socket)) as kernel:
            refused = await kernel.execute(OVERSIZED_CELL, timeout=600)
            within = await kernel.execute(WITHIN_CELL, timeout=600)
    assert refused.status == "error" and refused.error is not None
    assert refused.error.ename == "PerceptionError"
    assert "Reconstruct image 1 is 400x300 (0.1 MP), over the perception server's limit of 40000" in (
        refused.error.evalue
    )
    assert "resize or crop it" in refused.error.evalue and "\n" not in refused.error.evalue
    assert refused.tool_failures == ()  # the cell's mistake, not an infrastructure failure
    assert within.status == "ok" and within.stdout == "(60, 80)\n", within.error
