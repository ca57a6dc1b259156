"""Run as process 1 of fresh network and PID namespaces (see test_ray_discovery.py): bring loopback up,
start the two-node loopback Ray cluster `cluster_run.py` starts, run a mock LLM server under
`claw serve register --ray`, put a stale entry (a server that died without deregistering) in the
registry, run `claw eval --ray ADDRESS --ray-discover models`, then stop the registered server with
SIGTERM. Writes what happened as JSON.

Usage: discovery_run.py OUT_JSON RUN_DIR N SEED TEMP_DIR (also this process's TMPDIR)
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from claw.distributed.registry import entries, register
from claw.wire.ray import Registration

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: the checkout's `tests`
from tests.distributed.cluster_run import _free_port, _start_cluster

_LIMIT_S = 600.0


def _urls(ray: Any) -> list[str]:
    return sorted(r.url for r in asyncio.run(entries(ray)).values())


def _wait_registered(ray: Any, url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline, tick = time.monotonic() + _LIMIT_S, threading.Event()
    while url not in _urls(ray):
        if server.poll() is not None or time.monotonic() > deadline:
            output = log.read_text()[-3000:]
            raise RuntimeError(
                f"claw serve register never registered {url} (exit {server.poll()}):\n{output}"
            )
        tick.wait(0.2)


def main(out: str, run_dir: str, n: str, seed: str, temp_dir: str) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    token = Path(temp_dir) / "ray-auth-token"
    token.write_text(secrets.token_hex(32))
    os.environ.update(RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token))
    address = _start_cluster(temp_dir, dict(os.environ))
    ray: Any = importlib.import_module("ray")
    ray.init(address=address, namespace="claw", log_to_driver=False)
    port, dead_port = _free_port(), _free_port()
    url, stale = f"http://127.0.0.1:{port}/v1", f"http://127.0.0.1:{dead_port}/v1"
    claw = [sys.executable, "-m", "claw.cli"]
    mock = [
        sys.executable,
        "-m",
        "servers.mockllm",
        "--policy",
        "scripted",
        "--seed",
        seed,
        "--port",
        str(port),
    ]
    outcome: dict[str, Any] = {"url": url, "stale": stale}
    log_path = Path(out).with_suffix(".log")
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*claw, "serve", "register", "--ray", address, "--url", url, "--model", "mock", "--", *mock],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            asyncio.run(register(ray, Registration(kind="model", url=stale, model="mock")))
            _wait_registered(ray, url, server, log_path)
            outcome["registered"] = _urls(ray)
            flags = ["--n", n, "--seed", seed, "--run-dir", run_dir, "--episodes", "2", "--kernels", "2"]
            ran = subprocess.run(
                [*claw, "eval", *flags, "--ray", address, "--ray-discover", "models"],
                capture_output=True,
                text=True,
                timeout=_LIMIT_S,
                check=False,
            )
            outcome["eval"] = {"returncode": ran.returncode, "output": ran.stdout + ran.stderr}
            outcome["after_run"] = _urls(ray)
        finally:
            server.send_signal(signal.SIGTERM)
            outcome["server_returncode"] = server.wait(timeout=_LIMIT_S)
    outcome["after_stop"] = _urls(ray)
    ray.shutdown()
    Path(out).write_text(json.dumps(outcome))


if __name__ == "__main__":
    main(*sys.argv[1:6])
