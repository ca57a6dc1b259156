"""Typed configuration for a run, decoded and validated by msgspec from TOML or from CLI flags.

There is no global config: `EvalConfig` is built once (by `load_config` or the CLI) and passed down.
Unknown keys and bad values are `ConfigError`s that name the offending field.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

import msgspec

from claw._config_rules import check_discovery, check_ranges, choices_hint
from claw.agent.interfaces import InterfaceName
from claw.errors import ConfigError
from claw.presets import apply_preset
from claw.suite import FrameSampling, ImagePolicy

__all__ = [
    "DEFAULT_IMAGES_PER_PROMPT",
    "PERCEPTION_OPERATIONS",
    "AgentConfig",
    "EndpointConfig",
    "EvalConfig",
    "InputsConfig",
    "Limits",
    "ModelsConfig",
    "PerceptionConfig",
    "RayConfig",
    "RequestSettings",
    "RoleRequests",
    "SandboxConfig",
    "config_from_mapping",
    "load_config",
]


class _Config(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Limits(_Config, frozen=True, kw_only=True):
    """Named concurrency limits, each enforced where its resource is handed out: episodes by the runner,
    chat requests by the endpoint pool, kernels by the kernel pool."""

    episodes: int = 8
    """Episodes in flight."""
    llm_per_endpoint: int = 64
    """Outstanding chat requests per endpoint."""
    kernels: int = 8
    """Kernels alive (pool size)."""


class AgentConfig(_Config, frozen=True, kw_only=True):
    """How one episode runs."""

    interface: InterfaceName = "code"
    max_steps: int = 30
    """Code turns before the forced final-answer turn (planning is not a step)."""
    plan: bool = True
    """Ask the planner for a plan before the first turn (interfaces without a planner, single-pass and cot,
    ignore it)."""
    cell_timeout_s: float = 60.0
    max_stdout_chars: int = 4000
    max_images_per_step: int = 4
    key_frames: int | None = None
    """Evenly spaced frames of each video shown to the model in the first message; None: the suite's
    count for the benchmark (32, MMSI-Video 64, as published). All frames stay in the kernel."""
    max_tokens: int = 4096
    temperature: float = 0.6
    token_budget: int = 0
    """Prompt+completion tokens per episode before a forced answer; 0 = unlimited."""
    on_kernel_death: Literal["restart", "end"] = "restart"
    """When a kernel dies mid-episode: give the episode a fresh kernel (its variables are gone, and the
    model is told so) or end the episode with no answer."""
    max_kernel_restarts: int = 3
    """Fresh kernels one episode may get after deaths; one more death ends it as an infrastructure error."""
    episode_timeout_s: float = 3600.0
    """Wall-clock limit of one episode, waiting for a kernel included; past it the episode ends as an
    infrastructure error with the evidence gathered so far."""


class InputsConfig(_Config, frozen=True, kw_only=True):
    """How a suite turns a benchmark's media into input frames."""

    frames: FrameSampling = "benchmark"
    """"benchmark": video frames as the published system sampled them (every native frame, or 1 fps
    for the general-video benchmarks), extracted once to disk and loaded lazily in the kernel;
    "uniform": `uniform_frames` evenly spaced frames per video (fast smoke runs)."""
    uniform_frames: int = 32
    images: ImagePolicy = "original"
    """"original": images as shipped; "fit": long side at most `max_side`; "crop": the published
    system's centre crop to the nearest of six aspect ratios, then `max_side` on the long side."""
    max_side: int = 768
    """Longest side of a prepared image or extracted video frame, in pixels."""
    media_dir: str | None = None
    """Where extracted frames and prepared images are kept, shared by every run that names it (the
    cache key holds every setting above, so runs with other settings never read them); default: the
    run directory's `media/`. Keep it on the filesystem of the kernels' temporary directory ($TMPDIR)
    so each episode's frames are hard-linked into its kernel from here (elsewhere each frame is first
    copied once per run into the temporary directory)."""


