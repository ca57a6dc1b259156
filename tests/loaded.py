"""`python -m tests.loaded COMMAND…`: run COMMAND (usually pytest) while one busy loop per CPU core
keeps the machine saturated, then stop the loops. `make test-loaded` runs the suite this way, so a test
that only passes on a quiet machine (a timeout racing the behaviour under test) fails here first."""

from __future__ import annotations

import os
import subprocess
import sys

_SPIN = "while True: pass"


def main(command: list[str]) -> int:
    """Run `command` under load; return its exit status."""
    if not command:
        print("usage: python -m tests.loaded COMMAND [ARGS…]", file=sys.stderr)
        return 2
    loops = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(os.cpu_count() or 2)]
    try:
        return subprocess.call(command)
    finally:
        for loop in loops:
            loop.kill()
        for loop in loops:
            loop.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
