"""An aiohttp service that runs one claw episode per request and streams its events to the client as
server-sent events, while the same event loop keeps serving other requests. One `claw.Runner` (one
perception server, model transport and kernel pool) serves every request.

    .venv/bin/python examples/sse_episodes.py --port 8080 --runs runs/sse
    curl -N http://127.0.0.1:8080/episodes/syn-0-00003/events

Each event is one SSE message: `event: <event name>` and `data: <the event as JSON>`; the stream ends
after `run_finished`. The episode's files land in a fresh run directory under `--runs`.
"""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path

import anyio
import msgspec
from aiohttp import web

from claw.config import EvalConfig
from claw.runtime.embed import Runner

RUNNER = web.AppKey("runner", Runner)
RUNS = web.AppKey("runs", Path)
_encoder = msgspec.json.Encoder()


def _tag(event: msgspec.Struct) -> str:
    return str(type(event).__struct_config__.tag)


async def stream_episode(request: web.Request) -> web.StreamResponse:
    """`GET /episodes/{sample}/events?n=30`: run the sample (among the suite's first `n`) and stream it."""
    sample = request.match_info["sample"]
    n = int(request.query.get("n", "30"))
    run_dir = request.app[RUNS] / f"{sample}-{secrets.token_hex(3)}"
    config = msgspec.structs.replace(request.app[RUNNER].config, n=n, samples=[sample], run_dir=str(run_dir))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    async with request.app[RUNNER].events(config) as events:
        async for event in events:
            await response.write(f"event: {_tag(event)}\ndata: ".encode() + _encoder.encode(event) + b"\n\n")
    await response.write_eof()
    return response


async def health(request: web.Request) -> web.Response:
    """`GET /health`: 200 while serving."""
    return web.Response(text="ok")


def make_app(runner: Runner, runs: Path) -> web.Application:
    """The service's routes, on an open `runner`."""
    app = web.Application()
    app[RUNNER], app[RUNS] = runner, runs
    app.router.add_get("/episodes/{sample}/events", stream_episode)
    app.router.add_get("/health", health)
    return app


async def serve(port: int, runs: Path) -> None:
    """Serve until interrupted."""
    async with Runner(EvalConfig()) as runner:
        site_runner = web.AppRunner(make_app(runner, runs))
        await site_runner.setup()
        try:
            await web.TCPSite(site_runner, "127.0.0.1", port).start()
            await anyio.sleep_forever()
        finally:
            await site_runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=8080, help="loopback port to listen on")
    parser.add_argument("--runs", type=Path, default=Path("runs/sse"), help="where run directories go")
    options = parser.parse_args()
    anyio.run(serve, options.port, options.runs)
