"""Events are built by their typed constructors with a spread `stamp`, so mypy checks every field: a
misspelt or mistyped field is a type error, not a runtime surprise. Runs mypy (the project's strict
config) on two small snippets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]

_GOOD = """
from claw.events import CellChecked, stamp

event = CellChecked(**stamp("run", episode_id="ep", step=2), ok=False, rule="import", lineno=1)
"""
_MISSPELT = """
from claw.events import CellChecked, stamp

event = CellChecked(**stamp("run"), ok=False, rulle="import")
"""
_MISTYPED = """
from claw.events import CellChecked, stamp

event = CellChecked(**stamp("run"), ok="no")
"""


def test_mypy_accepts_a_well_built_event_and_rejects_misspelt_or_mistyped_fields(tmp_path: Path) -> None:
    files = {}
    for name, text in (("good", _GOOD), ("misspelt", _MISSPELT), ("mistyped", _MISTYPED)):
        files[name] = tmp_path / f"snippet_{name}.py"
        files[name].write_text(text)
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(_ROOT / "pyproject.toml"),
        *map(str, files.values()),
    ]
    done = subprocess.run(command, cwd=_ROOT, capture_output=True, text=True, timeout=600, check=False)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert not [e for e in errors if "snippet_good" in e], done.stdout
    assert any("snippet_misspelt" in e and '"rulle"' in e for e in errors), done.stdout
    assert any("snippet_mistyped" in e and '"ok"' in e for e in errors), done.stdout
