"""The output side shared by every `bench/perf` script: figures go to the terminal (one line at a time,
as they are measured) and, when asked, to a JSON file that tools compare across runs."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["say", "write_figures"]


def say(line: str) -> None:
    """Print one line of a benchmark's report."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def write_figures(figures: Mapping[str, object], path: Path | str | None) -> None:
    """Write `figures` as indented JSON to `path` (nothing when `path` is None)."""
    if path is not None:
        Path(path).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
