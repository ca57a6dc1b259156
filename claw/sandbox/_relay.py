"""Unix-socket relays that give a confined kernel its perception and VLM sockets.

A confined kernel runs as an unprivileged user in its own mount namespace, so it can neither see nor
connect to the runtime's sockets. For each checked-out kernel the pool listens on a socket inside that
kernel's private exchange directory and forwards each connection, byte for byte, to the real socket.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import anyio.abc
from anyio.abc import ByteStream

__all__ = ["relay"]

_CHUNK = 1 << 20


async def _pipe(source: ByteStream, target: ByteStream) -> None:
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
        async for chunk in source:
            await target.send(chunk)
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        await target.send_eof()


async def _serve_one(client: anyio.abc.SocketStream, upstream_path: str) -> None:
    async with client:
        try:
            upstream = await anyio.connect_unix(upstream_path)
        except OSError:
            return  # the kernel sees a closed connection and its client reports the server as unreachable
        async with upstream, anyio.create_task_group() as tg:
            tg.start_soon(_pipe, client, upstream)
            await _pipe(upstream, client)


@contextlib.asynccontextmanager
async def relay(listen_path: Path, upstream_path: str) -> AsyncIterator[None]:
    """Forward connections on `listen_path` to `upstream_path` while the context is open."""
    listener = await anyio.create_unix_listener(listen_path)
    # world-writable is safe: the kernel's private directory already limits who can reach the socket
    await anyio.Path(listen_path).chmod(0o666)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, lambda client: _serve_one(client, upstream_path))
        try:
            yield
        finally:
            tg.cancel_scope.cancel()
