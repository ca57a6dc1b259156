"""`claw serve vllm`: start `vllm serve` replicas with the reference's settings and publish an endpoints file.

The CLI calls::

    async def serve_vllm(*, model: str, tp: int = 1, replicas: int = 1, port: int = 8000,
                         endpoints_file: Path = Path("endpoints.json"), **options) -> int

It starts `replicas` processes of `vllm serve MODEL` on loopback ports `port, port+1, ...`, each on its own
`tp` GPUs (`CUDA_VISIBLE_DEVICES`, sliced from the caller's list when set), waits until every replica
answers `GET /v1/models`, writes the endpoints file that `ModelsConfig.endpoints_file` reads, then serves
until SIGINT/SIGTERM or until a replica exits; the file is removed on the way out. `run_vllm` is the same
as an async context manager (for embedding and tests).

Settings follow the reference's backbone configs (`max_num_seqs` 64, fp8 KV cache, prefix caching on,
one served name per model) using vLLM's documented `vllm serve` flags; `load_format="dummy"` gives random
weights for throughput runs. `**options` are the other `VllmSpec` fields the CLI flags set (served name,
context length, reasoning parser, chat template, tool-call parser, images per prompt, which also goes
into the endpoints file) and `extra_args`, any further `vllm serve` flags, appended last.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path

import anyio
import msgspec
import structlog

from claw._process import Supervised, supervised
from claw.config import DEFAULT_IMAGES_PER_PROMPT, EndpointConfig
from claw.errors import ConfigError, ServiceError
from claw.llm._http import HttpClient
from claw.llm.endpoints import EndpointsFile, ServedEndpoint, write_endpoints_file

__all__ = ["VllmSpec", "endpoints_of", "replica_env", "run_vllm", "serve_vllm", "vllm_command"]

_log = structlog.get_logger("claw.llm.vllm")


class VllmSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What to serve and how."""

    model: str
    """Hugging Face name or local path of the weights."""
    served_name: str | None = None
    """The model name requests use (default: `model`)."""
    tp: int = 1
    """Tensor-parallel GPUs per replica."""
    replicas: int = 1
    host: str = "127.0.0.1"
    port: int = 8000
    """First replica's port; replica i listens on `port + i`."""
    max_num_seqs: int = 64
    kv_cache_dtype: str = "fp8"
    max_model_len: int | None = None
    """Context length (the reference serves 256K-262K); None keeps the model's own."""
    gpu_memory_utilization: float = 0.9
    max_images_per_prompt: int = DEFAULT_IMAGES_PER_PROMPT
    """vLLM's `--limit-mm-per-prompt` for images; written to the endpoints file so the client keeps
    every request under it (one value for launcher and runtime: `models.max_images_per_prompt`)."""
    load_format: str | None = None
    """`dummy` for random weights (throughput runs)."""
    reasoning_parser: str | None = None
    """vLLM's reasoning parser for thinking models (`qwen3`, `gemma4`, ...): reasoning comes back in its
    own field instead of the content."""
    chat_template: str | None = None
    """A chat template (file path or inline Jinja) replacing the model's own."""
    tool_call_parser: str | None = None
    """vLLM's tool-call parser (`gemma4`, `hermes`, ...), with automatic tool choice on: what the
    `tool-call` interface needs (vLLM refuses a request with tools otherwise)."""
    extra_args: tuple[str, ...] = ()
    """More `vllm serve` flags, passed through verbatim (e.g. `--enable-auto-tool-choice`)."""
    executable: str = "vllm"
    ready_timeout_s: float = 3600.0
    """Loading a large checkpoint takes a while."""

    def __post_init__(self) -> None:
        for field, value in (
            ("tp", self.tp),
            ("replicas", self.replicas),
            ("max_num_seqs", self.max_num_seqs),
        ):
            if value < 1:
                raise ConfigError(f"vllm {field} must be at least 1, got {value}", field=field)

    @property
    def name(self) -> str:
        """The served model name."""
        return self.served_name or self.model

    def url(self, replica: int) -> str:
        """Replica `replica`'s base URL."""
        return f"http://{self.host}:{self.port + replica}/v1"


def vllm_command(spec: VllmSpec, replica: int) -> list[str]:
    """The `vllm serve` command line of one replica."""
    command = [spec.executable, "serve", spec.model, "--host", spec.host, "--port", str(spec.port + replica)]
    command += ["--served-model-name", spec.name, "--tensor-parallel-size", str(spec.tp)]
    command += ["--max-num-seqs", str(spec.max_num_seqs), "--kv-cache-dtype", spec.kv_cache_dtype]
    command += ["--gpu-memory-utilization", f"{spec.gpu_memory_utilization:g}", "--enable-prefix-caching"]
    command += ["--limit-mm-per-prompt", msgspec.json.encode({"image": spec.max_images_per_prompt}).decode()]
    if spec.max_model_len is not None:
        command += ["--max-model-len", str(spec.max_model_len)]
    if spec.load_format is not None:
        command += ["--load-format", spec.load_format]
    if spec.reasoning_parser is not None:
        command += ["--reasoning-parser", spec.reasoning_parser]
    if spec.chat_template is not None:
        command += ["--chat-template", spec.chat_template]
    if spec.tool_call_parser is not None:
        command += ["--enable-auto-tool-choice", "--tool-call-parser", spec.tool_call_parser]
    return [*command, *spec.extra_args]


