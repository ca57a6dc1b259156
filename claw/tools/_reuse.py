"""Putting a kernel back the way it was before its episode, so the pool can lend it again: only ever after
an episode whose every cell the host proved contained (`claw.sandbox._clean`). `snapshot()` runs once per
kernel, right after `prepare()`; `reset_episode()` runs after each episode and raises when anything it
does not restore has changed (a thread, an open file, a file in scratch), so the host forks instead.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

from claw.tools._report import shell
from claw.tools._state import STATE

__all__ = ["reset_episode", "snapshot"]


@dataclass
class _Baseline:
    namespace: dict[str, object] = field(default_factory=dict)
    threads: int = 0
    files: frozenset[str] = frozenset()
    scratch: frozenset[str] = frozenset()


_BASELINE = _Baseline()


def _scratch() -> frozenset[str]:
    return frozenset(os.listdir(os.environ.get("TMPDIR", ".")))


def _open_files() -> frozenset[str]:
    """Paths of the files and directories the kernel holds open (its sockets, pipes and eventfds come and
    go with ZeroMQ and ipykernel's threads, so they are not compared)."""
    listing = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    paths = set()
    try:
        for name in os.listdir(listing):
            try:
                target = os.readlink(name, dir_fd=listing)
            except OSError:
                continue  # closed meanwhile
            if target.startswith("/") and name != str(listing):
                paths.add(target)
    finally:
        os.close(listing)
    return frozenset(paths)


def snapshot() -> None:
    """Remember the kernel's namespace, threads, open files and scratch files before any episode."""
    _BASELINE.namespace = dict(shell().user_ns)
    _BASELINE.threads = threading.active_count()
    _BASELINE.files = _open_files()
    _BASELINE.scratch = _scratch()


def _forget_outputs(ipython: Any) -> None:
    """`Out`, `_`, `__`, `___` and every `_N`, as IPython's `DisplayHook.flush` forgets them, without the
    full garbage collection it ends with (a few ms per episode; cyclic garbage, if a cell made any, is left
    to the automatic collector)."""
    displayhook = ipython.displayhook
    for n in range(1, displayhook.prompt_count + 1):
        ipython.user_ns_hidden.pop(f"_{n}", None)
        ipython.user_ns.pop(f"_{n}", None)
    outputs = ipython.user_ns.get("_oh")
    if outputs is not None:
        outputs.clear()
    displayhook._, displayhook.__, displayhook.___ = "", "", ""


def reset_episode() -> None:
    """Forget the episode: its names, IPython's input and output history and counter, the cell state.

    Raises:
        RuntimeError: the kernel changed in a way this does not undo; it must not be lent again.
    """
    ipython = shell()
    _forget_outputs(ipython)
    history = ipython.history_manager
    history.reset(new_session=False)  # the output and directory history
    history.input_hist_parsed[:] = [""]  # `In`, as in a fresh kernel
    history.input_hist_raw[:] = [""]
    namespace = ipython.user_ns
    for name in [name for name in namespace if name not in _BASELINE.namespace]:
        del namespace[name]
    namespace.update(_BASELINE.namespace)
    ipython.execution_count = 1
    ipython.last_execution_result = None
    STATE.signatures = {}
    STATE.hidden = frozenset()
    STATE.begin_cell()
    changed = [
        what
        for what, same in (
            ("threads", threading.active_count() == _BASELINE.threads),
            ("open files", _open_files() == _BASELINE.files),
            ("scratch files", _scratch() == _BASELINE.scratch),
        )
        if not same
    ]
    if changed:
        raise RuntimeError(f"the kernel is not as it was before the episode: {', '.join(changed)} changed")
