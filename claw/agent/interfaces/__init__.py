"""The action interfaces by name. `InterfaceName` lists them (the config field's type and the CLI's
choices come from it); each lives in `claw.agent.interfaces.<name>` (dashes as underscores), a module that
ends by naming its strategy in one attribute, `interface`. A new interface is one module, one name here
and its prompt.

Strategies load on first use, so reading a config imports no prompt or transport code.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from claw.agent.interfaces.base import ActionInterface

__all__ = ["InterfaceName", "get_interface", "interface_names"]

InterfaceName = Literal["code", "single-pass", "tool-call", "cot"]


def interface_names() -> tuple[InterfaceName, ...]:
    """Every registered interface, in a stable order (the CLI's choices)."""
    names: tuple[InterfaceName, ...] = get_args(InterfaceName)
    return names


@cache
def get_interface(name: InterfaceName) -> ActionInterface:
    """The strategy of interface `name`.

    Raises:
        LookupError: `name` is not registered (the config type refuses such names before this).
    """
    if name not in interface_names():
        raise LookupError(f"no action interface {name!r}; use one of {', '.join(interface_names())}")
    module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
    strategy: ActionInterface = module.interface
    return strategy
