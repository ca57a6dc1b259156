"""Unix-socket relays that give a confined kernel its perception and VLM sockets, the only sockets in its
filesystem.

A confined kernel sees none of the host's sockets. For each checked-out kernel the pool listens on a
socket inside that kernel's exchange directory (which only that kernel sees) and forwards to the real
socket. The perception relay forwards bytes. The VLM relay reads each HTTP request, and forwards it only
when its `episode_id` is the episode the kernel is lent to: a forged request for another episode gets a
403 with an `AskError` and a warning in the log, and never reaches the runtime. A kernel may hold at most
`MAX_CONNECTIONS` connections on each socket at once, and the VLM relay buffers at most
`MAX_BUFFERED_BYTES` of that kernel's requests at once, whatever the number of connections (a request
that would go over is answered 413 before its body is read).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import anyio
import anyio.abc
import msgspec
import structlog
from anyio.abc import ByteStream
from anyio.streams.buffered import BufferedByteReceiveStream

from claw.wire.vlm import AskError

__all__ = ["MAX_BUFFERED_BYTES", "MAX_CONNECTIONS", "episode_relay", "relay"]

_log = structlog.get_logger("claw.sandbox")
_MAX_HEADER = 64 * 1024
_MAX_BODY = 64 * 2**20
"""The runtime's own request size limit."""
MAX_BUFFERED_BYTES = _MAX_BODY
"""Request bytes the VLM relay holds for one kernel at once, over all its connections: without it, each
of `MAX_CONNECTIONS` connections could hold a 64 MiB body in the runner's memory."""
MAX_CONNECTIONS = 8
"""Connections one kernel may hold open on one relayed socket at once; more are closed as soon as they
are accepted. Each costs the runner descriptors (and the VLM relay a buffered body): without a cap one
cell held 240, taking 411 of the runner's descriptors, and a few such cells exhaust its limit."""


class _Claim(msgspec.Struct):
    """The part of a VLM request the relay checks."""

    episode_id: str = ""


async def _pipe(source: ByteStream, target: ByteStream) -> None:
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
        async for chunk in source:
            await target.send(chunk)
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        await target.send_eof()


async def _serve_bytes(client: anyio.abc.SocketStream, upstream_path: str) -> None:
    async with client:
        try:
            upstream = await anyio.connect_unix(upstream_path)
        except OSError:
            return  # the kernel sees a closed connection and its client reports the server as unreachable
        async with upstream, anyio.create_task_group() as tg:
            tg.start_soon(_pipe, client, upstream)
            await _pipe(upstream, client)


@contextlib.asynccontextmanager
async def _listen(
    listen_path: Path, serve: Callable[[anyio.abc.SocketStream], Awaitable[None]]
) -> AsyncIterator[None]:
    listener = await anyio.create_unix_listener(listen_path)
    # world-writable is safe: only this kernel's filesystem holds the socket
    await anyio.Path(listen_path).chmod(0o666)
    open_now = anyio.CapacityLimiter(MAX_CONNECTIONS)

    async def admit(client: anyio.abc.SocketStream) -> None:
        try:
            open_now.acquire_nowait()
        except anyio.WouldBlock:
            await client.aclose()
            return
        try:
            await serve(client)
        finally:
            open_now.release()

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, admit)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()


def relay(listen_path: Path, upstream_path: str) -> contextlib.AbstractAsyncContextManager[None]:
    """Forward connections on `listen_path` to `upstream_path`, byte for byte, while the context is open."""
    return _listen(listen_path, lambda client: _serve_bytes(client, upstream_path))


def episode_relay(
    listen_path: Path, upstream_path: str, episode_id: str
) -> contextlib.AbstractAsyncContextManager[None]:
    """Forward HTTP requests on `listen_path` to `upstream_path` while the context is open, refusing any
    whose msgpack body names another episode than `episode_id`."""
    buffered = _BufferBudget(MAX_BUFFERED_BYTES)
    return _listen(listen_path, lambda client: _serve_checked(client, upstream_path, episode_id, buffered))


