"""OS confinement of one kernel, applied by the kernel's launcher right after the template forks it.

Linux namespaces through unshare(2), the mechanism bubblewrap uses, applied per kernel. The kernel never
keeps host root: a root template first builds the kernel's filesystem in a private mount namespace (so it
can still reach an interpreter under `/root`), then drops to an unprivileged uid before the kernel's own
user namespace is made; a non-root template does the same inside a user namespace of its own. The kernel
gets its own user, mount, network (loopback only, down), PID, IPC and UTS namespaces and a filesystem
built from nothing (pivot_root into an empty tmpfs): the interpreter, its packages and the system
libraries read-only, its exchange directory read-only at `/claw/exchange` (connection file, episode setup,
staged media, the relayed sockets), a size- and file-count-limited tmpfs scratch at `/claw/scratch`, a
few device nodes and its own /proc. Nothing else of the host exists in it: no /tmp, /var, /home, /root,
run directories, other kernels or host sockets. A last user+mount namespace locks every mount; it is the
last user namespace the kernel may make, and the kernel keeps no capability in it. rlimits
bound memory per process, CPU time, processes, file size and open files; the pool's cgroups bound the
kernel as a whole.

The kernel's ZeroMQ sockets are bound here, before confinement, on the host side of the read-only
exchange directory, and handed to ipykernel as file descriptors (`adopt_sockets`).

Everything here runs in a freshly forked, single-threaded child and reports failure by raising OSError;
the Linux calls themselves are thin wrappers in `_linux`.
"""

from __future__ import annotations

import os
import resource
import socket
from typing import Any

from claw.sandbox import _linux as linux
from claw.wire.template import KernelSpec, Limits

__all__ = [
    "INNER_EXCHANGE",
    "INNER_SCRATCH",
    "SOCKET_PORTS",
    "adopt_sockets",
    "apply_limits",
    "close_inherited_files",
    "enter_namespaces",
    "finish_in_pid_namespace",
    "join_cgroups",
    "prebind_sockets",
    "probe",
]

INNER_EXCHANGE = "/claw/exchange"
"""Where a confined kernel sees its exchange directory (read-only)."""
INNER_SCRATCH = "/claw/scratch"
"""A confined kernel's writable scratch directory (its cwd, HOME and TMPDIR)."""
SOCKET_PORTS = (1, 2, 3, 4)
"""The ipc "ports" of shell, iopub, stdin and control (ipykernel's order); no heartbeat."""

_SCRATCH_FILES = 4096
"""File-count cap of the scratch tmpfs (its inodes)."""
_SYSTEM_PATHS = ("/usr/lib", "/usr/lib64", "/usr/lib32", "/lib", "/lib64", "/lib32", "/etc/ld.so.cache")
"""Shared libraries a first import may still dlopen (the interpreter's own were loaded before the fork)."""
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
_KERNEL_NAMESPACES = (
    linux.CLONE_NEWUSER
    | linux.CLONE_NEWNS
    | linux.CLONE_NEWNET
    | linux.CLONE_NEWPID
    | linux.CLONE_NEWIPC
    | linux.CLONE_NEWUTS
)
"""The kernel's own namespaces: user, mount, network, PID, IPC and UTS."""


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


def join_cgroups(cgroups: tuple[str, ...]) -> None:
    """Move this process into each of `cgroups` (directories whose limits the host has set)."""
    for cgroup in cgroups:
        linux.write_file(os.path.join(cgroup, "cgroup.procs"), str(os.getpid()))


def prebind_sockets(spec: KernelSpec) -> dict[int, int]:
    """Listening Unix sockets `ipc-N` in the exchange directory, made while it is still writable.

    Returns:
        ipc port → file descriptor, for `adopt_sockets`.
    """
    bound: dict[int, int] = {}
    for port in SOCKET_PORTS:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(os.path.join(spec.exchange_dir, f"ipc-{port}"))
        listener.listen(64)
        bound[port] = listener.detach()
    return bound


def adopt_sockets(app: Any, bound: dict[int, int]) -> None:
    """Make ipykernel's `app` bind its sockets on the prebound descriptors (ZMQ_USE_FD), not on paths."""
    import zmq

    def bind(sock: Any, port: int) -> int:
        sock.setsockopt(zmq.USE_FD, bound[port])
        sock.bind(f"ipc://{app.ip}-{port}")
        return port

    app._try_bind_socket = bind  # the one ipykernel hook that binds a socket


