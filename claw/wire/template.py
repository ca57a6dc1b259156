"""The frames the sandbox host and the kernel template process exchange over the template's stdin/stdout
(spawn requests, limits, spawn outcomes, exits).

Every record is a msgspec Struct; frames are length-prefixed msgpack. Nothing here is pickled and no
source code is generated from data: the template and the kernel only ever decode these types.
"""

from __future__ import annotations

import struct

import msgspec

__all__ = [
    "Exited",
    "FromTemplate",
    "Hello",
    "KernelSpec",
    "Limits",
    "SpawnFailed",
    "SpawnRequest",
    "Spawned",
    "frame",
    "read_frame_length",
]

_HEADER = struct.Struct(">I")
HEADER_SIZE = _HEADER.size


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """Resource limits applied to one kernel process tree."""

    memory_mb: int
    cpu_seconds: int
    max_processes: int
    max_file_mb: int
    max_open_files: int


class KernelSpec(msgspec.Struct, frozen=True, kw_only=True):
    """How the template must start one kernel."""

    kernel_id: str
    exchange_dir: str
    """Host path of the kernel's private directory (connection file, sockets, setup)."""
    inner_dir: str
    """The same directory as the kernel sees it (read-only when confined)."""
    scratch_dir: str
    """The kernel's writable working directory, as the kernel sees it."""
    confined: bool
    uid: int | None = None
    """Unprivileged uid (and gid) to run as; None keeps the template's uid."""
    limits: Limits
    expose: tuple[str, ...] = ()
    """Host paths a confined kernel sees, read-only, at the same path (the interpreter, its packages);
    nothing else of the host is in its filesystem."""
    cgroups: tuple[str, ...] = ()
    """Host paths of the cgroups the kernel joins (pids and memory caps on the kernel as a whole)."""


class SpawnRequest(msgspec.Struct, frozen=True, kw_only=True, tag="spawn"):
    """Host → template: fork one kernel."""

    spec: KernelSpec


class Hello(msgspec.Struct, frozen=True, kw_only=True, tag="hello"):
    """Template → host, once: ready to fork; whether namespaces work here."""

    pid: int
    namespaces: bool
    reason: str = ""


class Spawned(msgspec.Struct, frozen=True, kw_only=True, tag="spawned"):
    """Template → host: the kernel process exists (it binds its sockets shortly after)."""

    kernel_id: str
    pid: int
    """The launcher's pid: the id of the kernel's process group."""
    kernel_pid: int
    """The ipykernel process itself (the one to interrupt; adopted and reaped by the template)."""


class SpawnFailed(msgspec.Struct, frozen=True, kw_only=True, tag="spawn_failed"):
    """Template → host: the kernel could not be started."""

    kernel_id: str
    message: str


class Exited(msgspec.Struct, frozen=True, kw_only=True, tag="exited"):
    """Template → host: a kernel process is gone."""

    pid: int
    """The `kernel_pid` of the kernel."""
    status: int


FromTemplate = Hello | Spawned | SpawnFailed | Exited


def frame(payload: bytes) -> bytes:
    """Prefix `payload` with its 4-byte big-endian length."""
    return _HEADER.pack(len(payload)) + payload


def read_frame_length(header: bytes) -> int:
    """Decode a frame header produced by `frame`."""
    length: int = _HEADER.unpack(header)[0]
    return length