class EndpointConfig(_Config, frozen=True, kw_only=True):
    """One OpenAI-compatible server."""

    url: str
    """Base URL up to and including `/v1`."""
    model: str
    api_key_env: str | None = None
    """Name of the environment variable holding the API key (the key itself is never in config)."""
    max_concurrency: int | None = None
    max_images_per_prompt: int | None = None
    """This server's images-per-request limit, when lower than `models.max_images_per_prompt`."""


DEFAULT_IMAGES_PER_PROMPT = 64
"""Images one chat request may carry: `claw serve vllm` passes it to vLLM (`--limit-mm-per-prompt`) and
the client keeps every request under it (`models.max_images_per_prompt`)."""


class RequestSettings(_Config, frozen=True, kw_only=True, omit_defaults=True):
    """Sampling and chat-template settings sent on every request of one role; unset fields keep what
    the caller asked for (`agent.max_tokens`, `agent.temperature`)."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    chat_template_kwargs: dict[str, Any] = msgspec.field(default_factory=dict)
    """Passed to the server's chat template, e.g. `{enable_thinking = true}` for a thinking model."""
    extra_body: dict[str, Any] = msgspec.field(default_factory=dict)
    """Any other request-body field the server accepts (e.g. `repetition_penalty`), sent verbatim."""


_UNREADABLE_BODY_FIELDS = {
    "stream": "claw reads whole (non-streamed) completions; remove it",
    "stream_options": "claw reads whole (non-streamed) completions; remove it",
    "n": "claw reads one choice per request; remove it",
}
"""Request fields that would make the server answer in a shape claw does not read (every call would fail)."""


class RoleRequests(_Config, frozen=True, kw_only=True):
    """`[models.requests.<role>]`: request settings per model role."""

    agent: RequestSettings = msgspec.field(default_factory=RequestSettings)
    planner: RequestSettings = msgspec.field(default_factory=RequestSettings)
    vlm_ask: RequestSettings = msgspec.field(default_factory=RequestSettings)
    """Every `vlm` sub-call from the kernel: `vlm.ask`, `vlm.locate` and `vlm.reason`."""

    def __post_init__(self) -> None:
        for role in ("agent", "planner", "vlm_ask"):
            settings: RequestSettings = getattr(self, role)
            for key in sorted(set(settings.extra_body) & set(_UNREADABLE_BODY_FIELDS)):
                field = f"models.requests.{role}.extra_body.{key}"
                raise ConfigError(f"{field} is not allowed: {_UNREADABLE_BODY_FIELDS[key]}", field=field)


class ModelsConfig(_Config, frozen=True, kw_only=True):
    """Endpoints per model role. Empty `agent` means: start the mock LLM server with `policy`."""

    agent: list[EndpointConfig] = msgspec.field(default_factory=list)
    planner: list[EndpointConfig] = msgspec.field(default_factory=list)
    vlm_ask: list[EndpointConfig] = msgspec.field(default_factory=list)
    policy: str = "scripted"
    """Mock-server policy when no endpoint is configured: scripted, echo, random."""
    endpoints_file: str | None = None
    """JSON file written by `claw serve vllm` listing endpoints."""
    request_timeout_s: float = 600.0
    """Total time for one model call, every attempt and backoff included."""
    max_retries: int = 4
    """Further attempts after a failed one (connection refused, timeout, 429, 5xx, garbled body)."""
    connect_timeout_s: float = 10.0
    """Per attempt: time to open a connection to the endpoint."""
    first_byte_timeout_s: float = 300.0
    """Per attempt: time from sending the request to the first byte of the answer (a non-streamed
    completion's first byte comes when it is generated, so this bounds generation too)."""
    attempt_timeout_s: float = 300.0
    """Per attempt: time for the whole exchange."""
    requests: RoleRequests = msgspec.field(default_factory=RoleRequests)
    """Per-role request settings (max tokens, temperature, chat-template options)."""
    max_images_per_prompt: int = DEFAULT_IMAGES_PER_PROMPT
    """The server's images-per-request limit; older observation images are left out of a request (in
    blocks, so prompts stay append-only in between) to stay under it."""


