"""The hostile-cell corpus: cells that try to write files, recover builtins, introspect frames, use
ctypes, spawn processes, open sockets, read secrets, and exhaust processes, memory, output or time.

Every cell runs three times over: the AST policy must reject it (unless it is plain Python that only the
limits can stop); it is then run WITHOUT the AST check in a confined kernel, and again as the cell of a
real episode (scripted model, AST check off), where the OS confinement alone must contain it. For each
run: the host is unchanged (no file in a world-writable canary directory, no connection to a listening
TCP port, no secret in the output), the observation says clearly what happened, and the pool keeps
serving episodes.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest
import pytest_asyncio

from claw.sandbox import KernelPool, check_cell
from claw.wire.kernel import CellResult
from tests.sandbox.conftest import TEST_CONFIG, make_setup, pool_in_task, run_as_episode

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")

RO = r"Read-only file system"
GONE = r"No such file or directory"
BLOCKED = rf"{RO}|{GONE}"
"""A write to a host path: the path does not exist in the kernel's filesystem, or that is read-only."""
NO_PROGRAM = r"No such file or directory|status [1-9]"
"""No program to start: the kernel's filesystem has no shell and no binaries."""
NET = r"Network is unreachable|Connection refused|Cannot assign requested address"


@dataclass(frozen=True)
class Hostile:
    name: str
    code: str
    expect: str
    """Regex the observation (status, output, error) must match."""
    policy_rejects: bool = True
    timeout: float = 60.0
    """The cell timeout: long, so that a loaded machine never turns a cell's error into a timeout; cells
    whose containment IS the timeout get `SHORT`."""


SHORT = 3.0

