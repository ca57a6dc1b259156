"""Run as process 1 of fresh network and PID namespaces (see test_ray_cluster.py): bring loopback up,
start a two-node Ray cluster on 127.0.0.1, and against it: run `claw eval --ray` and SIGKILL worker `w1`
once the run has recorded its first result; then run another `claw eval --ray`, SIGKILL the driver itself
after its first result and run the same command again (a driver restart). Writes what happened as JSON.

Nothing here can reach past loopback (the namespace has no other interface), and when this process
exits the kernel ends everything else in the PID namespace: both Ray nodes and whatever they started.

Usage: cluster_run.py OUT_JSON RUN_DIR N SEED TEMP_DIR (also this process's TMPDIR)
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

_RUN_LIMIT_S = 600.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _ray_start(arguments: list[str], env: dict[str, str]) -> None:
    ray = str(Path(sys.executable).parent / "ray")
    ran = subprocess.run([ray, "start", *arguments], env=env, capture_output=True, text=True, timeout=300)
    if ran.returncode != 0:
        raise RuntimeError(
            f"ray start {' '.join(arguments)} failed:\n{ran.stdout[-3000:]}{ran.stderr[-3000:]}"
        )


def _start_cluster(temp_dir: str, env: dict[str, str]) -> str:
    port = _free_port()
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats"]
    _ray_start(
        ["--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp_dir}/ray", *common], env
    )
    address = f"127.0.0.1:{port}"
    _ray_start([f"--address={address}", *common], env)
    return address


def _after_first_result(run_dir: str, action: Callable[[], None]) -> threading.Thread:
    """A thread that calls `action` as soon as the run's `results.jsonl` has a line."""

    def watch() -> None:
        results = Path(run_dir, "results.jsonl")
        deadline, tick = time.monotonic() + _RUN_LIMIT_S, threading.Event()
        while time.monotonic() < deadline:
            if results.exists() and results.read_bytes().count(b"\n") >= 1:
                action()
                return
            tick.wait(0.1)  # a plain thread: no event loop to block

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _run(
    command: list[str],
    env: dict[str, str],
    log: IO[str],
    kill: Callable[[subprocess.Popen[str]], int] | None,
    run_dir: str,
) -> dict[str, Any]:
    """Run `claw eval`, its output teed to `log`; once it has recorded a result, call `kill` (which
    SIGKILLs a worker or the run itself and returns the pid). Returns exit status, output, pid killed."""
    lines: list[str] = []
    killed: list[int] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    ) as run:
        assert run.stdout is not None
        watchdog = threading.Timer(_RUN_LIMIT_S, run.kill)  # a hung run ends with its output kept
        watchdog.start()
        if kill is not None:
            _after_first_result(run_dir, lambda: killed.append(kill(run)))
        for line in run.stdout:
            lines.append(line)
            log.write(line)
            log.flush()
        code = run.wait()
        watchdog.cancel()
    return {"returncode": code, "output": "".join(lines), "killed": killed}


def _kill_worker(run_dir: str, name: str) -> Callable[[subprocess.Popen[str]], int]:
    def kill(_run: subprocess.Popen[str]) -> int:
        workers = Path(run_dir, "logs", "ray-workers.jsonl").read_text().splitlines()
        pid = int(next(w for w in map(json.loads, workers) if w["name"] == name)["pid"])
        os.kill(pid, signal.SIGKILL)
        return pid

    return kill


def _kill_driver(run: subprocess.Popen[str]) -> int:
    run.kill()
    return run.pid


def main(out: str, run_dir: str, n: str, seed: str, temp_dir: str) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    # The cluster's own token (a token a local `ray.init()` may have left in ~/.ray is not this one's).
    token = Path(temp_dir) / "ray-auth-token"
    token.write_text(secrets.token_hex(32))
    env = {
        **os.environ,
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": str(token),
    }
    address = _start_cluster(temp_dir, env)

    def command(directory: str) -> list[str]:
        flags = ["--n", n, "--seed", seed, "--run-dir", directory, "--ray", address, "--episodes", "2"]
        return [sys.executable, "-m", "claw.cli", "eval", *flags, "--kernels", "2"]

    outcome: dict[str, Any] = {}
    with Path(out).with_suffix(".log").open("w") as log:  # as it comes, for a run that never ends
        outcome["worker_killed"] = _run(command(run_dir), env, log, _kill_worker(run_dir, "w1"), run_dir)
        restarted = run_dir + "-driver-killed"
        outcome["driver_killed"] = _run(command(restarted), env, log, _kill_driver, restarted)
        outcome["driver_killed"]["results"] = Path(restarted, "results.jsonl").read_bytes().count(b"\n")
        outcome["resumed"] = _run(command(restarted), env, log, None, restarted)
    Path(out).write_text(json.dumps(outcome))


if __name__ == "__main__":
    main(*sys.argv[1:6])