def replica_env(spec: VllmSpec, replica: int, base: Mapping[str, str]) -> dict[str, str]:
    """The environment of one replica: its own `tp` GPUs out of the visible ones.

    Raises:
        ConfigError: fewer GPUs are listed in `CUDA_VISIBLE_DEVICES` than `replicas * tp`.
    """
    env = dict(base)
    listed = [d for d in base.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    needed = spec.replicas * spec.tp
    if listed and len(listed) < needed:
        message = f"{spec.replicas} replicas x tp {spec.tp} need {needed} GPUs; "
        message += f"CUDA_VISIBLE_DEVICES lists {len(listed)}"
        raise ConfigError(message, field="CUDA_VISIBLE_DEVICES")
    devices = listed or [str(i) for i in range(needed)]
    env["CUDA_VISIBLE_DEVICES"] = ",".join(devices[replica * spec.tp : (replica + 1) * spec.tp])
    return env


async def _wait_ready(
    child: Supervised, client: HttpClient, endpoint: EndpointConfig, timeout_s: float
) -> None:
    with anyio.move_on_after(timeout_s):
        while child.process.returncode is None:
            if await client.probe(endpoint, timeout_s=5.0):
                return
            await anyio.sleep(0.25)
        raise child.failure(f"exited with status {child.process.returncode} before it was ready")
    raise child.failure(f"was not ready within {timeout_s:g} s")


def _check_executable(spec: VllmSpec) -> None:
    if shutil.which(spec.executable) is None:
        message = (
            f"`{spec.executable}` is not on PATH: install vLLM on a GPU host (pip install vllm), then retry"
        )
        raise ServiceError(message)


@asynccontextmanager
async def run_vllm(
    spec: VllmSpec, *, env: Mapping[str, str] | None = None
) -> AsyncIterator[list[Supervised]]:
    """Start every replica, wait until all are ready, yield them; stop them all on exit.

    Raises:
        ServiceError: vLLM is not installed, or a replica exited or was not ready in time (with its output).
        ConfigError: not enough GPUs listed for `replicas * tp`.
    """
    await anyio.to_thread.run_sync(_check_executable, spec)  # `which` stats every PATH entry
    base = dict(os.environ if env is None else env)
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(HttpClient())
        children = []
        for replica in range(spec.replicas):
            command = vllm_command(spec, replica)
            name = f"vLLM replica {replica} ({spec.url(replica)})"
            child = await stack.enter_async_context(
                supervised(command, name=name, env=replica_env(spec, replica, base))
            )
            children.append(child)
        async with anyio.create_task_group() as group:
            for replica, child in enumerate(children):
                endpoint = EndpointConfig(url=spec.url(replica), model=spec.name)
                group.start_soon(_wait_ready, child, client, endpoint, spec.ready_timeout_s)
        yield children


def endpoints_of(spec: VllmSpec) -> EndpointsFile:
    """The endpoints file describing `spec`'s replicas."""
    served = [
        ServedEndpoint(
            url=spec.url(i),
            model=spec.name,
            max_concurrency=spec.max_num_seqs,
            max_images_per_prompt=spec.max_images_per_prompt,
        )
        for i in range(spec.replicas)
    ]
    return EndpointsFile(endpoints=served)


async def _until_stopped(children: Sequence[Supervised]) -> int:
    status = 0

    async def watch(child: Supervised) -> None:
        nonlocal status
        await child.process.wait()
        _log.error("vllm replica exited", replica=child.name, returncode=child.process.returncode)
        status = 1
        group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        for child in children:
            group.start_soon(watch, child)
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                group.cancel_scope.cancel()
                break
    return status


async def serve_vllm(
    *,
    model: str,
    tp: int = 1,
    replicas: int = 1,
    port: int = 8000,
    endpoints_file: Path = Path("endpoints.json"),
    on_ready: Callable[[EndpointsFile], AbstractAsyncContextManager[None]] | None = None,
    **options: object,
) -> int:
    """Serve `model` with vLLM until SIGINT/SIGTERM; return 0 then, 1 if a replica died.

    Args:
        model: weights to serve (Hugging Face name or local path).
        tp: tensor-parallel GPUs per replica.
        replicas: independent servers (each on its own GPUs and port).
        port: first replica's port.
        endpoints_file: where to write the endpoints once every replica is ready.
        on_ready: entered with the endpoints once every replica is ready, left when they stop (`--ray`
            keeps them in the cluster's registry meanwhile).
        **options: any other `VllmSpec` field (`served_name`, `max_model_len`, `load_format`, ...).

    Raises:
        ServiceError: vLLM is missing, or a replica did not come up.
        ConfigError: a bad option, or too few GPUs.
    """
    try:
        spec = msgspec.convert(
            {"model": model, "tp": tp, "replicas": replicas, "port": port, **options}, VllmSpec
        )
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid vllm option: {exc}") from None
    async with run_vllm(spec) as children:
        await anyio.to_thread.run_sync(write_endpoints_file, endpoints_file, endpoints_of(spec))
        _log.info(
            "vllm ready", endpoints_file=str(endpoints_file), urls=[spec.url(i) for i in range(replicas)]
        )
        try:
            if on_ready is None:
                return await _until_stopped(children)
            async with on_ready(endpoints_of(spec)):
                return await _until_stopped(children)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.Path(endpoints_file).unlink(missing_ok=True)
