"""The perception server's pixel budget: an image or a request over it is refused (413, a one-line
message saying what was too big and what to do) before any image is decoded or reaches the backend, and
the server keeps serving."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import anyio
import anyio.abc
import msgspec
import numpy as np
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream

import servers.perception.__main__ as perception_main
from claw.config import PerceptionConfig
from claw.errors import PerceptionError
from claw.runtime.perception_service import server_command
from claw.tools import Reconstruct, _client
from claw.wire.perception import (
    ErrorResponse,
    NDArray,
    ReconstructRequest,
    ReconstructResponse,
    decode,
    encode,
)
from servers.perception.server import serve_perception
from tests.perception.test_perception_server import BoxBackend, _post

SMALL = PerceptionConfig(
    backend="costmodel", max_image_pixels=100 * 100, max_reconstruct_pixels=3 * 100 * 100
)


class CountingBackend(BoxBackend):
    def __init__(self) -> None:
        super().__init__()
        self.reconstructions = 0

    async def reconstruct(self, batch: list[ReconstructRequest]) -> list[ReconstructResponse]:
        self.reconstructions += len(batch)
        return await super().reconstruct(batch)


def _body(*shapes: tuple[int, int]) -> bytes:
    images = [NDArray.from_numpy(np.zeros((h, w, 3), np.uint8)) for h, w in shapes]
    return encode(ReconstructRequest(images=images, frame_indices=list(range(len(shapes)))))


@pytest.fixture
def sock(tmp_path: Path) -> str:
    return str(tmp_path / "p.sock")


async def test_an_image_over_the_budget_is_refused_and_the_server_stays_up(sock: str) -> None:
    backend = CountingBackend()
    async with serve_perception(SMALL, socket_path=sock, backend=backend):
        status, body = await _post(sock, "/v1/reconstruct", _body((50, 50), (120, 100)))
        error = decode(body, ErrorResponse)
        assert status == 413
        assert "image 2 is 100x120" in error.message and "resize or crop" in error.message
        assert "\n" not in error.message
        assert backend.reconstructions == 0
        status, _ = await _post(sock, "/v1/reconstruct", _body((100, 100), (100, 100), (100, 100)))
        assert status == 200 and backend.reconstructions == 1


async def test_a_request_over_the_total_budget_is_refused(sock: str) -> None:
    backend = CountingBackend()
    async with serve_perception(SMALL, socket_path=sock, backend=backend):
        status, body = await _post(sock, "/v1/reconstruct", _body(*[(100, 100)] * 4))
    message = decode(body, ErrorResponse).message
    assert status == 413 and "40000 pixels in 4 images" in message and "fewer frames" in message
    assert backend.reconstructions == 0


async def test_a_huge_declared_shape_is_refused_before_the_body_is_decoded(
    sock: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few bytes declaring a 100000x100000 image: refused from the shapes, the full decode never runs."""
    decoded: list[bytes] = []
    real_decode = decode

    def recording_decode(body: bytes, type_: type[msgspec.Struct]) -> msgspec.Struct:
        decoded.append(body)
        return real_decode(body, type_)

    monkeypatch.setattr("servers.perception.server.decode", recording_decode)
    image = NDArray(dtype="|u1", shape=(100_000, 100_000, 3), data=b"\x00" * 16)
    body = encode(ReconstructRequest(images=[image], frame_indices=[0]))
    async with serve_perception(
        PerceptionConfig(backend="costmodel"), socket_path=sock, backend=BoxBackend()
    ):
        tracemalloc.start()
        try:
            status, answer = await _post(sock, "/v1/reconstruct", body)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert status == 413 and "100000x100000" in decode(answer, ErrorResponse).message
    assert decoded == []
    assert peak < 64 * 2**20, peak  # the image would be 30 GB


async def test_a_body_declared_over_the_budget_is_refused_unread(sock: str) -> None:
    """Only the headers are sent: the answer comes back without the server waiting for 4 GiB of body."""
    async with serve_perception(
        PerceptionConfig(backend="costmodel"), socket_path=sock, backend=BoxBackend()
    ):
        stream = await anyio.connect_unix(sock)
        async with stream:
            head = "POST /v1/reconstruct HTTP/1.1\r\nHost: p\r\nContent-Length: 4294967296\r\n\r\n"
            await stream.send(head.encode())
            answer = await _read_answer(stream)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"4096 MiB is over the perception server's limit" in answer


async def _read_answer(stream: anyio.abc.ByteStream) -> bytes:
    reader = BufferedByteReceiveStream(stream)
    with anyio.fail_after(120):  # a hang guard only: the answer needs no body
        head = await reader.receive_until(b"\r\n\r\n", 65536)
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        return head + b"\r\n\r\n" + await reader.receive_exactly(length)


async def test_the_refusal_reaches_the_cell_as_a_perception_error(sock: str) -> None:
    async with serve_perception(SMALL, socket_path=sock, backend=BoxBackend()):
        _client.configure(socket=sock)
        try:
            with pytest.raises(PerceptionError, match=r"image 1 is 400x300 .* resize or crop it"):
                await anyio.to_thread.run_sync(Reconstruct, np.zeros((300, 400, 3), np.uint8))
        finally:
            _client.reset()


def test_the_default_budget_fits_the_published_inputs() -> None:
    """64 Reconstruct frames and 256 SAM3 frames at the published 768x576, and a 12 MP photo."""
    config = PerceptionConfig()
    assert 64 * 768 * 576 <= config.max_reconstruct_pixels
    assert 256 * 768 * 576 <= config.max_segment_pixels
    assert 4032 * 3024 <= config.max_image_pixels
    assert config.max_reconstruct_pixels * 20 <= 700 * 2**20  # depth + points + confidence out


def test_the_configured_budget_reaches_the_server_claw_starts() -> None:
    configured = PerceptionConfig(max_image_pixels=123, max_reconstruct_pixels=456, max_segment_pixels=789)
    command = server_command(configured, Path("p.sock"))
    started = perception_main._config(perception_main._parser().parse_args(command[3:]))
    assert (started.max_image_pixels, started.max_reconstruct_pixels, started.max_segment_pixels) == (
        123,
        456,
        789,
    )
