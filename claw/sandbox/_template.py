"""The kernel template process: imports numpy, scipy, matplotlib, ipykernel and the tool API once, then
forks one ready-to-bind kernel per request from the host, so a new kernel costs a fork, not an import.

Run as `python -m claw.sandbox._template`. It is deliberately single-threaded and has no event loop,
no ZeroMQ context and no open sockets when it forks: the kernel creates all of those after the fork.
Requests arrive on stdin and events leave on stdout, as length-prefixed msgpack frames (`_wire`).
A short-lived launcher confines itself and forks the ipykernel, which is PID 1 of its own PID namespace
when confined, then exits; the template (a child subreaper) adopts and reaps each kernel and reports its
exit, dies with the host (parent-death signal), and kills every kernel when its stdin closes.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import select
import signal
import sys
import threading
from types import FrameType

import msgspec

from claw.sandbox import _confine, _lean, _outcap
from claw.wire.template import (
    HEADER_SIZE,
    Exited,
    FromTemplate,
    Hello,
    KernelSpec,
    Spawned,
    SpawnFailed,
    SpawnRequest,
    frame,
    read_frame_length,
)

__all__ = ["main"]

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(SpawnRequest)


class _LIFELINE:
    """The read end of the template's lifeline pipe, inherited by every kernel."""

    fd = -1


_KERNEL_ARGS = ("--HistoryManager.enabled=False", "--IPKernelApp.quiet=True", "--Application.log_level=40")


def _check(result: int, what: str) -> None:
    if result != 0:
        raise OSError(f"{what} failed")


def _die_with_parent() -> None:
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _preimport() -> None:
    # Everything a kernel needs is imported here once, so forked kernels share these pages.
    import matplotlib

    matplotlib.use("Agg")
    import ipykernel.debugger

    ipykernel.debugger._is_debugpy_available = False  # the debugger costs 50 MB and is never used
    import ipykernel.ipkernel
    import ipykernel.kernelapp
    import ipykernel.zmqshell
    import IPython.core.completer
    import matplotlib.pyplot
    import numpy
    import PIL.Image
    import scipy.ndimage
    import scipy.spatial

    import claw.tools._reuse
    import claw.tools._runtime

    del IPython, matplotlib, numpy, PIL, scipy
    claw.tools._runtime.preload()
    ipykernel.ipkernel.sys = _SysWithoutModules()  # type: ignore[attr-defined,assignment]
    _precreate_shell()
    _preinitialize_app()
    gc.collect()
    gc.freeze()


class _SysWithoutModules:
    """`sys` as `ipykernel.ipkernel` sees it, with an empty `modules`.

    IPythonKernel's constructor lists every imported module's file for its debugger (off here). Reading
    ~1300 module objects bumps their reference counts, which copies their pages into each forked kernel:
    about 8 MB of private memory per kernel for a list nobody reads.
    """

    modules: dict[str, object] = {}  # noqa: RUF012 - deliberately empty and shared

    def __getattr__(self, name: str) -> object:
        return getattr(sys, name)


_PER_KERNEL_STEPS = (
    "init_connection_file",
    "init_poller",
    "init_sockets",
    "init_heartbeat",
    "write_connection_file",
    "init_io",
    "init_signal",
    "init_kernel",
    "init_path",
    "init_shell",
    "init_gui_pylab",
    "init_extensions",
    "init_code",
)
"""`IPKernelApp.initialize` (ipykernel 7) after its kernel-independent part, which the template runs once."""


def _preinitialize_app() -> None:
    """Parse the kernel options and load IPython's configuration once, before forking: the same for every
    kernel, and about 5 MB of private memory in each fork when done there."""
    from ipykernel.kernelapp import IPKernelApp
    from IPython.core.application import BaseIPythonApplication

    app = IPKernelApp.instance()
    BaseIPythonApplication.initialize(app, list(_KERNEL_ARGS))  # type: ignore[no-untyped-call]
    app.default_extensions = []  # storemagic persists variables to disk: never wanted here
    app.init_pdb()  # type: ignore[no-untyped-call]
    app.init_blackhole()  # type: ignore[no-untyped-call]


def _precreate_shell() -> None:
    """Build the kernel's InteractiveShell singleton before forking, so every kernel shares its pages.

    The shell holds no thread, socket or event loop (history is off); ipykernel's kernel picks the
    singleton up in each fork and wires its own session and sockets into it.
    """
    from ipykernel.compiler import XCachingCompiler
    from ipykernel.zmqshell import ZMQInteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    shell = ZMQInteractiveShell.instance(config=config, compiler_class=XCachingCompiler)
    # The first cell pays for IPython's lazily built machinery (input transformers, compiler caches);
    # paying it here shares it with every kernel instead of copying it into each.
    shell.run_cell("import claw.tools._runtime", store_history=False, silent=True)  # type: ignore[no-untyped-call]


