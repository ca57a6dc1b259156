"""Perception as a set of operations: several backends in one server, routed by operation; the server
command line claw builds (weights and routes reach the process); an external TCP server reached through
the token-adding Unix-socket relay."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import aiohttp
import anyio
import msgspec
import numpy as np
import pytest

from claw.config import EvalConfig, PerceptionConfig, config_from_mapping
from claw.errors import ConfigError, ServiceError
from claw.runtime.perception_service import open_perception, relay_tcp_perception, server_command
from claw.wire.perception import (
    ErrorResponse,
    NDArray,
    ReconstructRequest,
    ReconstructResponse,
    SegmentRequest,
    decode,
    encode,
)
from servers.perception._backends.costmodel import CostModelBackend
from servers.perception._loader import load_backend
from servers.perception._routing import RoutedBackend, load_routed
from servers.perception.server import HealthResponse, serve_perception


def _image() -> NDArray:
    return NDArray.from_numpy(np.zeros((6, 8, 3), np.uint8))


def test_each_distinct_backend_is_loaded_once_and_routed_by_operation() -> None:
    loads: list[str] = []

    def load_one(name: str) -> CostModelBackend:
        loads.append(name)
        backend = CostModelBackend(PerceptionConfig())
        backend.name = name
        return backend

    routed = load_routed(PerceptionConfig(backend="a", operations={"segment": "b"}), load_one)
    assert isinstance(routed, RoutedBackend) and loads == ["a", "b"]
    assert (routed.reconstructor.name, routed.segmenter.name) == ("a", "b")
    assert routed.name == "reconstruct=a,segment=b"
    loads.clear()
    single = load_routed(PerceptionConfig(backend="a", operations={"segment": "a"}), load_one)
    assert not isinstance(single, RoutedBackend) and loads == ["a"]


def test_an_unknown_operation_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="unknown operation 'depth'") as info:
        config_from_mapping({"perception": {"operations": {"depth": "da3"}}})
    assert info.value.field == "perception.operations.depth"


def test_the_server_command_carries_routes_and_every_weights_path(tmp_path: Path) -> None:
    config = PerceptionConfig(
        backend="synthetic",
        operations={"segment": "sam3", "reconstruct": "da3"},
        weights={"sam3": "/w/sam3", "da3": "/w/da 3"},
    )
    command = server_command(config, tmp_path / "p.sock")
    pairs = {(a, b) for a, b in itertools.pairwise(command)}
    assert ("--operation", "reconstruct=da3") in pairs and ("--operation", "segment=sam3") in pairs
    assert ("--weights", "sam3=/w/sam3") in pairs and ("--weights", "da3=/w/da 3") in pairs


async def _post(session: aiohttp.ClientSession, path: str, message: msgspec.Struct) -> tuple[int, bytes]:
    async with session.post(f"http://perception{path}", data=encode(message)) as response:
        return response.status, await response.read()


async def test_one_server_process_serves_each_operation_with_its_own_backend(tmp_path: Path) -> None:
    """costmodel reconstructs (unit depth), synthetic segments (it insists on a scene key)."""
    sock = str(tmp_path / "p.sock")
    config = PerceptionConfig(backend="costmodel", operations={"segment": "synthetic"})
    command = server_command(config, Path(sock))
    async with await anyio.open_process(command) as proc:
        assert proc.stdout is not None
        with anyio.fail_after(120):  # a hang guard: a slow machine starts Python slowly
            ready = (await proc.stdout.receive()).decode()
        assert ready.startswith("READY unix=")
        connector = aiohttp.UnixConnector(path=sock)
        async with aiohttp.ClientSession(connector=connector) as session:
            async with session.get("http://perception/health") as response:
                health = msgspec.json.decode(await response.read(), type=HealthResponse)
            assert health.backend == "reconstruct=costmodel,segment=synthetic"
            status, body = await _post(
                session, "/v1/reconstruct", ReconstructRequest(images=[_image()], frame_indices=[0])
            )
            assert status == 200
            assert (decode(body, ReconstructResponse).depth.to_numpy() == 1.0).all()
            status, body = await _post(
                session, "/v1/segment", SegmentRequest(images=[_image()], frame_indices=[0], text="chair")
            )
            assert (
                status == 500
                and "synthetic backend needs the sample's scene" in decode(body, ErrorResponse).message
            )
        proc.terminate()
        with anyio.fail_after(30):
            await proc.wait()


async def test_an_external_tcp_server_is_reached_through_a_token_adding_unix_relay(tmp_path: Path) -> None:
    config = PerceptionConfig(backend="costmodel")
    backend = CostModelBackend(config, fixed_ms=0, per_item_ms=0)
    async with serve_perception(
        config, socket_path=str(tmp_path / "s.sock"), tcp_port=0, backend=backend
    ) as server:
        assert server.url is not None and server.token is not None
        relay_sock = tmp_path / "relay.sock"
        async with relay_tcp_perception(server.url, server.token, relay_sock):
            connector = aiohttp.UnixConnector(path=str(relay_sock))
            async with aiohttp.ClientSession(connector=connector) as session:
                request = ReconstructRequest(images=[_image()], frame_indices=[3])
                status, body = await _post(session, "/v1/reconstruct", request)
        assert status == 200 and decode(body, ReconstructResponse).depth.to_numpy().shape == (1, 6, 8)
        assert backend.batch_sizes == [1]
        with pytest.raises(ConfigError, match="refused the token"):
            async with relay_tcp_perception(server.url, "wrong", tmp_path / "r2.sock"):
                pass


async def test_a_url_without_a_token_and_an_unreachable_url_are_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = EvalConfig(perception=PerceptionConfig(url="http://127.0.0.1:9"))
    with pytest.raises(ConfigError, match=r"perception\.token_env"):
        async with open_perception(config.perception, tmp_path / "p.sock", tmp_path / "log"):
            pass
    monkeypatch.setenv("CLAW_TEST_PERCEPTION_TOKEN", "t")
    reachable = PerceptionConfig(url="http://127.0.0.1:9", token_env="CLAW_TEST_PERCEPTION_TOKEN")
    with pytest.raises(ServiceError, match="unreachable"):
        async with open_perception(reachable, tmp_path / "p.sock", tmp_path / "log"):
            pass


def test_load_backend_routes_named_backends() -> None:
    routed = load_backend(PerceptionConfig(backend="costmodel", operations={"segment": "synthetic"}))
    assert isinstance(routed, RoutedBackend)
    assert routed.name == "reconstruct=costmodel,segment=synthetic"


def test_a_model_backend_without_torch_names_every_install_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """The GPU extra does not list torch (GPU hosts bring their own build), so the message names it."""
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails as if it were absent
    for name in [m for m in sys.modules if m.startswith("servers.perception._backends.da3")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ConfigError, match="needs the 'torch' package") as caught:
        load_backend(PerceptionConfig(backend="da3"))
    assert "pip install torch 'claw[gpu]'" in str(caught.value) and "make gpu" in str(caught.value)
