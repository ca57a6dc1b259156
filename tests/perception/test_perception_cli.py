"""`python -m servers.perception` as the runtime starts it: one readiness line, clean stop on SIGTERM,
one-line errors for bad input."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import aiohttp
import anyio
from anyio.streams.text import TextReceiveStream

CMD = [sys.executable, "-m", "servers.perception"]


async def _first_line(stream: anyio.abc.ByteReceiveStream) -> str:
    text = ""
    async for chunk in TextReceiveStream(stream):
        text += chunk
        if "\n" in text:
            break
    return text.split("\n", 1)[0]


async def test_the_server_process_reports_ready_and_stops_on_sigterm(tmp_path: Path) -> None:
    sock = str(tmp_path / "p.sock")
    args = [*CMD, "--backend", "costmodel", "--socket", sock, "--port", "0", "--cost-ms", "0,0"]
    async with await anyio.open_process(args) as proc:
        assert proc.stdout is not None
        with anyio.fail_after(120):  # a hang guard: a slow machine starts Python slowly
            line = await _first_line(proc.stdout)
        assert line.startswith(f"READY unix={sock} tcp=http://127.0.0.1:")
        assert " token=" in line
        async with (
            aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=sock)) as session,
            session.get("http://perception/health") as resp,
        ):
            assert resp.status == 200
        proc.send_signal(signal.SIGTERM)
        with anyio.fail_after(30):
            assert await proc.wait() == 0
    assert not await anyio.Path(sock).exists()


async def test_an_unknown_backend_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = await anyio.run_process(
        [*CMD, "--backend", "nope", "--socket", str(tmp_path / "p.sock")], check=False
    )
    assert result.returncode == 2
    err = result.stderr.decode()
    assert err.count("\n") == 1
    assert "unknown perception backend 'nope'" in err and "costmodel" in err
    assert result.stdout == b""
