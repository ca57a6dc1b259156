"""Which modules a cell may reach, for the AST policy: the allow-list of importable modules, the denied
submodules inside allowed packages, the names every kernel has pre-bound to a module, and the resolution
of a module's attribute to the module it is (`plt.importlib` is the module `importlib`), so that an
allowed module cannot be used as a path to one that is not.

Resolution imports only allow-listed modules, in the process that checks cells, and never on a running
event loop: the kernel pool imports the pre-bound ones in a worker thread when it opens (`warm_up`).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import sys
import types

__all__ = [
    "ALLOWED_MODULES",
    "ALLOWED_TEXT",
    "PREBOUND_MODULES",
    "attribute_module",
    "module_allowed",
    "warm_up",
]

ALLOWED_MODULES = frozenset(
    {
        "abc", "array", "base64", "bisect", "calendar", "cmath", "collections", "colorsys", "copy",
        "dataclasses", "datetime", "decimal", "difflib", "enum", "fractions", "functools", "hashlib",
        "heapq", "itertools", "json", "math", "numbers", "numpy", "operator", "pprint", "random", "re",
        "scipy", "statistics", "string", "struct", "textwrap", "time", "typing", "warnings", "zlib",
        "claw.tools", "matplotlib", "PIL", "mpl_toolkits",
    }
)  # fmt: skip
"""Top-level modules (or exact dotted modules) a cell may import; each includes its submodules unless
`DENIED_SUBMODULES` names them."""

DENIED_SUBMODULES = frozenset(
    {
        "scipy.io", "scipy.datasets", "scipy.misc", "numpy.ctypeslib", "numpy.f2py", "numpy.distutils",
        "numpy.testing", "matplotlib.backends", "matplotlib.testing", "matplotlib.animation",
        "matplotlib.cbook", "PIL.ImageShow", "PIL.ImageGrab", "PIL.EpsImagePlugin", "PIL.ImageTk",
        "PIL.ImageQt",
    }
)  # fmt: skip
"""Submodules of allowed packages that write files, start processes or load native code."""

PREBOUND_MODULES = {
    "np": "numpy",
    "math": "math",
    "scipy": "scipy",
    "plt": "matplotlib.pyplot",
    "tools": "claw.tools",
}
"""Names every kernel binds to a module before the first cell (claw.tools._runtime)."""

ALLOWED_TEXT = (
    "math, numpy, scipy (not scipy.io), matplotlib (plotting; show() the figure), PIL, collections, "
    "itertools, functools, statistics, re, json, random…"
)


def module_allowed(name: str) -> bool:
    """Whether a cell may import (or reach) the module called `name`."""
    if any(name == denied or name.startswith(denied + ".") for denied in DENIED_SUBMODULES):
        return False
    return any(name == allowed or name.startswith(allowed + ".") for allowed in ALLOWED_MODULES)


def _module(name: str) -> types.ModuleType | None:
    """The allowed module `name`, imported here if need be, but never on a running event loop (an
    import blocks): there only modules already imported resolve, and `warm_up` imports the usual ones."""
    if not module_allowed(name):
        return None
    loaded = sys.modules.get(name)
    if loaded is not None or _on_event_loop():
        return loaded
    try:
        return importlib.import_module(name)
    except Exception:  # noqa: BLE001 - a module that does not import here is simply not resolved
        return None


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def warm_up() -> None:
    """Import the modules kernels pre-bind, so cells checked on an event loop resolve chains through them
    (run it in a worker thread)."""
    for name in PREBOUND_MODULES.values():
        _module(name)


def attribute_module(module: str, attribute: str) -> str | None:
    """The name of the module that `module.attribute` is, or None when it is not a module (or unknown).

    `attribute_module("matplotlib.pyplot", "importlib")` is "importlib"; for a submodule not yet imported
    (`scipy.ndimage` before anything imported it) the dotted name itself.
    """
    parent = _module(module)
    if parent is None:
        return None
    value = getattr(parent, attribute, None)
    if isinstance(value, types.ModuleType):
        return value.__name__
    dotted = f"{module}.{attribute}"
    if value is None and not _on_event_loop() and _is_submodule(dotted):
        return dotted
    return None


def _is_submodule(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except (ImportError, ValueError):
        return False
