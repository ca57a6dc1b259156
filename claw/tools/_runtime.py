"""The in-kernel bootstrap: the fixed code that turns a fresh kernel into an episode's kernel.

`preload()` runs once in the template process (before any fork) and imports the heavy modules;
`prepare()` runs once per kernel before it is lent (resolves the optional VLM bridge and perception client,
registers the per-cell report hooks of `claw.tools._report`); `install()` runs as the first cell of every
episode. It reads the episode's `KernelSetup` as msgpack from the kernel's private directory
(`$CLAW_KERNEL_DIR/setup.msgpack`; never pickle, never generated source) and binds the kernel API:
`InputImages` and `Metadata` (`_inputs`), `tools` and the tool classes, `show` (`_show`), `vlm`,
`ReturnAnswer` (`_answer`), `np`, `math`, `scipy`, `plt`. Its state lives in `claw.tools._state.STATE`.
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

import msgspec
import numpy as np

from claw.tools._answer import ReturnAnswer
from claw.tools._inputs import MetadataInfo, frame_names, metadata_of
from claw.tools._report import post_run_cell, pre_run_cell, shell
from claw.tools._show import show
from claw.tools._state import STATE
from claw.wire.kernel import KernelSetup

__all__ = ["install", "preload", "prepare"]

_TOOL_NAMES = ("Reconstruct", "SAM3", "Geometry", "Mask", "Draw", "Time")


def preload() -> None:
    """Import the tool package once (in the template, before forking); an import error is kept for later."""
    try:
        importlib.import_module("claw.tools")
    except ImportError as exc:
        STATE.tools_error = f"{type(exc).__name__}: {exc}"


class _VlmUnavailable:
    """Stands in for `vlm` when this installation has no VLM bridge."""

    def ask(self, question: str, images: object = None) -> str:
        """Always raises: no VLM bridge is installed."""
        raise RuntimeError("vlm.ask is not available in this kernel (no claw.tools.vlm bridge is installed)")


_setup_decoder = msgspec.msgpack.Decoder(KernelSetup)  # built once, in the template, before any fork


def _read_setup() -> KernelSetup:
    path = os.path.join(os.environ.get("CLAW_KERNEL_DIR", "."), "setup.msgpack")
    with open(path, "rb") as handle:
        return _setup_decoder.decode(handle.read())


def _tool_names() -> dict[str, object]:
    if STATE.tools_error is not None:
        raise ImportError(f"the tool package failed to import: {STATE.tools_error}")
    tools = importlib.import_module("claw.tools")
    bound: dict[str, object] = {"tools": tools}
    bound.update({name: getattr(tools, name) for name in _TOOL_NAMES if hasattr(tools, name)})
    return bound


def _optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def prepare() -> None:
    """Episode-independent set-up, run once per kernel before it is lent (keeps checkout to one fast cell):
    resolve the optional VLM bridge and perception client, and register the per-cell report hooks."""
    STATE.vlm_module = _optional_module("claw.tools.vlm")
    client = _optional_module("claw.tools._client")
    configure = getattr(client, "configure", None) if client is not None else None
    STATE.configure_client = configure
    STATE.configure_takes_fps = configure is not None and "fps" in inspect.signature(configure).parameters
    events = shell().events
    _register(events, "pre_run_cell", pre_run_cell)
    _register(events, "post_run_cell", post_run_cell)
    STATE.prepared = True


def _configure_client(setup: KernelSetup, metadata: MetadataInfo) -> None:
    if STATE.configure_client is None:
        return
    options: dict[str, object] = {
        "socket": setup.perception_socket,
        "url": setup.perception_url,
        "token": setup.perception_token,
        "scene": metadata.extra.get("scene"),
        "connect_timeout_s": setup.perception_connect_timeout_s,
        "request_timeout_s": setup.perception_request_timeout_s,
    }
    if STATE.configure_takes_fps:
        options["fps"] = metadata.fps
    STATE.configure_client(**options)


def _vlm(setup: KernelSetup) -> object:
    module = STATE.vlm_module
    if module is None:
        return _VlmUnavailable()
    configure = getattr(module, "configure", None)
    if configure is not None:
        configure(socket=setup.vlm_socket, episode_id=setup.episode_id)
    return getattr(module, "api", module)


def _namespace(setup: KernelSetup) -> dict[str, object]:
    import matplotlib.pyplot as plt
    import scipy

    metadata = metadata_of(setup)
    _configure_client(setup, metadata)
    names: dict[str, object] = {"np": np, "math": math, "scipy": scipy, "plt": plt, "Metadata": metadata}
    names.update(frame_names(setup))
    names.update(_tool_names())
    names.update({"show": show, "ReturnAnswer": ReturnAnswer, "vlm": _vlm(setup)})
    return names


def install() -> None:
    """Bind the kernel API for this kernel's episode and register the per-cell report hooks.

    Raises:
        OSError: the setup file is missing.
        ImportError: the tool package cannot be imported.
    """
    if not STATE.prepared:
        prepare()
    setup = _read_setup()
    STATE.max_images = setup.max_images_per_step
    STATE.answer_format = setup.answer_format
    STATE.options = setup.options
    ipython = shell()
    ipython.user_ns.update(_namespace(setup))
    STATE.hidden = frozenset(ipython.user_ns) | {"In", "Out", "exit", "quit", "get_ipython"}
    STATE.signatures = {}


def _register(events: Any, name: str, callback: Callable[..., None]) -> None:
    if callback not in events.callbacks[name]:
        events.register(name, callback)