CORPUS = [
    # --- file writes outside scratch, through library writers
    Hostile("np_save", "np.save(CANARY + '.npy', np.zeros(3))", BLOCKED),
    Hostile("np_tofile", "np.zeros(3).tofile(CANARY)", BLOCKED),
    Hostile("np_savetxt", "np.savetxt(CANARY, np.zeros(3))", BLOCKED),
    Hostile("np_savez", "np.savez(CANARY, a=np.zeros(3))", BLOCKED),
    Hostile("np_memmap", "np.memmap(CANARY, dtype='uint8', mode='w+', shape=(4,))", BLOCKED),
    Hostile(
        "np_open_memmap", "np.lib.format.open_memmap(CANARY, mode='w+', dtype='u1', shape=(2,))", BLOCKED
    ),
    Hostile(
        "scipy_savemat",
        "import scipy.io\nscipy.io.savemat(CANARY, {'a': np.zeros(2)})",
        BLOCKED,
    ),
    Hostile(
        "scipy_wavfile",
        "from scipy.io import wavfile\nwavfile.write(CANARY, 8000, np.zeros(8, np.int16))",
        BLOCKED,
    ),
    Hostile("plt_savefig", "plt.plot([1, 2])\nplt.savefig(CANARY + '.png')", BLOCKED),
    Hostile(
        "pil_save",
        "from PIL import Image\nImage.new('RGB', (4, 4)).save(CANARY + '.png')",
        BLOCKED,
    ),
    Hostile("open_write", "open(CANARY, 'w').write('x')", BLOCKED),
    Hostile("pathlib_write", "import pathlib\npathlib.Path(CANARY).write_text('x')", BLOCKED),
    Hostile("shutil_copy", "import shutil\nshutil.copy('/etc/hostname', CANARY)", BLOCKED),
    Hostile("write_runtime_dir", "open('../../escape.txt', 'w')", RO),
    Hostile(
        "disk_fill_scratch", "f = open('big.bin', 'wb')\nf.write(b'0' * (64 * 1024 ** 2))", r"File too large"
    ),
    # --- builtins recovery
    Hostile(
        "subclasses_system",
        "w = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0]\n"
        "print('status', w.__init__.__globals__['system']('touch ' + CANARY))",
        NO_PROGRAM,
    ),
    Hostile(
        "builtins_open",
        "b = __builtins__\nf = b.open if hasattr(b, 'open') else b['open']\nf(CANARY, 'w')",
        BLOCKED,
    ),
    Hostile("dunder_import", "print('status', __import__('os').system('touch ' + CANARY))", NO_PROGRAM),
    Hostile(
        "getattr_chain",
        "getattr(getattr(np, 'lib'), 'format').open_memmap(CANARY, mode='w+', shape=(2,))",
        BLOCKED,
    ),
    Hostile("exec_string", "exec(\"import os\\nprint('status', os.system('touch ' + CANARY))\")", NO_PROGRAM),
    Hostile("compile_code", "exec(compile('open(CANARY, \"w\")', 'x', 'exec'))", BLOCKED),
    Hostile(
        "ipython_system",
        "get_ipython().system('touch ' + CANARY)",
        NO_PROGRAM + "|out of pty devices|not found",
    ),
    Hostile("ipython_writefile", "get_ipython().run_cell_magic('writefile', CANARY, 'x')", BLOCKED),
    Hostile("vars_builtins", "vars(vars()['__builtins__'])['open'](CANARY, 'w')", BLOCKED),
    # --- frame, generator and coroutine introspection
    Hostile(
        "generator_frame", "gen = (x for x in [1])\ngen.gi_frame.f_builtins['open'](CANARY, 'w')", BLOCKED
    ),
    Hostile(
        "traceback_frame",
        "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    fr = e.__traceback__.tb_frame\n"
        "    fr.f_builtins['open'](CANARY, 'w')",
        BLOCKED,
    ),
    Hostile(
        "coroutine_frame",
        "async def c():\n    pass\nco = c()\nb = co.cr_frame.f_builtins\nco.close()\nb['open'](CANARY, 'w')",
        BLOCKED,
    ),
    Hostile("globals_write", "globals()['__builtins__'].open(CANARY, 'w')", BLOCKED),
    # --- ctypes
    Hostile(
        "ctypes_system",
        "import ctypes\nprint('status', ctypes.CDLL(None).system(('touch ' + CANARY).encode()))",
        NO_PROGRAM,
    ),
    Hostile(
        "ctypes_remount_rw",
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "print('remount', libc.mount(None, b'/', None, 32 | 4096, None), ctypes.get_errno())\n"
        "open(CANARY, 'w')",
        BLOCKED,
    ),
    Hostile(
        "ctypes_nested_namespace",
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "print('unshare', libc.unshare(0x10000000 | 0x00020000))\n"
        "print('mount', libc.mount(b'tmpfs', CANARY_DIR.encode(), b'tmpfs', 0, None))\n"
        "open(CANARY, 'w').write('only in my own namespace')\nprint('wrote', os.listdir(CANARY_DIR))",
        r"unshare",
    ),
    Hostile(
        "ctypes_mount_past_scratch_quota",
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "mounted = libc.mount(b'none', b'/claw/scratch', b'tmpfs', 0, b'nr_inodes=0')\n"
        "print('mount', mounted, ctypes.get_errno())\n"
        "for i in range(5000):\n    open(f'/claw/scratch/f{i}', 'w').close()",
        r"mount -1 1\b.*No space left on device",
    ),
    Hostile(
        "ctypes_child_user_namespace",
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\npid = os.fork()\nif pid == 0:\n"
        "    os._exit(0 if libc.unshare(0x10000000 | 0x00020000) == 0 else ctypes.get_errno())\n"
        "print('child made a user namespace:', os.waitpid(pid, 0)[1] == 0)",
        r"child made a user namespace: False",
    ),
    # --- process spawning
    Hostile(
        "subprocess_run",
        "import subprocess\nprint(subprocess.run(['touch', CANARY], capture_output=True, text=True).stderr)",
        NO_PROGRAM,
    ),
    Hostile("os_system", "import os\nprint('status', os.system('touch ' + CANARY))", NO_PROGRAM),
    Hostile(
        "os_fork_exec",
        "import os\npid = os.fork()\nif pid == 0:\n"
        "    try:\n        os.execv('/usr/bin/touch', ['touch', CANARY])\n"
        "    finally:\n        os._exit(127)\nprint('child status', os.waitpid(pid, 0)[1])",
        r"child status [1-9]",
    ),
    Hostile(
        "asyncio_subprocess",
        "import asyncio\nproc = await asyncio.create_subprocess_exec('touch', CANARY, stderr=-1)\n"
        "print((await proc.communicate())[1].decode())",
        NO_PROGRAM,
    ),
    Hostile(
        "multiprocessing",
        "import multiprocessing as mp\np = mp.get_context('fork').Process(target=open, args=(CANARY, 'w'))\n"
        "p.start()\np.join()\nprint('exitcode', p.exitcode)",
        r"exitcode 1|^timeout",
    ),
    Hostile("kill_runner", "import os\nos.kill(RUNNER_PID, 9)", r"ProcessLookupError"),
    Hostile("kill_everything", "import os\nos.kill(-1, 9)\nprint('sent')", r"sent|No such process"),
    # --- sockets
    Hostile(
        "tcp_loopback_port", "import socket\nsocket.create_connection(('127.0.0.1', PORT), timeout=2)", NET
    ),
    Hostile("tcp_ipv6_loopback", "import socket\nsocket.create_connection(('::1', PORT), timeout=2)", NET),
    Hostile("tcp_outside", "import socket\nsocket.create_connection(('8.8.8.8', 53), timeout=2)", NET),
    Hostile(
        "http_loopback",
        "import urllib.request\nurllib.request.urlopen(f'http://127.0.0.1:{PORT}/', timeout=2)",
        NET,
    ),
    Hostile("dns_lookup", "import socket\nsocket.getaddrinfo('example.com', 80)", r"gaierror|Errno"),
    # --- secrets in the environment and under the runner's home
    Hostile("env_dump", "import os\nprint(dict(os.environ))", r"CLAW_KERNEL_DIR"),
    Hostile("proc_environ", "print(open('/proc/1/environ').read())", r"PATH="),
    Hostile("parent_environ", "import os\nprint(open(f'/proc/{os.getppid()}/environ').read())", GONE),
    Hostile("home_secret_file", "print(open(SECRET_FILE).read())", GONE),
    Hostile("home_listing", "import os\nprint('home:', os.listdir(HOME))", r"home: \["),
    Hostile("ssh_key", "print(open(HOME + '/.ssh/id_rsa').read())", GONE),
    Hostile("etc_shadow", "print('shadow:', repr(open('/etc/shadow').read()))", GONE),
    Hostile(
        "other_kernels",
        "import os\nprint('claw:', sorted(os.listdir(os.path.dirname(os.getcwd()))))",
        r"claw: \['exchange', 'scratch'\]",
    ),
    # --- the operator's terminal: output, errors, names and captions reach `claw sandbox run` and
    # `claw transcript`; none may carry a control sequence (window title, clipboard write, screen clear)
    Hostile(
        "terminal_escapes",
        "Evil = type('Evil\\x1b]52;c;cHduZWQ=\\x07', (Exception,), {})\n"
        "print('title\\x1b]0;pwned\\x07 clear\\x1b[2J csi8\\x9b31m bell\\x07 hidden\\rshown')\n"
        "show(np.zeros((8, 8, 3), np.uint8), caption='cap\\x1b]0;t\\x07tion')\n"
        "raise Evil('boom\\x1b[1;1H')",
        r"\A(?!.*[\x00-\x08\x0b-\x1f\x7f-\x9f]).*title clear csi831m bell hidden\nshown.*boom",
        policy_rejects=False,
    ),
    # --- exhaustion
    Hostile(
        "fork_bomb",
        "import os\nwhile True:\n    os.fork()",
        r"Resource temporarily unavailable|timeout|died",
        timeout=SHORT,
    ),
    Hostile(
        "thread_bomb",
        "import threading\nfor i in range(1000):\n"
        "    threading.Thread(target=threading.Event().wait).start()",
        r"can't start new thread|Resource temporarily unavailable",
    ),
    Hostile("memory_bomb", "x = bytearray(8 * 1024 ** 3)", r"MemoryError", policy_rejects=False),
    Hostile(
        "memory_bomb_gradual",
        "chunks = []\nwhile True:\n    chunks.append(np.ones(50_000_000))",
        r"MemoryError",
        policy_rejects=False,
    ),
    Hostile(
        "infinite_output",
        "while True:\n    print('spam' * 1000)",
        r"^timeout",
        policy_rejects=False,
        timeout=SHORT,
    ),
    Hostile("infinite_loop", "while True:\n    pass", r"^timeout", policy_rejects=False, timeout=SHORT),
    Hostile(
        "ignores_interrupt",
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
        r"^died.*killed",
        timeout=SHORT,
    ),
]


