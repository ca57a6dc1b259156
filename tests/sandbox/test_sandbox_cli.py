"""`claw sandbox run`: a file runs as one cell under the episode sandbox and prints the observation."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from claw.config import SandboxConfig
from claw.sandbox.cli import sandbox_run


async def test_runs_a_file_and_prints_the_observation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cell = tmp_path / "cell.py"
    await anyio.Path(cell).write_text(
        "import math\nvalue = math.sqrt(16)\nprint('value', value)\nshow(np.zeros((4, 4)), 'z')\n"
    )
    code = await sandbox_run(cell, SandboxConfig())
    out = capsys.readouterr().out
    assert code == 0
    assert "status: ok" in out and "value 4.0" in out and "value: float" in out
    assert "image 1: 'z'" in out


async def test_policy_rejection_is_an_observation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cell = tmp_path / "bad.py"
    await anyio.Path(cell).write_text("x = 1\nimport subprocess\n")
    assert await sandbox_run(cell, SandboxConfig()) == 0
    out = capsys.readouterr().out
    assert "rejected" in out and "line 2" in out and "subprocess" in out and "rule: import" in out


async def test_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert await sandbox_run(tmp_path / "missing.py", SandboxConfig()) == 2
    assert "cannot read" in capsys.readouterr().err


async def test_no_ast_check_runs_a_cell_the_policy_rejects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cell = tmp_path / "hostile.py"
    await anyio.Path(cell).write_text("import os\nprint('uid', os.getuid())\nopen('/claw-cli-probe', 'w')\n")
    assert await sandbox_run(cell, SandboxConfig(), ast_check=False) == 0
    out = capsys.readouterr().out
    assert "rejected" not in out
    assert "uid " in out and "uid 0\n" not in out
    assert "Read-only file system" in out or "Permission denied" in out
    assert not await anyio.Path("/claw-cli-probe").exists()


async def test_stderr_warnings_reach_the_model_capped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cell = tmp_path / "warns.py"
    await anyio.Path(cell).write_text(
        "import warnings\nwarnings.warn('the floor fit is poor')\nprint('value', 3)\n"
        "for i in range(2000):\n    warnings.warn(f'noise {i}')\n"
    )
    assert await sandbox_run(cell, SandboxConfig()) == 0
    out = capsys.readouterr().out
    assert "[Output]\nvalue 3" in out
    warnings = out.split("[Warnings]\n", 1)[1]
    assert "UserWarning: the floor fit is poor" in warnings
    assert "characters cut" in warnings and len(warnings) < 3000
