"""Host-side facts the pool needs to confine kernels: which paths a kernel must still see (the interpreter
and installed packages, read-only in its otherwise empty filesystem), whether its unprivileged uid can read
them, and per-kernel cgroups that cap a kernel as a whole: its process count (RLIMIT_NPROC counts per uid,
not per kernel) and its memory (RLIMIT_AS is per process; a kernel's processes and its scratch tmpfs
together must fit). A pool's cgroups stay locked while it lives (claw._ownership), so another run's
sweep of stale cgroups never removes them, in whichever pid namespace either run is.
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
from claw._ownership import claim_if_stale, creating_in, hold, release, sweeping
from claw.errors import ConfinementUnavailable

__all__ = [
    "KernelCgroups",
    "bwrap_prefix",
    "check_readable_by_kernels",
    "needed_paths",
    "sweep_stale_cgroups",
]

_V1 = Path("/sys/fs/cgroup")
_V1_CONTROLLERS = ("pids", "memory")
_V2_ROOT = Path("/sys/fs/cgroup")


def needed_paths() -> tuple[str, ...]:
    """Directories a kernel must be able to read: interpreter prefixes, sys.path, the `claw` package.

    Each as written and as resolved (a kernel imports through the paths in `sys.path`, which may pass
    through a symbolic link). Only the package directory of claw, never its checkout: a run directory may
    sit beside it.
    """
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    paths = {*prefixes, str(Path(claw.__file__).parent)}
    paths.update(entry for entry in sys.path if _is_package_dir(entry, prefixes))
    both = {os.path.abspath(path) for path in paths} | {os.path.realpath(path) for path in paths}
    return tuple(sorted(path for path in both if path != "/"))


def _is_package_dir(entry: str, prefixes: set[str]) -> bool:
    """A sys.path entry of installed code: under an interpreter prefix or a site directory. Not the current
    directory or a checkout (`python -m` from a project puts it first), which may hold run directories."""
    if not entry or not os.path.isdir(entry):
        return False
    path = Path(os.path.abspath(entry))
    if {"site-packages", "dist-packages"} & set(path.parts):
        return True
    return any(path.is_relative_to(prefix) for prefix in prefixes if prefix != "/")


def check_readable_by_kernels(paths: tuple[str, ...]) -> None:
    """Kernels run as an unprivileged uid; each needed directory itself must be readable by others (its
    ancestors need not be: the kernel sees it at the top of its own filesystem).

    Raises:
        ConfinementUnavailable: a directory is not, with the command that fixes it.
    """
    for path in paths:
        mode = os.stat(path).st_mode
        if mode & (stat.S_IROTH | stat.S_IXOTH) != stat.S_IROTH | stat.S_IXOTH:
            raise ConfinementUnavailable(
                f"kernels run as an unprivileged user and cannot read {path} (mode {stat.filemode(mode)}); "
                f"make the Python installation readable (chmod -R o+rX {path}) and start again"
            )


class KernelCgroups:
    """A pids and a memory cgroup per kernel under pool cgroups, when this host lets us create them."""

    def __init__(self) -> None:
        held = _create_pool_cgroups()
        self.roots = [root for root, _ in held]
        self._held = [descriptor for _, descriptor in held]

    @property
    def available(self) -> bool:
        """Whether per-kernel process and memory caps are enforced through cgroups."""
        return bool(self.roots)

    def create(self, kernel_id: str, *, max_processes: int, memory_mb: int) -> tuple[str, ...]:
        """The cgroups of one kernel: at most `max_processes` tasks (threads count), `memory_mb` in all."""
        made: list[str] = []
        for root in self.roots:
            path = root / kernel_id
            try:
                path.mkdir()
                _write_limits(path, max_processes, memory_mb)
            except OSError:
                continue
            made.append(str(path))
        return tuple(made)

    async def remove(self, kernel_id: str) -> None:
        """Kill whatever is left in a kernel's cgroups and remove them."""
        for root in self.roots:
            await _remove_cgroup(root / kernel_id)

    async def close(self) -> None:
        """Remove every kernel cgroup, then the pool's (even when the run is being cancelled)."""
        with anyio.CancelScope(shield=True):
            for root in self.roots:
                for child in await anyio.to_thread.run_sync(_children, root):
                    await _remove_cgroup(child)
                await anyio.to_thread.run_sync(_try_remove, root)
            for descriptor in self._held:
                release(descriptor)
            self._held = []


def _write_limits(path: Path, max_processes: int, memory_mb: int) -> None:
    limit = str(memory_mb * 1024 * 1024)
    table = {
        "pids.max": str(max_processes),
        "memory.max": limit,
        "memory.swap.max": "0",
        "memory.limit_in_bytes": limit,
        "memory.memsw.limit_in_bytes": limit,
    }
    for name, value in table.items():
        if (path / name).exists():
            (path / name).write_text(value)


def _children(root: Path) -> list[Path]:
    try:
        return [path for path in root.iterdir() if path.is_dir()]
    except FileNotFoundError:  # removed by hand (or by a claw older than the ownership locks)
        return []


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
    """Remove the pool cgroups of runs that are gone (a SIGKILLed run cannot remove its own)."""
    roots = [_V1 / controller for controller in _V1_CONTROLLERS] + [_V2_ROOT]
    for root in roots:
        if not root.is_dir():
            continue
        with sweeping(root):
            for candidate in root.glob("claw-*-*"):
                owner = candidate.name.split("-")[1]
                if not owner.isdigit():
                    continue
                with claim_if_stale(candidate, int(owner)) as stale:
                    if stale:
                        _rmdir_tree(candidate)


def _rmdir_tree(path: Path) -> None:
    with contextlib.suppress(OSError):
        for child in path.iterdir():
            if child.is_dir():
                child.rmdir()
        path.rmdir()


def _create_pool_cgroups() -> list[tuple[Path, int]]:
    """This pool's cgroup under each controller, each held (claw._ownership) until `close`."""
    name = f"claw-{os.getpid()}-{secrets.token_hex(3)}"
    v1 = [_V1 / c for c in _V1_CONTROLLERS if (_V1 / c / "cgroup.procs").exists()]
    if v1:
        return [made for made in (_make_held(root, name) for root in v1) if made is not None]
    controllers = _V2_ROOT / "cgroup.subtree_control"
    if not (controllers.exists() and "pids" in controllers.read_text().split()):
        return []
    made = _make_held(_V2_ROOT, name)
    if made is None:
        return []
    wanted = [c for c in ("pids", "memory") if c in controllers.read_text().split()]
    with contextlib.suppress(OSError):
        (made[0] / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in wanted))
        return [made]
    made[0].rmdir()
    release(made[1])
    return []


def _make_held(root: Path, name: str) -> tuple[Path, int] | None:
    path = root / name
    try:
        with creating_in(root):
            path.mkdir()
            try:
                return path, hold(path)
            except OSError:
                path.rmdir()
                raise
    except OSError:
        return None


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