PERCEPTION_OPERATIONS = ("reconstruct", "segment")
"""The operations a perception server serves; each may be routed to its own backend."""


class PerceptionConfig(_Config, frozen=True, kw_only=True):
    """Perception: a server claw starts (backends per operation) or an existing one (url / socket).

    A run uses several backends at once: `backend` serves every operation not named in `operations`
    (e.g. `operations = {segment = "sam3", reconstruct = "da3"}`); one server process hosts them all,
    each with its own batcher and model thread.
    """

    backend: str = "synthetic"
    operations: dict[str, str] = msgspec.field(default_factory=dict)
    """Backend per operation (`reconstruct`, `segment`), overriding `backend` for that operation."""
    noise: str = "none"
    url: str | None = None
    """An existing server's `http://HOST:PORT` (needs `token_env`); kernels reach it through a relay."""
    socket: str | None = None
    """An existing server's Unix socket path."""
    token_env: str | None = None
    """Environment variable holding the bearer token of the server at `url`."""
    max_batch: int = 16
    max_delay_ms: float = 5.0
    weights: dict[str, str] = msgspec.field(default_factory=dict)
    """Local weight paths per backend (`sam3`, `da3`); nothing is downloaded."""
    connect_timeout_s: float = 10.0
    """Time a kernel's tool call waits to connect to the perception server."""
    request_timeout_s: float = 45.0
    """Time a kernel's tool call waits for the server's answer once connected (below the cell timeout,
    so a hung server reads as "perception server not answering", not as a timed-out cell)."""
    max_restarts: int = 3
    """Times the perception server claw started is restarted after it dies; one more death stops the run."""
    max_image_pixels: int = 4096 * 4096
    """Pixels one image sent to the perception server may have (a 12 MP photo fits); a larger one is
    refused with a message to resize or crop it, before the server decodes it."""
    max_reconstruct_pixels: int = 2**25
    """Pixels of all images in one `Reconstruct` request (64 frames at 768x576 fit): depth, points and
    confidence come back at input resolution, 20 bytes per pixel, so this bounds the server's memory."""
    max_segment_pixels: int = 2**27
    """Pixels of all images in one `SAM3` request (256 frames at 768x576 fit); masks come back at input
    resolution."""
    truth_dir: str | None = None
    """Folder where the synthetic suite keeps the depth, instance ids and camera of each frame it rendered;
    the synthetic backend reads them instead of rendering the frame again. Unset, the server claw starts
    is given the run's media folder's `ground-truth` (where the suite writes them); kernels never see it."""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.operations) - set(PERCEPTION_OPERATIONS))
        if unknown:
            raise ConfigError(
                f"perception.operations has unknown operation {unknown[0]!r}; "
                f"use {' or '.join(PERCEPTION_OPERATIONS)}",
                field=f"perception.operations.{unknown[0]}",
            )

    def backend_for(self, operation: str) -> str:
        """The backend name serving `operation`."""
        return self.operations.get(operation, self.backend)


class SandboxConfig(_Config, frozen=True, kw_only=True):
    """Kernel pool and confinement."""

    confinement: Literal["auto", "bwrap", "none"] = "auto"
    unsafe_no_confinement: bool = False
    """Run model code unconfined when the OS cannot confine it (prints a warning)."""
    memory_mb: int = 4096
    cpu_seconds: int = 600
    max_processes: int = 64
    max_file_mb: int = 64
    max_open_files: int = 256