def close_inherited_files(keep: set[int]) -> None:
    """Close every inherited descriptor of a file, directory or pipe but `keep`: whatever the template held
    open (its log on the host disk, its signal wake-up pipe) must not reach the kernel. Sockets and event
    descriptors stay: the template's pre-built event loop and shell own some of them."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd in keep:
            continue
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # the descriptor listdir itself used, now closed
        if target.startswith(("/", "pipe:")):
            os.close(fd)


def _drop_uid(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    # Changing uid clears the dumpable flag, which makes /proc/self root-owned; the uid map needs it back.
    linux.set_dumpable()


def enter_namespaces(spec: KernelSpec) -> None:
    """Build the kernel's filesystem, drop to its unprivileged uid and enter its namespaces.

    The caller must fork afterwards: the child is PID 1 of the new PID namespace and calls
    `finish_in_pid_namespace`.

    Raises:
        OSError: any step failed, or the template is root and no unprivileged uid was given (the kernel
            must not start unconfined or as root).
    """
    as_root = os.getuid() == 0
    if as_root and spec.uid is None:
        raise OSError("refusing to start a kernel as root: no unprivileged uid to run it as")
    if as_root:
        linux.unshare(linux.CLONE_NEWNS)
    else:
        uid, gid = os.getuid(), os.getgid()
        linux.unshare(linux.CLONE_NEWUSER | linux.CLONE_NEWNS)
        linux.map_identity(uid, gid)
    linux.mount("none", "/", None, linux.MS_REC | linux.MS_PRIVATE)
    _build_root(spec)
    if as_root and spec.uid is not None:
        _drop_uid(spec.uid)
    uid, gid = os.getuid(), os.getgid()
    linux.unshare(_KERNEL_NAMESPACES)
    linux.map_identity(uid, gid)


def _build_root(spec: KernelSpec) -> None:
    """An empty tmpfs holding only what the kernel may see, then pivot_root into it."""
    sources = _open_sources(spec)
    host_proc = os.open("/proc", os.O_PATH | os.O_CLOEXEC)  # bound after the read-only pass: uid maps
    links = {path: os.readlink(path) for path in _SYSTEM_PATHS if os.path.islink(path)}
    new_root = os.path.dirname(spec.exchange_dir)  # any directory of ours will do as the mount point
    linux.mount(
        "tmpfs", new_root, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, "size=1m,nr_inodes=4096,mode=0755"
    )
    for target, handle, is_dir in sources:
        _bind(handle, new_root + target, is_dir=is_dir)
    for path, link in links.items():
        if not os.path.lexists(new_root + path):
            os.makedirs(os.path.dirname(new_root + path), 0o755, exist_ok=True)
            os.symlink(link, new_root + path)
    scratch = new_root + INNER_SCRATCH
    os.makedirs(scratch, 0o755, exist_ok=True)
    os.makedirs(new_root + "/proc", 0o555, exist_ok=True)
    linux.read_only_tree(new_root)
    # A proc instance must already be visible for the kernel to mount its own; it covers this one.
    _bind(host_proc, new_root + "/proc", is_dir=True)
    owner = spec.uid if spec.uid is not None else os.getuid()
    size_mb = max(16, spec.limits.max_file_mb * 2)
    options = f"size={size_mb}m,nr_inodes={_SCRATCH_FILES},mode=0700,uid={owner},gid={owner}"
    linux.mount("tmpfs", scratch, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, options)
    linux.pivot_root_into(new_root)


def _open_sources(spec: KernelSpec) -> list[tuple[str, int, bool]]:
    """(path in the new root, O_PATH handle, is a directory) for everything bound into it.

    Opened in the new mount namespace (a bind source must belong to it) and before the new root covers
    the pool's directory; paths inside an already-bound directory are skipped.
    """
    wanted = [(path, path) for path in sorted({*spec.expose, *_SYSTEM_PATHS, *_DEVICES})]
    wanted.append((INNER_EXCHANGE, spec.exchange_dir))
    sources: list[tuple[str, int, bool]] = []
    bound: list[str] = []
    for target, path in wanted:
        if (os.path.islink(path) and path in _SYSTEM_PATHS) or not os.path.exists(path):
            continue
        if any(target == done or target.startswith(done.rstrip("/") + "/") for done in bound):
            continue
        handle = os.open(path, os.O_PATH | os.O_CLOEXEC)
        sources.append((target, handle, os.path.isdir(path)))
        bound.append(target)
    return sources


def _bind(handle: int, target: str, *, is_dir: bool) -> None:
    if is_dir:
        os.makedirs(target, 0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), 0o755, exist_ok=True)
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
    linux.mount(f"/proc/self/fd/{handle}", target, None, linux.MS_BIND | linux.MS_REC)
    os.close(handle)


def finish_in_pid_namespace() -> None:
    """In PID 1 of the new namespace: a private /proc, then lock every mount behind a second user namespace.

    Raises:
        OSError: the lock could not be applied.
    """
    uid, gid = os.getuid(), os.getgid()
    linux.mount("proc", "/proc", "proc", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC)
    # The limit counts every user namespace made under this one: the lock below is the last, so neither
    # the kernel nor its children can make one of their own (and with it the power to mount a tmpfs
    # past the scratch quotas).
    linux.write_file("/proc/sys/user/max_user_namespaces", "1")
    linux.unshare(linux.CLONE_NEWUSER | linux.CLONE_NEWNS)
    linux.map_identity(uid, gid)
    linux.drop_capabilities()


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
        linux.unshare(linux.CLONE_NEWUSER | linux.CLONE_NEWNS | linux.CLONE_NEWNET | linux.CLONE_NEWPID)
        linux.map_identity(uid, gid)
        linux.mount("none", "/", None, linux.MS_REC | linux.MS_PRIVATE)
        linux.read_only_tree("/")
    except OSError as exc:
        os.write(report, str(exc).encode())
        return 1
    return 0
