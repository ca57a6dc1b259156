"""Helper servers die with the process that started them, even when it is killed outright (SIGKILL,
an OOM kill), so no perception or mock LLM server is left orphaned. Linux only: the kernel delivers
SIGTERM to the child when its parent exits (`prctl(PR_SET_PDEATHSIG)`); elsewhere this does nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

__all__ = ["PARENT_PID_ENV", "die_with_parent"]

PARENT_PID_ENV = "CLAW_PARENT_PID"
"""Set by the spawner to its own pid; the child arms the lifeline only when this is present."""
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel for SIGTERM when the spawning process exits (if `CLAW_PARENT_PID` names it)."""
    parent = os.environ.get(PARENT_PID_ENV)
    if not parent or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if str(os.getppid()) != parent:  # the parent died before the lifeline was armed
        os.kill(os.getpid(), signal.SIGTERM)