class _Template:
    """The request loop and the table of live kernels (kernel pid → process group)."""

    def __init__(self) -> None:
        self.kernels: dict[int, int] = {}
        self.buffer = b""
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        self.wake = wake_read
        # Kernels watch the read end; it reaches EOF when this process exits, however it exits.
        self.lifeline, self._lifeline_write = os.pipe()
        signal.set_wakeup_fd(wake_write)
        signal.signal(signal.SIGCHLD, self._ignore)

    @staticmethod
    def _ignore(signum: int, frame: FrameType | None) -> None:
        """The handler only exists so that SIGCHLD wakes `select` through the wakeup fd."""

    def send(self, message: FromTemplate) -> None:
        os.write(1, frame(_encoder.encode(message)))

    def run(self) -> None:
        while True:
            ready, _, _ = select.select([0, self.wake], [], [])
            if self.wake in ready:
                os.read(self.wake, 4096)
                self.reap()
            if 0 in ready and not self.read_requests():
                return

    def read_requests(self) -> bool:
        chunk = os.read(0, 65536)
        if not chunk:
            return False
        self.buffer += chunk
        while len(self.buffer) >= HEADER_SIZE:
            length = read_frame_length(self.buffer[:HEADER_SIZE])
            if len(self.buffer) < HEADER_SIZE + length:
                break
            body = self.buffer[HEADER_SIZE : HEADER_SIZE + length]
            self.buffer = self.buffer[HEADER_SIZE + length :]
            self.send(self.spawn(_decoder.decode(body).spec))
        return True

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.kernels.pop(pid, None) is not None:
                self.send(Exited(pid=pid, status=status))

    def spawn(self, spec: KernelSpec) -> FromTemplate:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            os.close(self._lifeline_write)
            _launcher(spec, write_end, self.wake)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as reader:
            answer = reader.read().decode(errors="replace")
        if answer.startswith("ok "):
            kernel_pid = int(answer[3:])
            self.kernels[kernel_pid] = pid
            return Spawned(kernel_id=spec.kernel_id, pid=pid, kernel_pid=kernel_pid)
        return SpawnFailed(kernel_id=spec.kernel_id, message=answer.removeprefix("err ") or "launcher died")

    def kill_all(self) -> None:
        for kernel_pid, group in list(self.kernels.items()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(kernel_pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)


def _redirect_stdio(spec: KernelSpec) -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open(
        os.path.join(spec.exchange_dir, "kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644
    )
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)


def _launcher(spec: KernelSpec, report: int, wake: int) -> None:
    """The forked launcher: confine, fork the kernel, tell the template its pid, exit.

    The kernel is then re-parented to the template (a child subreaper), so no process stays behind per
    kernel just to wait for it.
    """
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.close(wake)
        os.setsid()
        _redirect_stdio(spec)
        _confine.join_cgroups(spec.cgroups)
        sockets = _confine.prebind_sockets(spec) if spec.confined else {}
        if spec.confined:
            _confine.enter_namespaces(spec)
        _confine.apply_limits(spec.limits)
        kernel_pid = os.fork()
    except BaseException as exc:  # noqa: BLE001 - a forked child reports every failure and exits
        os.write(report, f"err {type(exc).__name__}: {exc}".encode())
        os._exit(70)
    if kernel_pid == 0:
        os.close(report)
        _kernel_main(spec, sockets)
    os.write(report, f"ok {kernel_pid}".encode())
    os._exit(0)


def _kernel_environment(spec: KernelSpec) -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": spec.scratch_dir,
        "TMPDIR": spec.scratch_dir,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": os.path.join(spec.scratch_dir, ".mpl"),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "CLAW_KERNEL_DIR": spec.inner_dir,
    }


def _watch_lifeline(lifeline: int) -> None:
    os.read(lifeline, 1)  # returns at EOF: the template is gone, and so must this kernel be
    os._exit(0)


def _kernel_main(spec: KernelSpec, sockets: dict[int, int]) -> None:
    """The kernel process: finish confinement, clear the environment, run ipykernel until killed.

    A confined kernel's exchange directory is read-only: it binds on the `sockets` made before
    confinement, and starts no heartbeat (the host never uses it).
    """
    try:
        _confine.close_inherited_files({0, 1, 2, _LIFELINE.fd})
        if spec.confined:
            _confine.finish_in_pid_namespace()  # unshare(2) of a user namespace needs one thread
        # Not a parent-death signal: the parent is the launcher, which exits at once.
        threading.Thread(target=_watch_lifeline, args=(_LIFELINE.fd,), daemon=True).start()
        os.chdir(spec.scratch_dir)
        os.environ.clear()
        os.environ.update(_kernel_environment(spec))
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.connection_file = os.path.join(spec.inner_dir, "kernel.json")
        if sockets:
            _confine.adopt_sockets(app, sockets)
        for step in _PER_KERNEL_STEPS:
            if not (sockets and step == "init_heartbeat"):
                getattr(app, step)()
        app.shell.kernel = app.kernel  # type: ignore[union-attr]  # the shell was built in the template, before this kernel existed
        _outcap.install(app.shell)
        _lean.install(app)
        app.start()  # type: ignore[no-untyped-call]
    except BaseException as exc:  # noqa: BLE001 - the kernel's last words go to its log, then it exits
        os.write(2, f"kernel failed: {type(exc).__name__}: {exc}\n".encode())
        os._exit(71)
    os._exit(0)


def main() -> None:
    """Entry point of the template process."""
    _die_with_parent()
    _check(ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1), "PR_SET_CHILD_SUBREAPER")
    reason = _confine.probe()
    _preimport()
    template = _Template()
    _LIFELINE.fd = template.lifeline
    template.send(Hello(pid=os.getpid(), namespaces=not reason, reason=reason))
    try:
        template.run()
    finally:
        template.kill_all()
    sys.exit(0)


if __name__ == "__main__":
    main()
