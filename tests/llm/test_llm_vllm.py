"""The vLLM launcher against a stand-in `vllm` executable on PATH (vLLM cannot be installed here)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path

import anyio
import anyio.abc
import pytest

from claw.config import ModelsConfig
from claw.errors import ConfigError, ServiceError
from claw.llm import EndpointsFile, open_llm, read_endpoints_file
from claw.llm.vllm import VllmSpec, endpoints_of, replica_env, run_vllm, vllm_command
from tests.llm.llm_helpers import ask

REPO = Path(__file__).resolve().parents[2]


def _free_ports(n: int) -> int:
    """A port p such that p..p+n-1 were free a moment ago."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + n > 65535:
            continue
        try:
            sockets = [socket.create_server(("127.0.0.1", base + i)) for i in range(n)]
        except OSError:
            continue
        for sock in sockets:
            sock.close()
        return base
    raise RuntimeError("no free port range")


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put a `vllm` stand-in first on PATH; return the file it logs its command lines to."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "vllm"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nfrom servers.mockllm.vllm_standin import main\nsys.exit(main())\n"
    )
    script.chmod(0o755)
    log = tmp_path / "argv.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("CLAW_VLLM_STANDIN_LOG", str(log))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return log


def test_command_uses_reference_settings() -> None:
    spec = VllmSpec(model="Qwen/Qwen3.6-27B-FP8", tp=2, port=9000, max_model_len=262144, load_format="dummy")
    command = vllm_command(spec, replica=1)
    assert command[:3] == ["vllm", "serve", "Qwen/Qwen3.6-27B-FP8"]

    def value(flag: str) -> str:
        return command[command.index(flag) + 1]

    assert value("--port") == "9001" and value("--host") == "127.0.0.1"
    assert value("--tensor-parallel-size") == "2" and value("--max-num-seqs") == "64"
    assert value("--kv-cache-dtype") == "fp8" and value("--max-model-len") == "262144"
    assert json.loads(value("--limit-mm-per-prompt")) == {"image": 64}
    assert "--enable-prefix-caching" in command and command[-2:] == ["--load-format", "dummy"]


@pytest.mark.parametrize(
    ("visible", "replica", "expected"),
    [(None, 0, "0,1"), (None, 1, "2,3"), ("4,5,6,7", 1, "6,7")],
)
def test_replicas_get_their_own_gpus(visible: str | None, replica: int, expected: str) -> None:
    base = {} if visible is None else {"CUDA_VISIBLE_DEVICES": visible}
    env = replica_env(VllmSpec(model="m", tp=2, replicas=2), replica, base)
    assert env["CUDA_VISIBLE_DEVICES"] == expected


def test_too_few_gpus_and_bad_sizes_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="need 4 GPUs"):
        replica_env(VllmSpec(model="m", tp=2, replicas=2), 0, {"CUDA_VISIBLE_DEVICES": "0,1"})
    with pytest.raises(ConfigError, match="tp"):
        VllmSpec(model="m", tp=0)


async def test_missing_vllm_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServiceError, match="install vLLM"):
        async with run_vllm(VllmSpec(model="m")):
            pass


async def test_replicas_come_up_and_serve_through_the_pool(standin: Path) -> None:
    spec = VllmSpec(
        model="org/model", served_name="served", replicas=2, port=_free_ports(2), ready_timeout_s=600
    )
    async with run_vllm(spec) as children:
        assert len(children) == 2
        models = ModelsConfig(agent=[e.config() for e in endpoints_of(spec).endpoints])
        async with open_llm(models, per_endpoint_limit=2, env={}) as llm:
            replies = [await llm.complete(ask("hi", session=f"s{i}")) for i in range(2)]
    assert [r.content for r in replies] == ["hi", "hi"]
    assert {r.endpoint for r in replies} == {spec.url(0), spec.url(1)}
    lines = [json.loads(line) for line in (await anyio.Path(standin).read_text()).splitlines()]
    assert sorted(line["cuda_visible_devices"] for line in lines) == ["0", "1"]
    assert all(line["argv"][:2] == ["serve", "org/model"] for line in lines)
    assert all(child.process.returncode is not None for child in children)


async def test_a_replica_that_exits_is_reported(standin: Path) -> None:
    spec = VllmSpec(model="m", port=_free_ports(1), extra_args=("--no-such-vllm-flag",), ready_timeout_s=600)
    with pytest.raises(ServiceError, match="exited with status 2"):
        async with run_vllm(spec):
            pass


SERVE = """
import sys
from pathlib import Path
import anyio
from claw.llm.vllm import serve_vllm
port, path = int(sys.argv[1]), Path(sys.argv[2])
sys.exit(anyio.run(lambda: serve_vllm(model="m", port=port, endpoints_file=path, ready_timeout_s=600)))
"""


