"""`python -m tests.loaded COMMAND…`: run COMMAND (usually pytest) while one busy loop per usable CPU
core keeps the machine saturated, then stop the loops. `make test-loaded` runs the suite this way, so a
test that only passes on a quiet machine (a timeout racing the behaviour under test) fails here first.

The loops never outlive the harness: SIGTERM and SIGINT stop them like a normal exit, and each loop
also ends by itself once its parent is gone (a SIGKILLed harness leaves nothing spinning on a shared
machine). At the end the harness prints the wall time and the load averages it left the machine at."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType

_SPIN = (
    "import os\nparent = os.getppid()\n"
    "while os.getppid() == parent:\n    for _ in range(1_000_000):\n        pass\n"
)


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(command: list[str]) -> int:
    """Run `command` under load; return its exit status."""
    if not command:
        print("usage: python -m tests.loaded COMMAND [ARGS…]", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _exit_on_signal)
    started = time.monotonic()
    cores = len(os.sched_getaffinity(0))
    loops = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(cores)]
    try:
        return subprocess.call(command)  # kills the command too if a signal ends the wait
    finally:
        for loop in loops:
            loop.kill()
        for loop in loops:
            loop.wait()
        minutes = (time.monotonic() - started) / 60
        one, five, fifteen = os.getloadavg()
        print(
            f"tests.loaded: {cores} busy loops for {minutes:.1f} min; "
            f"load average {one:.1f} {five:.1f} {fifteen:.1f} (1/5/15 min)",
            file=sys.stderr,
        )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
