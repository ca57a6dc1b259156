"""Where endpoints come from: the config, the endpoints file `claw serve vllm` writes, and env variables.

`resolve_endpoints` decides, per role, in this order: endpoints listed in `ModelsConfig` for the role;
else entries of the endpoints file that serve the role; else `CLAW_<ROLE>_URL` from the environment (for
hosted APIs: comma-separated URLs, with `CLAW_<ROLE>_MODEL` and `CLAW_<ROLE>_API_KEY_ENV`, the *name* of
the variable holding the key). A role left empty uses the agent's endpoints; an empty agent uses the
default URL (the mock server the runtime started).

The endpoints file is JSON::

    {"format_version": 1, "endpoints": [{"url": "http://127.0.0.1:8000/v1", "model": "Qwen/Qwen3.6-27B",
      "roles": ["agent", "planner", "vlm_ask"]}]}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import get_args

import msgspec

from claw.config import EndpointConfig, ModelsConfig
from claw.errors import ConfigError
from claw.llm.types import Role

__all__ = [
    "ENDPOINTS_FORMAT_VERSION",
    "ROLES",
    "EndpointsFile",
    "ServedEndpoint",
    "endpoints_from_env",
    "read_endpoints_file",
    "resolve_endpoints",
    "write_endpoints_file",
]

ENDPOINTS_FORMAT_VERSION = 1
ROLES: tuple[Role, ...] = get_args(Role)
MOCK_MODEL = "mock"


class ServedEndpoint(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One server in the endpoints file."""

    url: str
    """Base URL up to and including `/v1`."""
    model: str
    """The served model name requests must use."""
    roles: tuple[Role, ...] = ROLES
    """Roles this server answers for."""
    api_key_env: str | None = None
    max_concurrency: int | None = None
    max_images_per_prompt: int | None = None
    """The server's `--limit-mm-per-prompt` for images."""

    def config(self) -> EndpointConfig:
        """This entry as an `EndpointConfig`."""
        return EndpointConfig(
            url=self.url,
            model=self.model,
            api_key_env=self.api_key_env,
            max_concurrency=self.max_concurrency,
            max_images_per_prompt=self.max_images_per_prompt,
        )


class EndpointsFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The endpoints file's top level."""

    endpoints: list[ServedEndpoint]
    format_version: int = ENDPOINTS_FORMAT_VERSION


def read_endpoints_file(path: str | Path) -> EndpointsFile:
    """Read and validate an endpoints file (blocking; call it from a worker thread inside async code).

    Raises:
        ConfigError: the file is missing or does not match the format.
    """
    try:
        return msgspec.json.decode(Path(path).read_bytes(), type=EndpointsFile)
    except FileNotFoundError:
        message = f"endpoints file {path} does not exist; start servers with `claw serve vllm` first"
        raise ConfigError(message, field="models.endpoints_file") from None
    except msgspec.DecodeError as exc:
        raise ConfigError(f"endpoints file {path} is invalid: {exc}", field="models.endpoints_file") from None


def write_endpoints_file(path: str | Path, endpoints: EndpointsFile) -> None:
    """Write `endpoints` atomically (a reader never sees half a file); blocking."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(msgspec.json.format(msgspec.json.encode(endpoints)))
    partial.replace(path)


def endpoints_from_env(env: Mapping[str, str]) -> dict[Role, list[EndpointConfig]]:
    """Endpoints per role from `CLAW_<ROLE>_URL` / `_MODEL` / `_API_KEY_ENV` (roles without a URL omitted).

    Raises:
        ConfigError: a URL is set without its model name.
    """
    found: dict[Role, list[EndpointConfig]] = {}
    for role in ROLES:
        prefix = f"CLAW_{role.upper()}_"
        urls = [u.strip() for u in env.get(prefix + "URL", "").split(",") if u.strip()]
        if not urls:
            continue
        model = env.get(prefix + "MODEL")
        if not model:
            raise ConfigError(
                f"{prefix}URL is set but {prefix}MODEL is not; set the model name", field=prefix
            )
        key_env = env.get(prefix + "API_KEY_ENV") or None
        found[role] = [EndpointConfig(url=u, model=model, api_key_env=key_env) for u in urls]
    return found


def _configured(models: ModelsConfig, role: Role) -> list[EndpointConfig]:
    configured: list[EndpointConfig] = getattr(models, role)
    return configured


def resolve_endpoints(
    models: ModelsConfig,
    *,
    served: EndpointsFile | None = None,
    env: Mapping[str, str] | None = None,
    default_url: str | None = None,
) -> dict[Role, list[EndpointConfig]]:
    """The endpoints of every role (see the module docstring for the order of sources).

    Raises:
        ConfigError: no source gives the agent role an endpoint.
    """
    from_env = endpoints_from_env(os.environ if env is None else env)
    roles: dict[Role, list[EndpointConfig]] = {}
    for role in ROLES:
        from_file = [e.config() for e in served.endpoints if role in e.roles] if served else []
        roles[role] = _configured(models, role) or from_file or from_env.get(role, [])
    if not roles["agent"] and default_url is not None:
        roles["agent"] = [EndpointConfig(url=default_url, model=MOCK_MODEL)]
    if not roles["agent"]:
        message = "no agent model endpoint: set models.agent, models.endpoints_file or CLAW_AGENT_URL"
        raise ConfigError(message, field="models.agent")
    return {role: endpoints or roles["agent"] for role, endpoints in roles.items()}
