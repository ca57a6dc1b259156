"""The VLM relay: a confined kernel's requests reach the runtime only under the episode the kernel is
lent to; a forged request for another episode is refused (403), logged, and never reaches the runtime."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import msgspec
import pytest
from aiohttp import web
from structlog.testing import capture_logs

from claw.sandbox import KernelPool
from claw.sandbox._relay import MAX_CONNECTIONS
from claw.wire.vlm import AskRequest, AskResponse
from tests.sandbox.conftest import make_setup

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")

FORGING_CELL = """
import http.client, socket, msgspec
class UnixConnection(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect('/claw/exchange/v.sock')
conn = UnixConnection('localhost')
def ask(episode):
    body = msgspec.msgpack.encode({'episode_id': episode, 'question': 'what is here?', 'images': []})
    conn.request('POST', '/v1/ask', body=body, headers={'Content-Type': 'application/msgpack'})
    reply = conn.getresponse()
    return reply.status, msgspec.msgpack.decode(reply.read())
print(ask('ep-finished-long-ago'))
print(ask('ep-test'))
"""


@asynccontextmanager
async def fake_vlm_server(path: Path, seen: list[str]) -> AsyncIterator[None]:
    async def handle(request: web.Request) -> web.Response:
        ask = msgspec.msgpack.decode(await request.read(), type=AskRequest)
        seen.append(ask.episode_id)
        body = msgspec.msgpack.encode(AskResponse(answer=f"answered for {ask.episode_id}"))
        return web.Response(body=body, content_type="application/msgpack")

    app = web.Application()
    app.router.add_post("/v1/ask", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.UnixSite(runner, str(path)).start()
    try:
        yield
    finally:
        await runner.cleanup()


@MODULE_LOOP
async def test_forged_episode_is_refused_and_logged(
    pool: KernelPool, frames_dir: Path, tmp_path: Path
) -> None:
    private = tmp_path / "run"
    await anyio.Path(private).mkdir(mode=0o700)
    seen: list[str] = []
    async with fake_vlm_server(private / "vlm.sock", seen):
        setup = make_setup(frames_dir, vlm_socket=str(private / "vlm.sock"))
        with capture_logs() as logs:
            async with pool.checkout(setup) as kernel:
                result = await kernel.execute(FORGING_CELL, timeout=60)
    assert result.status == "ok", result.error
    forged, genuine = result.stdout.splitlines()
    assert forged.startswith("(403, ") and "PermissionError" in forged
    assert genuine.startswith("(200, {'answer': 'answered for ep-test'")
    assert seen == ["ep-test"]
    refused = [entry for entry in logs if entry["event"] == "forged vlm request refused"]
    assert (
        refused and refused[0]["claimed"] == "ep-finished-long-ago" and refused[0]["episode_id"] == "ep-test"
    )


HOARDING_CELL = """
import socket
held = []
for i in range(150):
    s = socket.socket(socket.AF_UNIX)
    s.connect('/claw/exchange/' + ('p.sock' if i % 2 else 'v.sock'))
    held.append(s)
print(len(held), 'connections')
"""


async def _open_files() -> int:
    return len(await anyio.to_thread.run_sync(os.listdir, "/proc/self/fd"))


@MODULE_LOOP
async def test_a_kernel_cannot_hoard_the_runners_descriptors(
    pool: KernelPool, frames_dir: Path, tmp_path: Path
) -> None:
    """A cell holding hundreds of connections to its relayed sockets costs the runner a few descriptors
    per socket (MAX_CONNECTIONS each), not two per connection; once it lets go, its sockets work again."""
    private = tmp_path / "run"
    await anyio.Path(private).mkdir(mode=0o700)
    seen: list[str] = []
    perception = await anyio.create_unix_listener(private / "perception.sock")

    async def drain(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            async for _ in stream:
                pass

    setup = make_setup(
        frames_dir, vlm_socket=str(private / "vlm.sock"), perception_socket=str(private / "perception.sock")
    )
    async with fake_vlm_server(private / "vlm.sock", seen), perception, anyio.create_task_group() as tg:
        tg.start_soon(perception.serve, drain)
        before = await _open_files()
        async with pool.checkout(setup) as kernel:
            hoarded = await kernel.execute(HOARDING_CELL, timeout=60)
            during = await _open_files()
            released = await kernel.execute("for s in held:\n    s.close()\n" + FORGING_CELL, timeout=60)
        tg.cancel_scope.cancel()
    assert hoarded.stdout == "150 connections\n", hoarded.error
    assert during - before < 10 * MAX_CONNECTIONS, (before, during)
    assert released.stdout.splitlines()[-1].startswith("(200, {'answer': 'answered for ep-test'"), released
