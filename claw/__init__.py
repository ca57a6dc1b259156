"""claw: a training-free spatial-reasoning agent whose action interface is code, and the async runtime
that evaluates it at scale.

Layering (arrows point down only): `claw.runtime` (runner, episode state machine, bus, sinks) uses
`claw.agent` (prompts, reply parsing, the action interfaces), `claw.llm` (chat transport) and
`claw.sandbox` (kernel pool, safety policy), which runs `claw.tools` inside kernels; every record that
crosses a process boundary is in `claw.wire`. Suites plug in through `claw.suite`; the library imports
neither `bench` nor `servers` (only the command line reaches into `bench`, for reports and data checks).
This module re-exports the embeddable surface; everything else is reachable by module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claw._version import __version__ as __version__
from claw.config import EvalConfig as EvalConfig
from claw.config import load_config as load_config
from claw.errors import ClawError as ClawError
from claw.errors import ConfigError as ConfigError
from claw.events import EpisodeResult as EpisodeResult
from claw.events import Event as Event
from claw.events import decode_event as decode_event
from claw.suite import Sample as Sample
from claw.suite import Score as Score
from claw.suite import Suite as Suite
from claw.suite import register_suite as register_suite

if TYPE_CHECKING:
    from claw.runtime.embed import Runner as Runner
    from claw.runtime.runner import run_eval as run_eval
    from claw.runtime.sinks import Summary as Summary

__all__ = [
    "ClawError",
    "ConfigError",
    "EpisodeResult",
    "EvalConfig",
    "Event",
    "Runner",
    "Sample",
    "Score",
    "Suite",
    "Summary",
    "__version__",
    "decode_event",
    "load_config",
    "register_suite",
    "run_eval",
]

# The runtime pulls in aiohttp and jupyter_client; kernels import `claw.tools` through this package, so
# the runtime is loaded only when asked for.
_LAZY = {"run_eval": "claw.runtime.runner", "Runner": "claw.runtime.embed", "Summary": "claw.runtime.sinks"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'claw' has no attribute {name!r}")
