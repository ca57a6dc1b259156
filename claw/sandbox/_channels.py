"""The runner's side of one kernel's Jupyter connection: its shell and iopub sockets speaking the
Jupyter wire protocol (signed JSON frames) directly, with nothing the pool does not use.

jupyter_client's asynchronous client polls before every receive, parses every date in every message and
adapts protocol versions; at hundreds of kernels that was most of the runner's CPU per cell. Here a
message is received with one awaited `recv_multipart`, its signature checked, its header and parent
decoded into what the pool reads (`msg_type`, the parent's `msg_id`) and its content into a dict.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from typing import Any

import anyio
import msgspec
import structlog
import zmq
import zmq.asyncio

__all__ = ["MAX_MESSAGE_BYTES", "KernelChannels", "KernelMessage"]

_log = structlog.get_logger("claw.sandbox")
_DELIM = b"<IDS|MSG>"
_PROTOCOL_VERSION = "5.3"
MAX_MESSAGE_BYTES = 256 * 2**20
"""A bigger message is not read: its connection is dropped, so that kernel's cell ends at its time limit
and the kernel is replaced. The kernel caps what a cell prints at the source, but a cell can write to its
iopub socket directly, and the runner held about three times each message while decoding it (a 300 MB
message took it from 0.1 to 1 GB). A cell's report with its shown images (at most ~5 MB each) stays far
below."""
_SHELL_PORT, _IOPUB_PORT = 1, 2
"""The socket numbers of `ConnectionFiles.info` (ipc sockets are named `<prefix>-<number>`)."""


class _Header(msgspec.Struct):
    msg_type: str = ""


class _Parent(msgspec.Struct):
    msg_id: str = ""


_header_decoder = msgspec.json.Decoder(_Header)
_parent_decoder = msgspec.json.Decoder(_Parent)
_content_decoder = msgspec.json.Decoder(dict[str, Any])
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class KernelMessage:
    """One message from the kernel: its type, the id of the request it answers, its content."""

    msg_type: str
    parent_id: str
    content: dict[str, Any]


class KernelChannels:
    """Shell (requests and replies) and iopub (outputs and status) of one kernel at `prefix`."""

    def __init__(self, context: zmq.asyncio.Context, prefix: str, key: str) -> None:
        self._session = uuid.uuid4().hex
        self._signer = hmac.new(key.encode(), digestmod=hashlib.sha256)
        self._shell = context.socket(zmq.DEALER)
        self._iopub = context.socket(zmq.SUB)
        self._iopub.setsockopt(zmq.SUBSCRIBE, b"")
        for socket in (self._shell, self._iopub):
            socket.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        self._shell.connect(f"ipc://{prefix}-{_SHELL_PORT}")
        self._iopub.connect(f"ipc://{prefix}-{_IOPUB_PORT}")

    def __repr__(self) -> str:
        return f"<KernelChannels session={self._session[:8]} closed={self._shell.closed}>"

    def execute(self, code: str, *, silent: bool, store_history: bool) -> str:
        """Send an `execute_request` (no stdin, stop on error, as jupyter_client sends it); its msg_id."""
        content = {
            "code": code,
            "silent": silent,
            "store_history": store_history,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        return self._send("execute_request", content)

    def kernel_info(self) -> str:
        """Send a `kernel_info_request`; its msg_id."""
        return self._send("kernel_info_request", {})

    def _send(self, msg_type: str, content: dict[str, Any]) -> str:
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": msg_type,
            "username": "claw",
            "session": self._session,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
            "version": _PROTOCOL_VERSION,
        }
        frames = [_encoder.encode(header), b"{}", b"{}", _encoder.encode(content)]
        self._shell.send_multipart([_DELIM, self._sign(frames), *frames], copy=False)
        return msg_id

    def _sign(self, frames: list[bytes]) -> bytes:
        signer = self._signer.copy()
        for frame in frames:
            signer.update(frame)
        return signer.hexdigest().encode()

    async def next_iopub(self, timeout: float) -> KernelMessage | None:
        """The next output or status message, or None after `timeout` seconds.

        Raises:
            zmq.ZMQError: the socket failed (closed, or the context was terminated).
        """
        return await self._next(self._iopub, timeout)

    async def next_shell(self, timeout: float) -> KernelMessage | None:
        """The next reply on the shell channel, or None after `timeout` seconds.

        Raises:
            zmq.ZMQError: the socket failed (closed, or the context was terminated).
        """
        return await self._next(self._shell, timeout)

    async def _next(self, socket: zmq.asyncio.Socket, timeout: float) -> KernelMessage | None:
        deadline = anyio.current_time() + timeout
        while True:
            try:  # a message already queued (the common case in a burst) needs no wait and no timer
                frames: list[bytes] = await socket.recv_multipart(flags=zmq.NOBLOCK)
            except zmq.Again:
                frames = []
                with anyio.move_on_after(deadline - anyio.current_time()):
                    frames = await socket.recv_multipart()
                if not frames:
                    return None
            message = self._decode(frames)
            if message is not None:
                return message

    def _decode(self, frames: list[bytes]) -> KernelMessage | None:
        try:
            start = frames.index(_DELIM) + 1
            signature, header, parent, metadata, content = frames[start : start + 5]
        except ValueError:
            _log.warning("kernel message without a delimiter or frames ignored", frames=len(frames))
            return None
        if not hmac.compare_digest(signature, self._sign([header, parent, metadata, content])):
            _log.warning("kernel message with a bad signature ignored")
            return None
        try:
            return KernelMessage(
                msg_type=_header_decoder.decode(header).msg_type,
                parent_id=_parent_decoder.decode(parent).msg_id,
                content=_content_decoder.decode(content),
            )
        except msgspec.DecodeError as exc:
            _log.warning("undecodable kernel message ignored", error=str(exc))
            return None

    def close(self) -> None:
        """Close both sockets at once (idempotent)."""
        self._shell.close(linger=0)
        self._iopub.close(linger=0)