class _BufferBudget:
    """Request bytes one kernel's connections may hold in the relay at once."""

    def __init__(self, limit: int) -> None:
        self.limit, self.held = limit, 0

    def __repr__(self) -> str:
        return f"<_BufferBudget held={self.held} limit={self.limit}>"

    @contextlib.contextmanager
    def reserve(self, size: int) -> Iterator[bool]:
        """Hold `size` bytes while the block runs; yields False (holding nothing) when they do not fit."""
        if self.held + size > self.limit:
            yield False
            return
        self.held += size
        try:
            yield True
        finally:
            self.held -= size


async def _serve_checked(
    client: anyio.abc.SocketStream, upstream_path: str, episode_id: str, buffered: _BufferBudget
) -> None:
    async with client:
        reader = BufferedByteReceiveStream(client)
        with contextlib.suppress(
            anyio.EndOfStream, anyio.IncompleteRead, anyio.DelimiterNotFound, anyio.BrokenResourceError
        ):
            while await _relay_one(client, reader, upstream_path, episode_id, buffered):
                pass


async def _relay_one(
    client: anyio.abc.SocketStream,
    reader: BufferedByteReceiveStream,
    upstream_path: str,
    episode_id: str,
    buffered: _BufferBudget,
) -> bool:
    """Read, check and forward one request; False when the connection cannot go on."""
    header = await reader.receive_until(b"\r\n\r\n", _MAX_HEADER) + b"\r\n\r\n"
    length = _content_length(header)
    if length is None or length > _MAX_BODY:
        await client.send(_status(400, "the request has no Content-Length or is too large"))
        return False
    with buffered.reserve(length) as fits:
        if not fits:
            held = buffered.held / 2**20
            message = (
                f"this kernel already has {held:.0f} MiB of vlm requests in flight (limit "
                f"{buffered.limit / 2**20:.0f} MiB); wait for them, or send fewer or smaller images"
            )
            await client.send(_status(413, message))
            return False
        return await _check_and_forward(
            client, header, await reader.receive_exactly(length), upstream_path, episode_id
        )


async def _check_and_forward(
    client: anyio.abc.SocketStream, header: bytes, body: bytes, upstream_path: str, episode_id: str
) -> bool:
    claimed = _claimed_episode(body)
    if claimed != episode_id:
        _log.warning("forged vlm request refused", episode_id=episode_id, claimed=claimed)
        await client.send(_status(403, f"this kernel belongs to episode {episode_id!r}"))
        return True
    return await _forward(client, upstream_path, header, body)


async def _read_message(reader: BufferedByteReceiveStream) -> tuple[bytes, bytes] | None:
    """(header block, body) of one HTTP message with a Content-Length, or None."""
    header = await reader.receive_until(b"\r\n\r\n", _MAX_HEADER) + b"\r\n\r\n"
    length = _content_length(header)
    if length is None or length > _MAX_BODY:
        return None
    return header, await reader.receive_exactly(length) if length else b""


def _content_length(header: bytes) -> int | None:
    for line in header.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return int(value.strip())
    return None


def _claimed_episode(body: bytes) -> str | None:
    try:
        return msgspec.msgpack.decode(body, type=_Claim).episode_id
    except msgspec.DecodeError:
        return None


def _status(code: int, message: str) -> bytes:
    body = msgspec.msgpack.encode(AskError(error_type="PermissionError", message=message))
    reason = {400: "Bad Request", 403: "Forbidden", 413: "Payload Too Large"}[code]
    head = f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/msgpack\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


async def _forward(client: anyio.abc.SocketStream, upstream_path: str, header: bytes, body: bytes) -> bool:
    """One request upstream and its response back; False when the connection cannot go on."""
    try:
        upstream = await anyio.connect_unix(upstream_path)
    except OSError:
        return False
    async with upstream:
        await upstream.send(header)
        await upstream.send(body)
        reader = BufferedByteReceiveStream(upstream)
        response = await _read_message(reader)
        if response is None:
            return False
        await client.send(b"".join(response))
    return True
