"""The sweep of temporary directories that killed runs left behind: only directories whose owner
process is gone are removed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from claw._files import owned_prefix, sweep_stale_temp_dirs


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_directories_of_dead_owners_are_removed(tmp_path: Path) -> None:
    dead = _dead_pid()
    stale_sockets = tmp_path / f"claw-{dead}-abc"
    stale_kernels = tmp_path / f"claw-k{dead}-def"
    live = tmp_path / f"{owned_prefix()}ghi"
    unrelated = tmp_path / "claw-notapid"
    for folder in (stale_sockets, stale_kernels, live, unrelated):
        (folder / "inner").mkdir(parents=True)
    (stale_kernels / "inner" / "ipc-1").write_bytes(b"")

    removed = sweep_stale_temp_dirs(tmp_path)

    assert sorted(removed) == sorted([stale_sockets, stale_kernels])
    assert not stale_sockets.exists() and not stale_kernels.exists()
    assert live.exists() and unrelated.exists()


def test_the_prefix_names_this_process() -> None:
    import os

    assert owned_prefix("k") == f"claw-k{os.getpid()}-"