async def _endpoints_when_written(path: Path, process: anyio.abc.Process) -> EndpointsFile:
    """The endpoints file `process` writes once its replicas answer (it must not exit first)."""
    with anyio.fail_after(600):
        while not await anyio.Path(path).exists():
            assert process.returncode is None
            await anyio.sleep(0.05)
    return await anyio.to_thread.run_sync(read_endpoints_file, path)


async def test_serve_vllm_writes_the_file_and_stops_cleanly_on_sigterm(standin: Path, tmp_path: Path) -> None:
    path = tmp_path / "endpoints.json"
    port = _free_ports(1)
    async with await anyio.open_process([sys.executable, "-c", SERVE, str(port), str(path)]) as process:
        served = await _endpoints_when_written(path, process)
        async with open_llm(ModelsConfig(endpoints_file=str(path)), per_endpoint_limit=2, env={}) as llm:
            reply = await llm.complete(ask("through the file"))
        process.send_signal(signal.SIGTERM)
        with anyio.fail_after(120):
            status = await process.wait()
    assert reply.content == "through the file"
    assert [e.url for e in served.endpoints] == [f"http://127.0.0.1:{port}/v1"]
    assert status == 0 and not await anyio.Path(path).exists()
    with pytest.raises(OSError):  # the replica is gone too: its port is free again
        await anyio.connect_tcp("127.0.0.1", port)


def test_thinking_model_options_and_passthrough_reach_the_command() -> None:
    spec = VllmSpec(
        model="google/gemma-4-31b-it",
        served_name="gemma",
        max_model_len=131072,
        reasoning_parser="gemma4",
        chat_template="/t/chat.jinja",
        tool_call_parser="gemma4",
        max_images_per_prompt=32,
        extra_args=("--enable-auto-tool-choice",),
    )
    command = vllm_command(spec, replica=0)

    def value(flag: str) -> str:
        return command[command.index(flag) + 1]

    assert value("--reasoning-parser") == "gemma4" and value("--chat-template") == "/t/chat.jinja"
    assert value("--tool-call-parser") == "gemma4" and "--enable-auto-tool-choice" in command
    assert value("--served-model-name") == "gemma" and value("--max-model-len") == "131072"
    assert json.loads(value("--limit-mm-per-prompt")) == {"image": 32}
    assert command[-1] == "--enable-auto-tool-choice"
    assert [e.max_images_per_prompt for e in endpoints_of(spec).endpoints] == [32]


async def test_claw_serve_vllm_takes_the_options_and_shares_the_image_limit(
    standin: Path, tmp_path: Path
) -> None:
    """`claw serve vllm` as a user runs it: the image limit comes from the run's config, any other vLLM
    flag passes through after `--`, and a client reading the endpoints file gets reasoning apart."""
    path, config = tmp_path / "endpoints.json", tmp_path / "run.toml"
    await anyio.Path(config).write_text("[models]\nmax_images_per_prompt = 24\n")
    port = _free_ports(1)
    args = ["serve", "vllm", "--model", "m", "--port", str(port), "--endpoints-file", str(path)]
    args += ["--config", str(config), "--reasoning-parser", "qwen3", "--max-model-len", "4096"]
    args += ["--", "--enable-auto-tool-choice"]
    async with await anyio.open_process([sys.executable, "-m", "claw.cli", *args]) as process:
        served = await _endpoints_when_written(path, process)
        async with open_llm(ModelsConfig(endpoints_file=str(path)), per_endpoint_limit=2, env={}) as llm:
            reply = await llm.complete(ask("think first"))
        process.send_signal(signal.SIGTERM)
        with anyio.fail_after(120):
            assert await process.wait() == 0
    argv = json.loads((await anyio.Path(standin).read_text()).splitlines()[0])["argv"]
    assert argv[argv.index("--reasoning-parser") + 1] == "qwen3"
    assert json.loads(argv[argv.index("--limit-mm-per-prompt") + 1]) == {"image": 24}
    assert argv[-1] == "--enable-auto-tool-choice"
    assert served.endpoints[0].max_images_per_prompt == 24
    assert reply.content == "think first" and "ReturnAnswer" in reply.reasoning


def test_the_image_limit_is_the_one_the_run_uses(tmp_path: Path) -> None:
    from claw.cli import build_parser, images_per_prompt
    from claw.config import DEFAULT_IMAGES_PER_PROMPT
    from claw.presets import preset_mapping

    def limit(*args: str) -> int:
        return images_per_prompt(build_parser().parse_args(["serve", "vllm", "--model", "m", *args]))

    config = tmp_path / "run.toml"
    config.write_text("[models]\nmax_images_per_prompt = 24\n")
    paper = preset_mapping("paper")["models"]["max_images_per_prompt"]
    assert limit() == DEFAULT_IMAGES_PER_PROMPT
    assert limit("--preset", "paper") == paper
    assert limit("--config", str(config)) == 24
    assert limit("--config", str(config), "--limit-images", "8") == 8
