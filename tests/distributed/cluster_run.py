"""Run as process 1 of fresh network and PID namespaces (see test_ray_cluster.py): bring loopback up,
start a two-node Ray cluster on 127.0.0.1, run `claw eval --ray` against it, SIGKILL worker `w1` once
the run has recorded its first result, wait for the run to end, and write what happened as JSON.

Nothing here can reach past loopback (the namespace has no other interface), and when this process
exits the kernel ends everything else in the PID namespace: both Ray nodes and whatever they started.

Usage: cluster_run.py OUT_JSON RUN_DIR N SEED TEMP_DIR (also this process's TMPDIR)
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

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
    command = [
        sys.executable,
        "-m",
        "claw.cli",
        "eval",
        "--n",
        n,
        "--seed",
        seed,
        "--run-dir",
        run_dir,
        "--ray",
        address,
        "--episodes",
        "2",
        "--kernels",
        "2",
    ]
    lines: list[str] = []
    victim: dict[str, object] = {}
    log = Path(out).with_suffix(".log").open("w")
    with (
        log,
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        ) as run,
    ):
        assert run.stdout is not None
        watchdog = threading.Timer(_RUN_LIMIT_S, run.kill)  # a hung run ends with its output kept
        watchdog.start()
        for line in run.stdout:
            lines.append(line)
            log.write(line)  # as it comes, for a run that never ends
            log.flush()
            progress = re.match(r"\[(\d+)/\d+\]", line)  # `[done/N] …`, one line per update
            if not victim and progress and int(progress.group(1)) >= 1:
                workers = Path(run_dir, "logs", "ray-workers.jsonl").read_text().splitlines()
                victim = next(w for w in map(json.loads, workers) if w["name"] == "w1")
                os.kill(int(str(victim["pid"])), signal.SIGKILL)
        code = run.wait()
        watchdog.cancel()
    Path(out).write_text(json.dumps({"returncode": code, "output": "".join(lines), "victim": victim}))


if __name__ == "__main__":
    main(*sys.argv[1:6])
