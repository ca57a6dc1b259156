"""The runner's Jupyter connection (`_channels.KernelChannels`) against a stand-in kernel made of two
in-process ZeroMQ sockets on IPC paths: requests are signed and well formed, replies and outputs are
decoded, and unsigned, forged or malformed messages are dropped, not trusted."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import zmq
import zmq.asyncio

from claw.sandbox import _channels
from claw.sandbox._channels import KernelChannels

KEY = "0123456789abcdef"


@dataclass
class StandIn:
    """The kernel's end: a ROUTER for shell, a PUB for iopub."""

    shell: zmq.asyncio.Socket
    iopub: zmq.asyncio.Socket
    channels: KernelChannels

    async def request(self) -> tuple[bytes, list[bytes]]:
        """The next request: the routing id and the frames after it."""
        frames = await self.shell.recv_multipart()
        return frames[0], frames[1:]

    async def publish(self, frames: list[bytes]) -> None:
        await self.iopub.send_multipart([b"kernel.topic", *frames])


def signed(msg_type: str, parent_id: str, content: dict[str, object], key: str = KEY) -> list[bytes]:
    parts = [
        json.dumps({"msg_id": "m", "msg_type": msg_type}).encode(),
        json.dumps({"msg_id": parent_id}).encode(),
        b"{}",
        json.dumps(content).encode(),
    ]
    signer = hmac.new(key.encode(), digestmod=hashlib.sha256)
    for part in parts:
        signer.update(part)
    return [b"<IDS|MSG>", signer.hexdigest().encode(), *parts]


@pytest.fixture
async def stand_in(tmp_path: Path) -> AsyncIterator[StandIn]:
    context = zmq.asyncio.Context()
    shell, iopub = context.socket(zmq.ROUTER), context.socket(zmq.PUB)
    shell.bind(f"ipc://{tmp_path}/ipc-1")
    iopub.bind(f"ipc://{tmp_path}/ipc-2")
    channels = KernelChannels(context, f"{tmp_path}/ipc", KEY)
    try:
        yield StandIn(shell, iopub, channels)
    finally:
        channels.close()
        shell.close(linger=0)
        iopub.close(linger=0)
        context.term()


async def _subscribed(stand_in: StandIn) -> None:
    """Publish until the subscriber sees a message (a SUB socket misses what is sent before it joins).

    Bounded by a 120 s deadline that only a hang reaches, not by a count of short waits."""
    deadline = time.monotonic() + 120.0
    while time.monotonic() < deadline:
        await stand_in.publish(signed("status", "probe", {"execution_state": "idle"}))
        if await stand_in.channels.next_iopub(0.05) is not None:
            return
    raise AssertionError("the iopub subscription never saw a message in 120 s")


async def test_execute_request_is_signed_and_well_formed(stand_in: StandIn) -> None:
    msg_id = stand_in.channels.execute("print(1)", silent=False, store_history=True)
    _, frames = await stand_in.request()
    delimiter, signature, header, parent, metadata, content = frames
    assert delimiter == b"<IDS|MSG>"
    expected = hmac.new(KEY.encode(), header + parent + metadata + content, hashlib.sha256).hexdigest()
    assert signature.decode() == expected
    decoded_header = json.loads(header)
    assert (decoded_header["msg_id"], decoded_header["msg_type"]) == (msg_id, "execute_request")
    assert decoded_header["version"] == "5.3" and decoded_header["session"]
    body = json.loads(content)
    assert (body["code"], body["silent"], body["store_history"], body["allow_stdin"]) == (
        "print(1)",
        False,
        True,
        False,
    )


async def test_shell_reply_is_decoded(stand_in: StandIn) -> None:
    msg_id = stand_in.channels.kernel_info()
    ident, _ = await stand_in.request()
    await stand_in.shell.send_multipart([ident, *signed("kernel_info_reply", msg_id, {"status": "ok"})])
    reply = await stand_in.channels.next_shell(30.0)
    assert reply is not None
    assert (reply.msg_type, reply.parent_id, reply.content) == ("kernel_info_reply", msg_id, {"status": "ok"})


async def test_iopub_drops_forged_and_malformed_messages(stand_in: StandIn) -> None:
    await _subscribed(stand_in)
    await stand_in.publish(signed("stream", "cell", {"text": "forged"}, key="another key"))
    await stand_in.publish([b"<IDS|MSG>", b"too", b"few"])
    await stand_in.publish([b"no delimiter at all"])
    await stand_in.publish(signed("stream", "cell", {"text": "kept"}))
    message = await stand_in.channels.next_iopub(30.0)
    while message is not None and message.parent_id == "probe":  # probes still in flight
        message = await stand_in.channels.next_iopub(30.0)
    assert message is not None
    assert (message.msg_type, message.parent_id, message.content) == ("stream", "cell", {"text": "kept"})


async def test_nothing_to_read_returns_none(stand_in: StandIn) -> None:
    assert await stand_in.channels.next_shell(0.01) is None


@pytest.fixture
def one_mib_cap(monkeypatch: pytest.MonkeyPatch) -> int:
    """Channels made after this refuse messages over 1 MiB (the real cap is too big to send in a test)."""
    monkeypatch.setattr(_channels, "MAX_MESSAGE_BYTES", 2**20)
    return 2**20


async def test_an_oversized_message_is_never_read(one_mib_cap: int, stand_in: StandIn) -> None:
    """A cell can write to its iopub socket directly, past the kernel's own output cap; a message over
    MAX_MESSAGE_BYTES never reaches the runner (its connection is dropped: that kernel's cell then ends at
    its time limit and the kernel is replaced)."""
    await _subscribed(stand_in)
    await stand_in.publish(signed("stream", "cell", {"text": "x" * 2 * one_mib_cap}))
    received = []
    for _ in range(100):
        message = await stand_in.channels.next_iopub(0.05)
        if message is not None and message.parent_id != "probe":
            received.append(len(message.content["text"]))
    assert received == []
