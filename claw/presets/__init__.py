"""Named config presets shipped with claw (`claw/presets/<name>.toml`): a preset is a partial config
that is applied first, so a config file and then command-line flags override any of its values.

`paper` sets every published default of the SpatialClaw evaluation in one place; `--preset paper` (or
`preset = "paper"` in a config file) selects it.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

from claw.errors import ConfigError

__all__ = ["apply_preset", "preset_mapping", "preset_names"]


def preset_names() -> list[str]:
    """Names of the shipped presets, sorted."""
    folder = resources.files(__name__)
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def preset_mapping(name: str) -> dict[str, Any]:
    """The preset `name` as a plain mapping.

    Raises:
        ConfigError: there is no preset of that name.
    """
    if name not in preset_names():
        known = ", ".join(preset_names())
        raise ConfigError(f"unknown preset {name!r}; shipped presets: {known}", field="preset")
    text = resources.files(__name__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply_preset(data: dict[str, Any]) -> dict[str, Any]:
    """`data` on top of the preset it names (`data["preset"]`); unchanged when it names none. Tables
    merge key by key; any other value in `data` replaces the preset's.

    Raises:
        ConfigError: the named preset does not exist.
    """
    name = data.get("preset")
    if not name:
        return data
    return _merged(preset_mapping(str(name)), data)
