"""Preflight: misspelt names, dead or wrong model endpoints and an unreachable perception server stop a
run before its first episode, each with one line saying what is wrong."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import pytest

from claw.config import EndpointConfig, EvalConfig, ModelsConfig, PerceptionConfig
from claw.errors import ConfigError, ServiceError
from claw.runtime.preflight import check_names, probe_models, probe_perception
from claw.runtime.runner import run_eval
from servers.mockllm.server import MockOptions
from tests._claw_cli import run_claw
from tests.llm.llm_helpers import serving

ROOT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _config(*endpoints: EndpointConfig, **models: object) -> EvalConfig:
    return EvalConfig(models=ModelsConfig(agent=list(endpoints), **models))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("config", "field", "suggestion"),
    [
        (EvalConfig(models=ModelsConfig(policy="scriptd")), "models.policy", "'scripted'"),
        (EvalConfig(perception=PerceptionConfig(backend="sam")), "perception.backend", "'sam3'"),
        (EvalConfig(perception=PerceptionConfig(noise="realistc")), "perception.noise", "'realistic'"),
    ],
)
def test_a_misspelt_name_suggests_the_closest(config: EvalConfig, field: str, suggestion: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_names(config)
    assert caught.value.field == field
    assert f"did you mean {suggestion}?" in str(caught.value)
    assert "choose one of:" in str(caught.value)


def test_an_unknown_policy_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown mock policy 'smart'; choose one of: .*scripted"):
        check_names(EvalConfig(models=ModelsConfig(policy="smart")))


def test_the_defaults_pass() -> None:
    check_names(EvalConfig())


async def test_the_mock_server_default_is_not_probed() -> None:
    await probe_models(EvalConfig())


async def test_an_unreachable_endpoint_is_named() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    with pytest.raises(ServiceError, match=rf"model endpoint {url} \(role agent\) is not reachable"):
        await probe_models(_config(EndpointConfig(url=url, model="m")))


async def test_a_wrong_model_name_is_named_with_the_served_ones() -> None:
    async with serving(MockOptions(models=("qwen-27b", "gemma-31b"))) as [url]:
        await probe_models(_config(EndpointConfig(url=url, model="qwen-27b")))
        with pytest.raises(ServiceError) as caught:
            await probe_models(_config(EndpointConfig(url=url, model="qwen-72b")))
    message = str(caught.value)
    assert "does not serve model 'qwen-72b'" in message
    assert "did you mean 'qwen-27b'?" in message
    assert "it serves: qwen-27b, gemma-31b" in message


@asynccontextmanager
async def _silent_server() -> AsyncIterator[int]:
    """A loopback server that accepts connections and never answers."""

    async def hold(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await anyio.sleep_forever()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, hold)
        yield listener.extra(anyio.abc.SocketAttribute.local_port)
        tg.cancel_scope.cancel()


async def test_an_endpoint_that_never_answers_is_bounded() -> None:
    async with _silent_server() as port:
        url = f"http://127.0.0.1:{port}/v1"
        with pytest.raises(ServiceError, match=r"did not answer GET /models within 0\.5 s"):
            await probe_models(_config(EndpointConfig(url=url, model="m")), timeout_s=0.5)


async def test_an_absent_perception_socket_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "none.sock"
    with pytest.raises(ServiceError, match=rf"perception server unix:{missing} is not reachable"):
        await probe_perception(PerceptionConfig(socket=str(missing)))


async def test_a_healthy_perception_socket_passes_and_an_unhealthy_one_is_named(tmp_path: Path) -> None:
    path = tmp_path / "p.sock"
    status = b"200 OK"

    async def answer(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await stream.receive()
            await stream.send(b"HTTP/1.0 " + status + b"\r\n\r\n")

    listener = await anyio.create_unix_listener(path)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, answer)
        await probe_perception(PerceptionConfig(socket=str(path)))
        status = b"503 Service Unavailable"
        with pytest.raises(ServiceError, match="answered GET /health with status 503"):
            await probe_perception(PerceptionConfig(socket=str(path)))
        tg.cancel_scope.cancel()


async def test_run_eval_stops_before_writing_anything(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    config = _config(EndpointConfig(url=url, model="m"))
    config = EvalConfig(run_dir=str(tmp_path / "run"), models=config.models)
    with pytest.raises(ServiceError, match="is not reachable"):
        await run_eval(config)
    assert not await anyio.to_thread.run_sync((tmp_path / "run").exists)


def test_the_cli_says_one_line_and_exits_non_zero(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    port = _closed_port()
    config.write_text(f'[[models.agent]]\nurl = "http://127.0.0.1:{port}/v1"\nmodel = "m"\n')
    started = time.monotonic()
    done = _run_cli("eval", "--config", str(config), "--run-dir", str(tmp_path / "run"))
    elapsed = time.monotonic() - started
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert lines[-1].startswith("claw: error: model endpoint"), lines
    assert not any(line.startswith("Traceback") for line in lines)
    print(f"fail-fast took {elapsed:.1f} s")  # shown with -s; the target is 10 s


def test_the_cli_rejects_a_misspelt_policy_with_a_suggestion(tmp_path: Path) -> None:
    done = _run_cli("eval", "--policy", "scriptd", "--run-dir", str(tmp_path / "run"))
    assert done.returncode == 2
    assert "did you mean 'scripted'?" in done.stderr


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_claw(*args, timeout=300, cwd=ROOT)
