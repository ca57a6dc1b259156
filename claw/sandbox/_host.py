"""Host-side facts the pool needs to confine kernels: which paths a kernel must still see (the interpreter
and installed packages), whether an unprivileged uid could read them, and per-kernel pids cgroups that cap
a kernel's process count (RLIMIT_NPROC does not apply to root, and kernels keep root's uid whenever the
interpreter lives somewhere only root can read).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import stat
import sys
from pathlib import Path

import anyio

import claw
from claw.errors import ConfinementUnavailable

__all__ = [
    "PidsCgroups",
    "bwrap_prefix",
    "hidden_dirs",
    "needed_paths",
    "sweep_stale_cgroups",
    "world_readable",
]

_V1_ROOT = Path("/sys/fs/cgroup/pids")
_V2_ROOT = Path("/sys/fs/cgroup")


def needed_paths() -> tuple[str, ...]:
    """Directories a kernel must be able to read: interpreter prefixes, claw's source root, sys.path."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(claw.__file__).parent.parent)}
    paths.update(entry for entry in sys.path if entry and os.path.isdir(entry))
    return tuple(sorted({os.path.realpath(path) for path in paths}))


def world_readable(path: str) -> bool:
    """Whether any user can reach `path`: every ancestor searchable and the directory readable by others."""
    current = Path(path)
    for directory in [current, *current.parents]:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            return False
    return bool(current.stat().st_mode & stat.S_IROTH)


def hidden_dirs(workdir: Path) -> tuple[str, ...]:
    """The runner's home (needed paths under it are bound back), unless the pool's files live there."""
    home = Path.home().resolve()
    if home == Path("/") or workdir.resolve().is_relative_to(home):
        return ()
    return (str(home),)


class PidsCgroups:
    """A pids cgroup per kernel under one pool cgroup, when this host lets us create them."""

    def __init__(self) -> None:
        self.root = _create_pool_cgroup()

    @property
    def available(self) -> bool:
        """Whether per-kernel process caps are enforced through cgroups."""
        return self.root is not None

    def create(self, kernel_id: str, max_processes: int) -> str | None:
        """A cgroup for one kernel capped at `max_processes` tasks (threads count), or None."""
        if self.root is None:
            return None
        path = self.root / kernel_id
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(max_processes))
        except OSError:
            return None
        return str(path)

    async def remove(self, kernel_id: str) -> None:
        """Kill whatever is left in a kernel's cgroup and remove it."""
        if self.root is not None:
            await _remove_cgroup(self.root / kernel_id)

    async def close(self) -> None:
        """Remove every kernel cgroup, then the pool's (even when the run is being cancelled)."""
        if self.root is None:
            return
        with anyio.CancelScope(shield=True):
            for child in await anyio.to_thread.run_sync(_children, self.root):
                await _remove_cgroup(child)
            await anyio.to_thread.run_sync(_try_remove, self.root)


def _children(root: Path) -> list[Path]:
    return [path for path in root.iterdir() if path.is_dir()]


async def _remove_cgroup(path: Path, attempts: int = 100) -> None:
    # rmdir fails while the group still has members; they were SIGKILLed and need a moment to exit.
    for _ in range(attempts):
        if await anyio.to_thread.run_sync(_try_remove, path):
            return
        await anyio.sleep(0.01)


def _try_remove(path: Path) -> bool:
    try:
        path.rmdir()
    except FileNotFoundError:
        return True
    except OSError:
        _kill_members(path)
        return False
    return True


def _kill_members(path: Path) -> None:
    with contextlib.suppress(OSError):
        for line in (path / "cgroup.procs").read_text().split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(line), signal.SIGKILL)


def sweep_stale_cgroups() -> None:
    """Remove empty pool cgroups left by pools whose process no longer exists."""
    for root in (_V1_ROOT, _V2_ROOT):
        if not root.is_dir():
            continue
        for stale in root.glob("claw-*-*"):
            owner = stale.name.split("-")[1]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                _rmdir_tree(stale)


def _rmdir_tree(path: Path) -> None:
    with contextlib.suppress(OSError):
        for child in path.iterdir():
            if child.is_dir():
                child.rmdir()
        path.rmdir()


def _create_pool_cgroup() -> Path | None:
    name = f"claw-{os.getpid()}-{secrets.token_hex(3)}"
    if (_V1_ROOT / "pids.max").exists() or (_V1_ROOT / "cgroup.procs").exists():
        return _mkdir(_V1_ROOT / name)
    controllers = _V2_ROOT / "cgroup.subtree_control"
    if controllers.exists() and "pids" in controllers.read_text().split():
        path = _mkdir(_V2_ROOT / name)
        if path is not None:
            with contextlib.suppress(OSError):
                (path / "cgroup.subtree_control").write_text("+pids")
                return path
            path.rmdir()
    return None


def _mkdir(path: Path) -> Path | None:
    try:
        path.mkdir()
    except OSError:
        return None
    return path


def bwrap_prefix(writable: list[Path]) -> list[str]:
    """The bubblewrap command line that runs the template itself in an outer sandbox (`confinement =
    'bwrap'`): read-only root and no network; only `writable` stays writable (and /proc, which the kernels
    need to set up their own namespaces). Root keeps just the capabilities the template needs to drop
    kernels to other uids and to signal them.

    Raises:
        ConfinementUnavailable: bubblewrap is not installed.
    """
    executable = shutil.which("bwrap")
    if executable is None:
        raise ConfinementUnavailable(
            "sandbox.confinement = 'bwrap' needs bubblewrap: install it with `make system-deps` "
            "(apt-get install bubblewrap), or use confinement = 'auto'"
        )
    args = [executable, "--die-with-parent", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
    args += ["--ro-bind", "/", "/", "--dev-bind", "/dev", "/dev", "--bind", "/proc", "/proc"]
    for path in writable:
        args += ["--bind", str(path), str(path)]
    if os.getuid() == 0:
        for capability in ("CAP_SETUID", "CAP_SETGID", "CAP_KILL"):
            args += ["--cap-add", capability]
    return [*args, "--"]