class RayConfig(_Config, frozen=True, kw_only=True):
    """`[ray]`: run the episodes on a Ray cluster (`claw.distributed`); unset `address`: this process."""

    address: str | None = None
    """`auto` (the cluster `ray start` made on this machine), `HOST:PORT` of its head, or `local` (a
    private single-machine cluster); None runs without Ray."""
    workers: int = 0
    """Worker actors, each a whole claw runner with the `[limits]` above; 0: one per alive node with at
    least `worker_cpus` CPUs."""
    worker_cpus: float = 1.0
    """CPUs Ray reserves for each worker actor (placement only; its kernels are limited by `[sandbox]`)."""
    worker_gpus: float = 0.0
    """GPUs Ray gives each worker (it sets CUDA_VISIBLE_DEVICES): the perception server the worker starts
    runs on them."""
    start_timeout_s: float = 600.0
    """Time for the workers to be placed and open their services; the run goes on with those that did."""
    discover: list[Literal["models", "perception"]] = msgspec.field(default_factory=list)
    """Servers found in the cluster's registry instead of the config: `models` (every registered model
    server, in place of `[models]` endpoints), `perception` (registered perception servers, one per
    worker round robin, in place of the one each worker starts). See `claw.distributed.discovery`."""

    def __post_init__(self) -> None:
        if (
            self.workers < 0
            or not self.worker_cpus > 0
            or self.worker_gpus < 0
            or not self.start_timeout_s > 0
        ):
            raise ConfigError(
                "ray.workers must be >= 0, ray.worker_cpus and ray.start_timeout_s > 0, ray.worker_gpus "
                f">= 0; got {self.workers}, {self.worker_cpus}, {self.start_timeout_s}, {self.worker_gpus}",
                field="ray",
            )


class EvalConfig(_Config, frozen=True, kw_only=True):
    """A whole evaluation run."""

    preset: str | None = None
    """A config shipped with claw (`paper`: every published default) applied under this one: the
    preset first, then this config's own values, then command-line flags."""
    suite: str = "synthetic"
    n: int | None = 30
    """Samples to run (None: all)."""
    samples: list[str] = msgspec.field(default_factory=list)
    """Only the samples with these ids, among the first `n` (empty: all of them)."""
    seed: int = 0
    data_dir: str | None = None
    run_dir: str | None = None
    """Defaults to `runs/<run_id>`."""
    run_id: str | None = None
    retry_errors: bool = True
    """On resume, run again the episodes whose result is `error` (an infrastructure failure)."""
    limits: Limits = msgspec.field(default_factory=Limits)
    inputs: InputsConfig = msgspec.field(default_factory=InputsConfig)
    agent: AgentConfig = msgspec.field(default_factory=AgentConfig)
    models: ModelsConfig = msgspec.field(default_factory=ModelsConfig)
    perception: PerceptionConfig = msgspec.field(default_factory=PerceptionConfig)
    sandbox: SandboxConfig = msgspec.field(default_factory=SandboxConfig)
    ray: RayConfig = msgspec.field(default_factory=RayConfig)

    def __post_init__(self) -> None:
        check_ranges(self)
        check_discovery(self)


def config_from_mapping(data: dict[str, Any]) -> EvalConfig:
    """Validate a plain mapping (from TOML or JSON) into an `EvalConfig`, on top of the preset it names.

    Raises:
        ConfigError: unknown key or bad value; the message names the field.
    """
    try:
        return msgspec.convert(apply_preset(data), EvalConfig)
    except msgspec.ValidationError as exc:
        field = _field_of(str(exc))
        hint = choices_hint(EvalConfig, field, data) if field else ""
        raise ConfigError(f"invalid config: {exc}{hint}", field=field) from None


def _field_of(message: str) -> str | None:
    marker = "`$."
    if marker not in message:
        return None
    return message.split(marker, 1)[1].split("`", 1)[0]


def load_config(path: str | Path, *, preset: str | None = None) -> EvalConfig:
    """Read a TOML config file; `preset` (when given) replaces the preset the file names.

    Raises:
        ConfigError: the file is missing, not TOML, or does not validate.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    if preset is not None:
        data["preset"] = preset
    return config_from_mapping(data)