@dataclass
class Host:
    canary_dir: Path
    secret: str
    secret_file: Path
    port: int
    connections: list[int]


@pytest.fixture(scope="module")
def host_files() -> Iterator[tuple[Path, str, Path]]:
    secret = secrets.token_hex(16)
    os.environ["CLAW_HOSTILE_SECRET"] = secret
    secret_file = Path.home() / f".claw-hostile-secret-{secret[:6]}"
    secret_file.write_text(secret)
    secret_file.chmod(0o600)
    with tempfile.TemporaryDirectory(prefix="claw-canary-") as canary:
        Path(canary).chmod(0o777)  # world-writable: only the read-only mount can stop a write
        yield Path(canary), secret, secret_file
    secret_file.unlink()
    del os.environ["CLAW_HOSTILE_SECRET"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def host(host_files: tuple[Path, str, Path]) -> AsyncIterator[Host]:
    connections: list[int] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    canary_dir, secret, secret_file = host_files
    async with server:
        yield Host(canary_dir, secret, secret_file, port, connections)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hostile_pool(host: Host) -> AsyncIterator[KernelPool]:
    """Started after the secret is in the runner's environment."""
    opened = KernelPool(TEST_CONFIG, size=3, max_stdout_chars=600)
    async with pool_in_task(opened):
        yield opened


def _prelude(host: Host) -> str:
    values = {
        "CANARY_DIR": str(host.canary_dir),
        "CANARY": str(host.canary_dir / "pwned"),
        "PORT": host.port,
        "RUNNER_PID": os.getpid(),
        "SECRET_FILE": str(host.secret_file),
        "HOME": str(Path.home()),
    }
    return "".join(f"{name} = {value!r}\n" for name, value in values.items())


def _observation(result: CellResult) -> str:
    parts = [result.status, result.stdout, result.stderr]
    if result.error is not None:
        parts += [result.error.ename, result.error.evalue, result.error.traceback]
    return "\n".join(parts)


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 40
    assert len({cell.name for cell in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("cell", [c for c in CORPUS if c.policy_rejects], ids=lambda c: c.name)
def test_policy_rejects_hostile_cell(cell: Hostile) -> None:
    violation = check_cell(cell.code)
    assert violation is not None, f"{cell.name} passed the AST policy"
    assert violation.message and violation.rule


@MODULE_LOOP
@pytest.mark.parametrize("cell", CORPUS, ids=lambda c: c.name)
async def test_confinement_contains_cell_without_ast_check(
    cell: Hostile, hostile_pool: KernelPool, host: Host, frames_dir: Path
) -> None:
    async with hostile_pool.checkout(make_setup(frames_dir)) as kernel:
        prelude = await kernel.execute(_prelude(host), timeout=10)
        assert prelude.status == "ok", prelude.error
        result = await kernel.execute(cell.code, timeout=cell.timeout)
    assert len(result.stdout) <= 700
    await _assert_contained(cell, _observation(result), host)


@MODULE_LOOP
@pytest.mark.parametrize("cell", CORPUS, ids=lambda c: c.name)
async def test_confinement_contains_cell_as_a_real_episode(
    cell: Hostile, hostile_pool: KernelPool, host: Host, frames_dir: Path
) -> None:
    async with hostile_pool.checkout(make_setup(frames_dir)) as kernel:
        observed = await run_as_episode(kernel, frames_dir, _prelude(host) + cell.code, timeout=cell.timeout)
    await _assert_contained(cell, observed, host)


async def _assert_contained(cell: Hostile, observed: str, host: Host) -> None:
    assert re.search(cell.expect, observed, re.DOTALL), observed[-1500:]
    assert [path async for path in anyio.Path(host.canary_dir).iterdir()] == []
    assert host.connections == []
    assert host.secret not in observed
    assert await anyio.Path(host.secret_file).read_text() == host.secret


@MODULE_LOOP
async def test_pool_keeps_serving_after_the_corpus(hostile_pool: KernelPool, frames_dir: Path) -> None:
    async with hostile_pool.checkout(make_setup(frames_dir)) as kernel:
        result = await kernel.execute("print(sum(range(10)))", timeout=10)
    assert result.stdout == "45\n"
    stats = hostile_pool.statistics()
    assert stats.replaced >= 2 * len(CORPUS) and stats.busy == 0
