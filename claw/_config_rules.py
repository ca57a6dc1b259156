"""The value rules of `claw.config`: which numbers must be counts, which must be finite seconds, which
strings must be URLs, and the "choose one of …, did you mean …?" wording for a name that is not one of
the allowed values; and `check_discovery`, what `[ray] discover` needs. `EvalConfig.__post_init__` runs
both, so a config is checked however it was built (TOML, CLI flags, JSON, or Python).
"""

from __future__ import annotations

import difflib
import math
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from claw.errors import ConfigError

if TYPE_CHECKING:
    from claw.config import EvalConfig

__all__ = ["check_discovery", "check_ranges", "choices_hint", "did_you_mean", "unknown_choice"]

Rule = Literal["count", "count0", "positive", "nonnegative", "unit", "top_k", "url", "name"]

_RULES: dict[str, Rule] = {
    "n": "count",
    "seed": "count0",
    "limits.episodes": "count",
    "limits.llm_per_endpoint": "count",
    "limits.kernels": "count",
    "agent.max_steps": "count",
    "agent.cell_timeout_s": "positive",
    "agent.max_stdout_chars": "count",
    "agent.max_images_per_step": "count0",
    "agent.key_frames": "count",
    "inputs.uniform_frames": "count",
    "inputs.max_side": "count",
    "agent.max_tokens": "count",
    "agent.temperature": "nonnegative",
    "agent.token_budget": "count0",
    "agent.max_kernel_restarts": "count0",
    "agent.episode_timeout_s": "positive",
    "models.request_timeout_s": "positive",
    "models.max_retries": "count0",
    "models.max_images_per_prompt": "count",
    "models.connect_timeout_s": "positive",
    "models.first_byte_timeout_s": "positive",
    "models.attempt_timeout_s": "positive",
    "perception.url": "url",
    "perception.max_batch": "count",
    "perception.max_delay_ms": "nonnegative",
    "perception.connect_timeout_s": "positive",
    "perception.request_timeout_s": "positive",
    "perception.max_restarts": "count0",
    "perception.max_image_pixels": "count",
    "perception.max_reconstruct_pixels": "count",
    "perception.max_segment_pixels": "count",
    "sandbox.memory_mb": "count",
    "sandbox.cpu_seconds": "count",
    "sandbox.max_processes": "count",
    "sandbox.max_file_mb": "count",
    "sandbox.max_open_files": "count",
    "ray.workers": "count0",
    "ray.worker_cpus": "positive",
    "ray.worker_gpus": "nonnegative",
    "ray.start_timeout_s": "positive",
}
_ENDPOINT_RULES: dict[str, Rule] = {
    "url": "url",
    "model": "name",
    "max_concurrency": "count",
    "max_images_per_prompt": "count",
}
_ENDPOINT_LISTS = ("models.agent", "models.planner", "models.vlm_ask")
_REQUEST_RULES: dict[str, Rule] = {
    "max_tokens": "count",
    "temperature": "nonnegative",
    "top_p": "unit",
    "top_k": "top_k",
}
_REQUEST_ROLES = ("models.requests.agent", "models.requests.planner", "models.requests.vlm_ask")


def check_ranges(config: object) -> None:
    """Check every number and URL of an `EvalConfig` against its rule; unset optional values pass.

    Raises:
        ConfigError: the first value that breaks its rule; the message names the field, the value and
            what is allowed.
    """
    for path, rule in _rules(config):
        value = _lookup(config, path)
        if value is not None:
            _check(path, rule, value)


def _rules(config: object) -> Iterator[tuple[str, Rule]]:
    yield from _RULES.items()
    for listed in _ENDPOINT_LISTS:
        for index, _endpoint in enumerate(_lookup(config, listed) or ()):
            for name, rule in _ENDPOINT_RULES.items():
                yield f"{listed}[{index}].{name}", rule
    for role in _REQUEST_ROLES:
        for name, rule in _REQUEST_RULES.items():
            yield f"{role}.{name}", rule


