"""The VLM relay: a confined kernel's requests reach the runtime only under the episode the kernel is
lent to; a forged request for another episode is refused (403), logged, and never reaches the runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import msgspec
import pytest
from aiohttp import web
from structlog.testing import capture_logs

from claw.sandbox import KernelPool
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
