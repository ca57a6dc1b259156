"""Runs that overlap never remove each other's pool cgroups or temporary directories, even when one of
them runs in a pid namespace of its own (a container, `unshare -p`), where the pids in the other's
directory names mean nothing; what a SIGKILLed run left is still swept."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from claw._files import sweep_stale_temp_dirs
from claw.sandbox._host import KernelCgroups, sweep_stale_cgroups

pytestmark = pytest.mark.skipif(
    os.getuid() != 0 or shutil.which("unshare") is None or not KernelCgroups().roots,
    reason="needs root, unshare(1) and writable cgroups (pool cgroups are made only there)",
)

_RUN = """
import json, sys, anyio
from claw._files import make_owned_dir, remove_owned_dir
from claw.sandbox._host import KernelCgroups
cgroups = KernelCgroups()
folder, held = make_owned_dir()
print(json.dumps([str(p) for p in [*cgroups.roots, folder]]), flush=True)
sys.stdin.read()  # alive until the test closes stdin
anyio.run(cgroups.close)
remove_owned_dir(folder, held)
"""
_SWEEP = """
from claw._files import sweep_stale_temp_dirs
from claw.sandbox._host import sweep_stale_cgroups
sweep_stale_cgroups()
sweep_stale_temp_dirs()
"""
_OWN_PID_NAMESPACE = ["unshare", "--pid", "--fork", "--mount-proc"]


@contextmanager
def _run(prefix: list[str]) -> Iterator[tuple[subprocess.Popen[str], list[Path]]]:
    """A stand-in for a claw run: holds a pool's cgroups and a temporary directory until stdin closes."""
    command = [*prefix, sys.executable, "-c", _RUN]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None and process.stdin is not None
        paths = [Path(p) for p in json.loads(process.stdout.readline())]
        try:
            yield process, paths
        finally:
            process.stdin.close()
            process.wait(timeout=120)


def test_overlapping_runs_keep_their_cgroups_through_sweeps_from_any_pid_namespace() -> None:
    with _run([]) as (host_run, host_paths), _run(_OWN_PID_NAMESPACE) as (ns_run, ns_paths):
        with _run([]) as (killed, killed_paths):
            killed.send_signal(signal.SIGKILL)
            killed.wait(timeout=60)
        assert len(host_paths) == len(ns_paths) == 3 and all(p.exists() for p in killed_paths)

        sweep_stale_cgroups()  # a run starting on the host
        sweep_stale_temp_dirs()
        inside = subprocess.run([*_OWN_PID_NAMESPACE, sys.executable, "-c", _SWEEP], timeout=120, check=False)
        assert inside.returncode == 0  # a run starting in a pid namespace of its own

        lost = [p for p in host_paths + ns_paths if not p.exists()]
        assert not lost, f"a live run lost {lost}"
        left = [p for p in killed_paths if p.exists()]
        assert not left, f"the killed run's cgroups and directory were not swept: {left}"
    assert host_run.returncode == ns_run.returncode == 0  # each closed its own, none already gone
    assert not [p for p in host_paths + ns_paths if p.exists()]