def _lookup(config: object, path: str) -> Any:
    value: Any = config
    for part in path.split("."):
        name, _, index = part.partition("[")
        value = getattr(value, name, None)
        if value is not None and index:
            value = value[int(index.rstrip("]"))]
    return value


_CHECKS: dict[Rule, tuple[Callable[[Any], bool], str]] = {
    "count": (lambda v: isinstance(v, int) and v >= 1, "a whole number of at least 1"),
    "count0": (lambda v: isinstance(v, int) and v >= 0, "a whole number of at least 0"),
    "positive": (lambda v: math.isfinite(v) and v > 0, "a finite number above 0"),
    "nonnegative": (lambda v: math.isfinite(v) and v >= 0, "a finite number of at least 0"),
    "unit": (lambda v: math.isfinite(v) and 0 < v <= 1, "a number above 0 and at most 1"),
    "top_k": (
        lambda v: isinstance(v, int) and v >= -1,
        "a whole number: at least 1, or -1 or 0 for no limit",
    ),
    "url": (
        lambda v: _is_http_url(v),
        "an http:// or https:// URL with a host, e.g. http://127.0.0.1:8000/v1",
    ),
    "name": (lambda v: bool(v.strip()), "a non-empty name"),
}


def _check(path: str, rule: Rule, value: Any) -> None:
    accepts, wanted = _CHECKS[rule]
    if not accepts(value):
        raise ConfigError(f"{path} = {value!r} is not allowed: it must be {wanted}", field=path)


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value
    except ValueError:
        return False


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest choice to a misspelt `value`, or `""` when none is close."""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_choice(what: str, value: str, choices: Sequence[str], *, field: str | None = None) -> ConfigError:
    """The `ConfigError` for a name that is not one of `choices`: lists them and suggests the closest."""
    listed = ", ".join(choices) or "none"
    hint = did_you_mean(value, choices)
    return ConfigError(f"unknown {what} {value!r}{hint}; choose one of: {listed}", field=field)


def choices_hint(root: type, field: str, data: object) -> str:
    """For a failed `Literal` field at dotted `field`: `; choose one of: …` plus a did-you-mean for the
    value found at that path in the raw `data` (empty when the field is not a `Literal`)."""
    choices = _literal_choices(root, field)
    if not choices:
        return ""
    value = _raw_value(data, field)
    hint = did_you_mean(value, choices) if isinstance(value, str) else ""
    return f"; choose one of: {', '.join(choices)}{hint}"


def _literal_choices(root: type, field: str) -> list[str]:
    current: Any = root
    for part in field.split("."):
        hints = typing.get_type_hints(current) if isinstance(current, type) else {}
        current = hints.get(part)
        if current is None:
            return []
    if typing.get_origin(current) is Literal:
        return [str(a) for a in typing.get_args(current)]
    return []


def _raw_value(data: object, field: str) -> object:
    for part in field.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def check_discovery(config: EvalConfig) -> None:
    """`ray.discover` needs a cluster, and replaces what the config would otherwise name."""
    discover = config.ray.discover
    if discover and config.ray.address is None:
        raise ConfigError(
            "ray.discover needs a Ray cluster: add --ray auto|HEAD_IP:PORT (or [ray] address)",
            field="ray.discover",
        )
    models = config.models
    if "models" in discover and (models.agent or models.planner or models.vlm_ask or models.endpoints_file):
        raise ConfigError(
            "ray.discover models replaces [models] endpoints: remove models.agent/planner/vlm_ask/"
            "endpoints_file, or drop models from ray.discover",
            field="ray.discover",
        )
    if "perception" in discover and (config.perception.url or config.perception.socket):
        raise ConfigError(
            "ray.discover perception replaces perception.url/socket: remove them, or drop perception "
            "from ray.discover",
            field="ray.discover",
        )
