"""OS confinement of one kernel, applied by the kernel's own process right after the template forks it.

Linux namespaces through unshare(2), the same mechanism `unshare`/bubblewrap use, applied per kernel:
the kernel gets its own user, mount, network (loopback only, down), PID, IPC and UTS namespaces; the whole
filesystem is re-mounted read-only (recursively) except its own exchange directory and a fresh
size-limited tmpfs scratch directory inside it, while the other kernels' directories are covered by an
empty tmpfs; chosen directories (the runner's
home) are covered by an empty read-only tmpfs; a second user+mount namespace then locks every mount so
the kernel cannot undo any of it. When the template runs as root the kernel first drops to an
unprivileged uid (so rlimits on processes apply, root-only files stay unreadable and host processes
cannot be signalled). rlimits bound memory, CPU time, processes, file size and open files.

Everything here runs in a freshly forked, single-threaded child and reports failure by raising OSError.
"""

from __future__ import annotations

import ctypes
import os
import resource

from claw.wire.template import KernelSpec, Limits

__all__ = ["apply_limits", "enter_namespaces", "finish_in_pid_namespace", "join_cgroup", "probe"]

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUTS = 0x04000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_PR_SET_DUMPABLE = 4
_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_SYS_MOUNT_SETATTR = 442
_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000
_MOUNT_ATTR_RDONLY = 1
_MOUNT_ATTR_NOSUID = 2

_HIDDEN_FILES = ("/etc/shadow", "/etc/gshadow")

_libc = ctypes.CDLL(None, use_errno=True)


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encoded = data.encode() if data is not None else None
    fs = fstype.encode() if fstype is not None else None
    result = _libc.mount(source.encode(), target.encode(), fs, ctypes.c_ulong(flags), encoded)
    _check(result, f"mount {target}")


def _read_only_everywhere() -> None:
    attr = _MountAttr(_MOUNT_ATTR_RDONLY | _MOUNT_ATTR_NOSUID, 0, 0, 0)  # /dev/null must stay usable
    syscall = _libc.syscall
    result = syscall(
        ctypes.c_long(_SYS_MOUNT_SETATTR),
        ctypes.c_int(_AT_FDCWD),
        ctypes.c_char_p(b"/"),
        ctypes.c_uint(_AT_RECURSIVE),
        ctypes.byref(attr),
        ctypes.c_size_t(ctypes.sizeof(attr)),
    )
    _check(result, "mount_setattr / read-only")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _map_identity(uid: int, gid: int) -> None:
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")


def apply_limits(limits: Limits) -> None:
    """Set the kernel's rlimits (inherited by everything it starts)."""
    mb = 1024 * 1024
    table = {
        resource.RLIMIT_AS: limits.memory_mb * mb,
        resource.RLIMIT_CPU: limits.cpu_seconds,
        resource.RLIMIT_NPROC: limits.max_processes,
        resource.RLIMIT_FSIZE: limits.max_file_mb * mb,
        resource.RLIMIT_NOFILE: limits.max_open_files,
        resource.RLIMIT_CORE: 0,
    }
    for which, value in table.items():
        resource.setrlimit(which, (value, value))


def join_cgroup(cgroup: str | None) -> None:
    """Move this process into `cgroup` (a directory whose pids.max the host has set)."""
    if cgroup is not None:
        _write(os.path.join(cgroup, "cgroup.procs"), str(os.getpid()))


def _drop_uid(uid: int | None) -> None:
    if uid is None or os.getuid() != 0:
        return
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    # Changing uid clears the dumpable flag, which makes /proc/self root-owned; the uid map needs it back.
    _check(_libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0), "prctl(PR_SET_DUMPABLE)")


def enter_namespaces(spec: KernelSpec) -> None:
    """Drop privileges, enter fresh namespaces and build the kernel's filesystem view.

    The caller must fork afterwards: the child is PID 1 of the new PID namespace and calls
    `finish_in_pid_namespace`.

    Raises:
        OSError: any step failed (the kernel must not start unconfined).
    """
    _drop_uid(spec.uid)
    uid, gid = os.getuid(), os.getgid()
    flags = _CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWPID | _CLONE_NEWIPC | _CLONE_NEWUTS
    _unshare(flags)
    _map_identity(uid, gid)
    _mount("none", "/", None, _MS_REC | _MS_PRIVATE)
    _read_only_everywhere()
    # Opened inside the new mount namespace: a bind source must belong to the caller's namespace.
    exchange = os.open(spec.exchange_dir, os.O_PATH | os.O_DIRECTORY)
    _private_scratch(spec, exchange)
    for directory in spec.hide_dirs:
        if os.path.isdir(directory):
            _hide(directory, [path for path in spec.expose if _is_under(path, directory)])
    for path in _HIDDEN_FILES:
        if os.path.isfile(path):
            _mount("/dev/null", path, None, _MS_BIND)
    os.close(exchange)


def _is_under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _hide(directory: str, expose: list[str]) -> None:
    """Cover `directory` with an empty tmpfs, then bind the `expose` paths back (read-only)."""
    handles = [(path, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path in expose if os.path.isdir(path)]
    _mount("tmpfs", directory, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=64k,mode=0755")
    for path, handle in handles:
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{handle}", path, None, _MS_BIND | _MS_REC)
        os.close(handle)
    _mount("none", directory, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)


def _private_scratch(spec: KernelSpec, exchange: int) -> None:
    """Hide every other kernel's directory, bind this kernel's back, and give it a size-limited scratch."""
    runtime_dir = os.path.dirname(spec.exchange_dir)
    _mount("tmpfs", runtime_dir, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=64k,mode=0711")
    os.mkdir(spec.exchange_dir, 0o700)
    _mount(f"/proc/self/fd/{exchange}", spec.exchange_dir, None, _MS_BIND)
    _mount("none", spec.exchange_dir, None, _MS_REMOUNT | _MS_BIND | _MS_NOSUID | _MS_NODEV)
    size_mb = max(16, spec.limits.max_file_mb * 2)
    _mount("tmpfs", spec.scratch_dir, "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={size_mb}m,mode=0700")
    _mount("none", runtime_dir, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)


def finish_in_pid_namespace() -> None:
    """In PID 1 of the new namespace: a private /proc, then lock every mount behind a second user namespace.

    Raises:
        OSError: the lock could not be applied.
    """
    uid, gid = os.getuid(), os.getgid()
    _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | 8)
    _unshare(_CLONE_NEWUSER | _CLONE_NEWNS)
    _map_identity(uid, gid)


def probe() -> str:
    """Try the namespace set in a throw-away child; '' when it works, else the reason it does not."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os._exit(_probe_child(write_end))
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        reason = reader.read().decode(errors="replace")
    os.waitpid(pid, 0)
    return reason


def _probe_child(report: int) -> int:
    uid, gid = os.getuid(), os.getgid()
    try:
        _unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWPID)
        _map_identity(uid, gid)
        _mount("none", "/", None, _MS_REC | _MS_PRIVATE)
        _read_only_everywhere()
    except OSError as exc:
        os.write(report, str(exc).encode())
        return 1
    return 0
