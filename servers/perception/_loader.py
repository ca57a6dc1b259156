"""Backend selection by name: `servers/perception/_backends/<name>.py` must end with
`backend_class = ...`, a class constructed as `backend_class(config: PerceptionConfig)`. A config that
names different backends per operation gets them all, routed by operation (`_routing.py`).

An unknown name, or a backend whose optional model packages (torch, transformers, ...) are missing, is a
`ConfigError` that says what to pick or install instead of a bare ImportError.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType

from claw.config import PerceptionConfig
from claw.errors import ConfigError
from claw.wire.perception import PerceptionBackend
from servers.perception._routing import load_routed

__all__ = ["available_backends", "load_backend"]

_PACKAGE = "servers.perception._backends"
_GPU_MODULES = frozenset(
    {"torch", "torchvision", "transformers", "sam3", "depth_anything_3", "timm", "einops"}
)


def available_backends() -> list[str]:
    """Names of the backend modules shipped in `servers/perception/_backends/`."""
    folder = Path(__file__).parent / "_backends"
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))


def load_backend(config: PerceptionConfig) -> PerceptionBackend:
    """Import and construct the backends `config` names for its operations (`config.backend`, overridden
    per operation by `config.operations`), each once; several are routed by operation. May load model
    weights: blocking.

    Raises:
        ConfigError: unknown backend name, a missing optional dependency (names `pip install 'claw[gpu]'`),
            or a backend-specific setting problem (e.g. a missing weights path).
    """
    return load_routed(config, lambda name: _load_one(name, config))


def _load_one(name: str, config: PerceptionConfig) -> PerceptionBackend:
    module = _import_backend(name)
    backend_class = getattr(module, "backend_class", None)
    if backend_class is None:
        raise ConfigError(f"perception backend module {module.__name__} does not define backend_class")
    backend: PerceptionBackend = backend_class(config)
    return backend


def _import_backend(name: str) -> ModuleType:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise _unknown(name)
    try:
        return importlib.import_module(f"{_PACKAGE}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{_PACKAGE}.{name}":
            raise _unknown(name) from None
        if (exc.name or "").split(".")[0] in _GPU_MODULES:
            raise ConfigError(
                f"perception backend {name!r} needs the {exc.name!r} package, which is not installed; "
                "install PyTorch and the GPU extra (`make gpu` in a checkout, or: pip install torch "
                "'claw[gpu]' && pip install --no-deps depth-anything-3)",
                field="perception.backend",
            ) from None
        raise


def _unknown(name: str) -> ConfigError:
    known = ", ".join(available_backends()) or "none"
    return ConfigError(
        f"unknown perception backend {name!r}; choose one of: {known}", field="perception.backend"
    )
