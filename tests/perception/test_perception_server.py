"""The perception server over real sockets: endpoints, auth, errors, draining, and the kernel-side client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import anyio
import msgspec
import numpy as np
import pytest

from claw.config import PerceptionConfig
from claw.errors import (
    ConfigError,
    PerceptionBatchFailed,
    PerceptionError,
    PerceptionUnavailable,
    ServiceError,
)
from claw.tools import SAM3, Reconstruct, _client
from claw.wire.perception import (
    ErrorResponse,
    NDArray,
    ReconstructRequest,
    ReconstructResponse,
    SegmentRequest,
    SegmentResponse,
    decode,
    encode,
)
from servers.perception._backends.costmodel import CostModelBackend
from servers.perception._loader import available_backends, load_backend
from servers.perception.server import HealthResponse, MetricsResponse, PerceptionServer, serve_perception

CONFIG = PerceptionConfig(backend="costmodel", max_batch=8, max_delay_ms=1.0)


class Frame:
    def __init__(self, index: int, h: int = 6, w: int = 8) -> None:
        self.index = index
        self.array = np.full((h, w, 3), index, dtype=np.uint8)


class BoxBackend:
    """Answers one instance: a fixed box mask; reconstruct answers depth = frame index + 1."""

    name = "box"

    def __init__(self) -> None:
        self.gate: anyio.Event | None = None
        self.entered = anyio.Event()
        self.fail = False

    async def reconstruct(self, batch: list[ReconstructRequest]) -> list[ReconstructResponse]:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("CUDA out of memory")
        return [_recon(req) for req in batch]

    async def segment(self, batch: list[SegmentRequest]) -> list[SegmentResponse]:
        return [_one_box(req) for req in batch]


def _recon(req: ReconstructRequest) -> ReconstructResponse:
    n, (h, w) = len(req.images), req.images[0].shape[:2]
    depth = np.stack([np.full((h, w), fi + 1.0, dtype=np.float32) for fi in req.frame_indices])
    return ReconstructResponse(
        depth=NDArray.from_numpy(depth),
        points=NDArray.from_numpy(np.zeros((n, h, w, 3), np.float32)),
        confidence=NDArray.from_numpy(np.ones((n, h, w), np.float32)),
        intrinsics=NDArray.from_numpy(np.repeat(np.eye(3)[None], n, 0)),
        extrinsics=NDArray.from_numpy(np.repeat(np.eye(4)[None], n, 0)),
    )


def _one_box(req: SegmentRequest) -> SegmentResponse:
    h, w = req.images[0].shape[:2]
    mask = np.zeros((1, h, w), bool)
    mask[0, 1:3, 2:5] = True
    n = len(req.images)
    return SegmentResponse(
        masks=[NDArray.from_numpy(mask)] * n,
        scores=[NDArray.from_numpy(np.array([0.9], np.float32))] * n,
        boxes=[NDArray.from_numpy(np.array([[2, 1, 5, 3]], np.float32))] * n,
        object_ids=[[7]] * n,
    )


@pytest.fixture
def sock(tmp_path: Path) -> str:
    return str(tmp_path / "p.sock")


@asynccontextmanager
async def box_server(sock: str) -> AsyncIterator[PerceptionServer]:
    # Not a fixture: pytest-asyncio runs fixture setup and teardown in different tasks, and the server
    # owns a task group that must be exited by the task that entered it.
    async with serve_perception(CONFIG, socket_path=sock, tcp_port=0, backend=BoxBackend()) as server:
        yield server


async def _post(
    sock: str, path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=sock)) as session,
        session.post(f"http://perception{path}", data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.read()


def _reconstruct_body(*indices: int) -> bytes:
    images = [NDArray.from_numpy(Frame(i).array) for i in indices]
    return encode(ReconstructRequest(images=images, frame_indices=list(indices)))


async def test_reconstruct_round_trip_over_the_unix_socket(sock: str) -> None:
    async with box_server(sock) as server:
        status, body = await _post(server.socket_path, "/v1/reconstruct", _reconstruct_body(4, 9))
        assert status == 200
        depth = decode(body, ReconstructResponse).depth.to_numpy()
        assert depth.shape == (2, 6, 8)
        assert depth[1, 0, 0] == 10.0


async def test_health_and_metrics(sock: str) -> None:
    async with box_server(sock) as server:
        await _post(server.socket_path, "/v1/reconstruct", _reconstruct_body(1))
        async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=server.socket_path)) as s:
            async with s.get("http://perception/health") as resp:
                assert msgspec.json.decode(await resp.read(), type=HealthResponse).status == "ok"
            async with s.get("http://perception/metrics") as resp:
                metrics = msgspec.json.decode(await resp.read(), type=MetricsResponse)
        recon = next(d for d in metrics.dispatchers if d.name == "reconstruct")
        assert (metrics.backend, recon.completed, recon.batch_sizes) == ("box", 1, {1: 1})


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"\x93not msgpack", "bad ReconstructRequest body"),
        (encode(ReconstructRequest(images=[], frame_indices=[])), "at least one image"),
        (
            encode(ReconstructRequest(images=[NDArray("|u1", (2, 2, 3), b"\x00")], frame_indices=[0])),
            "needs 12",
        ),
        (
            encode(
                ReconstructRequest(images=[NDArray.from_numpy(np.zeros((2, 2), np.uint8))], frame_indices=[0])
            ),
            "(H, W, 3) uint8",
        ),
    ],
)
async def test_bad_bodies_get_400_with_a_reason(sock: str, body: bytes, needle: str) -> None:
    async with box_server(sock) as server:
        status, payload = await _post(server.socket_path, "/v1/reconstruct", body)
    assert status == 400
    assert needle in decode(payload, ErrorResponse).message


async def test_segment_needs_exactly_one_prompt(sock: str) -> None:
    async with box_server(sock) as server:
        image = NDArray.from_numpy(Frame(0).array)
        body = encode(SegmentRequest(images=[image], frame_indices=[0], text="a", boxes=[[0, 0, 1, 1]]))
        status, payload = await _post(server.socket_path, "/v1/segment", body)
        assert status == 400
        assert "exactly one" in decode(payload, ErrorResponse).message


async def test_tcp_requires_the_bearer_token(sock: str) -> None:
    async with box_server(sock) as server:
        assert server.url is not None and server.token
        body = _reconstruct_body(0)
        async with aiohttp.ClientSession() as s:
            async with s.post(f"{server.url}/v1/reconstruct", data=body) as resp:
                assert resp.status == 401
            async with s.post(
                f"{server.url}/v1/reconstruct", data=body, headers={"Authorization": "Bearer wrong"}
            ) as resp:
                assert resp.status == 401
            auth = {"Authorization": f"Bearer {server.token}"}
            async with s.post(f"{server.url}/v1/reconstruct", data=body, headers=auth) as resp:
                assert resp.status == 200
            async with s.get(f"{server.url}/health") as resp:
                assert resp.status == 200


async def test_the_unix_socket_needs_no_token(sock: str) -> None:
    async with box_server(sock) as server:
        status, _ = await _post(server.socket_path, "/v1/reconstruct", _reconstruct_body(0))
        assert status == 200


async def test_a_backend_crash_answers_batch_failed(sock: str) -> None:
    backend = BoxBackend()
    backend.fail = True
    async with serve_perception(CONFIG, socket_path=sock, backend=backend):
        status, payload = await _post(sock, "/v1/reconstruct", _reconstruct_body(0))
    error = decode(payload, ErrorResponse)
    assert (status, error.error_type) == (500, "PerceptionBatchFailed")
    assert "CUDA out of memory" in error.message


async def test_exit_finishes_the_in_flight_batch(sock: str) -> None:
    backend = BoxBackend()
    backend.gate = anyio.Event()
    answers: list[int] = []

    async def client() -> None:
        answers.append((await _post(sock, "/v1/reconstruct", _reconstruct_body(3)))[0])

    async def release_when_stuck(server: PerceptionServer) -> None:
        await backend.entered.wait()
        await anyio.wait_all_tasks_blocked()
        assert server.draining
        backend.gate.set()  # type: ignore[union-attr]

    async with anyio.create_task_group() as tg:
        async with serve_perception(CONFIG, socket_path=sock, backend=backend) as server:
            tg.start_soon(client)
            await backend.entered.wait()
            tg.start_soon(release_when_stuck, server)
    assert answers == [200]
    assert not await anyio.Path(sock).exists()


async def test_a_live_socket_is_not_stolen(sock: str) -> None:
    async with box_server(sock) as server:
        with pytest.raises(ServiceError, match="already listening"):
            async with serve_perception(CONFIG, socket_path=server.socket_path, backend=BoxBackend()):
                pass
        status, _ = await _post(sock, "/v1/reconstruct", _reconstruct_body(0))
    assert status == 200


async def test_a_stale_socket_file_is_replaced(sock: str) -> None:
    async with serve_perception(CONFIG, socket_path=sock, backend=BoxBackend()):
        pass
    import socket as socket_module

    stale = socket_module.socket(socket_module.AF_UNIX)
    stale.bind(sock)
    stale.close()
    async with serve_perception(CONFIG, socket_path=sock, backend=BoxBackend()):
        status, _ = await _post(sock, "/v1/reconstruct", _reconstruct_body(0))
    assert status == 200


# --- the kernel-side client against the real server -------------------------------------------------


async def test_tools_call_the_server_through_the_kernel_client(sock: str) -> None:
    async with box_server(sock) as server:
        _client.configure(socket=server.socket_path, scene="s1")
        try:
            recon = await anyio.to_thread.run_sync(Reconstruct, [Frame(2), Frame(5)])
            seg = await anyio.to_thread.run_sync(lambda: SAM3(Frame(5), text="chair"))
        finally:
            _client.reset()
        assert recon.frame_indices == [2, 5]
        assert float(recon.depth[5][0, 0]) == 6.0
        assert seg.count(5) == 1 and seg.object_ids[5].tolist() == [7]
        assert int(seg.union(5).sum()) == 6


async def test_the_client_uses_tcp_with_the_token(sock: str) -> None:
    async with box_server(sock) as server:
        _client.configure(url=server.url, token=server.token)
        try:
            recon = await anyio.to_thread.run_sync(Reconstruct, Frame(1))
        finally:
            _client.reset()
        assert recon.frame_indices == [1]


async def test_the_client_reconnects_after_a_server_restart(sock: str) -> None:
    _client.configure(socket=sock)
    try:
        for _ in range(2):
            async with serve_perception(CONFIG, socket_path=sock, backend=BoxBackend()):
                recon = await anyio.to_thread.run_sync(Reconstruct, Frame(1))
                assert recon.frame_indices == [1]
    finally:
        _client.reset()


async def test_server_errors_reach_the_cell_as_claw_errors(sock: str) -> None:
    backend = BoxBackend()
    backend.fail = True
    _client.configure(socket=sock)
    try:
        async with serve_perception(CONFIG, socket_path=sock, backend=backend):
            with pytest.raises(PerceptionBatchFailed, match="CUDA out of memory"):
                await anyio.to_thread.run_sync(Reconstruct, Frame(1))
    finally:
        _client.reset()


async def test_a_missing_server_is_unavailable_quickly(sock: str) -> None:
    _client.configure(socket=sock, connect_timeout_s=1.0)
    # Within the configured 1 s (plus a margin for a loaded machine), not the default 10 s.
    with anyio.fail_after(8), pytest.raises(PerceptionUnavailable, match="unavailable"):
        await anyio.to_thread.run_sync(Reconstruct, Frame(1))


async def test_an_unconfigured_client_is_unavailable() -> None:
    _client.configure()
    with pytest.raises(PerceptionUnavailable, match="no perception server is configured"):
        await anyio.to_thread.run_sync(Reconstruct, Frame(1))


# --- backend loading -------------------------------------------------------------------------------


def test_backends_load_by_name() -> None:
    assert "costmodel" in available_backends()
    assert isinstance(load_backend(PerceptionConfig(backend="costmodel")), CostModelBackend)


@pytest.mark.parametrize("name", ["nope", "../etc", "Costmodel"])
def test_an_unknown_backend_names_the_choices(name: str) -> None:
    with pytest.raises(ConfigError, match="costmodel") as info:
        load_backend(PerceptionConfig(backend=name))
    assert info.value.field == "perception.backend"


async def test_the_client_reports_a_wrong_token(sock: str) -> None:
    async with box_server(sock) as server:
        _client.configure(url=server.url, token="wrong")
        try:
            with pytest.raises(PerceptionError, match="bearer token") as info:
                await anyio.to_thread.run_sync(Reconstruct, Frame(1))
        finally:
            _client.reset()
    assert not isinstance(info.value, PerceptionUnavailable)
