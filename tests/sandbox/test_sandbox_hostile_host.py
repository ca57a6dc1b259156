"""Hostile cells against the rest of the host, from an outside review of a root host: an allowed module's
attribute chain to a subprocess or the builtins, root-only files and sockets, another run's bridge socket
and results, the pool's other kernels, the disk (exchange directory, scratch size and file count), memory
held by a kernel's processes together, and output floods that must neither grow the runner nor stretch
the cell time limit.

Each corpus cell is checked against the AST policy, then run with the AST check off in a confined kernel
and as the cell of a real episode; the host must be unchanged either way. Runs as root here (the kernels
still never do) and as a non-root user in test_sandbox_layouts.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import psutil
import pytest
import pytest_asyncio

from claw.config import SandboxConfig
from claw.sandbox import KernelPool, check_cell
from tests.sandbox.conftest import TEST_CONFIG, make_setup, pool_in_task, run_as_episode
from tests.sandbox.test_sandbox_hostile import GONE, NO_PROGRAM, RO, Hostile

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
FULL = r"No space left on device|File too large"
CHECKOUT = str(Path(__file__).resolve().parents[2])
"""The project checkout: run directories may sit in it; a kernel sees at most its `claw` package."""

HOST_CORPUS = [
    # --- an allowed module's attribute that is a module outside the allow-list
    Hostile(
        "chain_importlib_subprocess",
        "print(plt.importlib.import_module('subprocess').run(['id'], capture_output=True))",
        NO_PROGRAM,
    ),
    Hostile("chain_enum_builtins", "import enum\nprint(enum.bltns.open(ROOT_ONLY_FILE).read())", GONE),
    Hostile(
        "chain_logging_socket",
        "unix = plt.logging.handlers.socket.AF_UNIX\ns = plt.logging.handlers.socket.socket(unix)\n"
        "s.connect(HOST_SOCKET)\ns.sendall(b'act')",
        GONE,
    ),
    # --- root-only host files and sockets
    Hostile("root_only_file", "print(open(ROOT_ONLY_FILE).read())", GONE),
    Hostile("root_home", "import os\nprint(os.listdir('/root'))", r"\['\.pyenv'\]|\[\]|" + GONE),
    Hostile("tmp_listing", "import os\nprint(os.listdir('/tmp'))", GONE),
    Hostile("var_run_listing", "import os\nprint(os.listdir('/var/run'))", GONE),
    Hostile(
        "root_only_socket",
        "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect(HOST_SOCKET)\ns.sendall(b'act')",
        GONE,
    ),
    Hostile(
        "abstract_socket",
        "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('\\0' + ABSTRACT)\ns.sendall(b'act')",
        r"Connection refused",
    ),
    Hostile(
        "proc_host_root", "import os\nprint(os.listdir('/proc/1/root/tmp'))", GONE + "|Permission denied"
    ),
    # --- another run: its model bridge socket and its results (ground truth)
    Hostile(
        "other_run_bridge",
        "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect(OTHER_RUN + '/vlm.sock')\n"
        "s.sendall(b'POST /v1/ask HTTP/1.1\\r\\nContent-Length: 0\\r\\n\\r\\n')",
        GONE,
    ),
    Hostile("other_run_results", "print(open(OTHER_RUN + '/results.jsonl').read())", GONE),
    Hostile(
        "checkout_listing",
        "import os\nprint('extra', sorted(set(os.listdir(CHECKOUT)) - {'.venv', 'claw'}))",
        r"extra \[\]|" + GONE,
    ),
    # --- quotas on what the kernel may write
    Hostile("exchange_fill", "open('/claw/exchange/fill.bin', 'wb').write(b'0' * 2 ** 20)", RO),
    Hostile(
        "exchange_new_socket", "import socket\nsocket.socket(socket.AF_UNIX).bind('/claw/exchange/x')", RO
    ),
    Hostile(
        "scratch_fill_many_files",
        "for i in range(100):\n    with open(f'part{i}.bin', 'wb') as f:\n"
        "        f.write(b'0' * 4 * 2 ** 20)",
        FULL,
    ),
    Hostile(
        "scratch_file_count",
        "for i in range(100_000):\n    with open(f'f{i}', 'w'):\n        pass",
        FULL,
    ),
    Hostile("new_root_dir", "import os\nos.mkdir('/evil')", RO),
    # --- descriptors the kernel inherited from the template (its log file on the host disk)
    Hostile(
        "inherited_descriptors",
        "import os\nfound = []\nfor fd in os.listdir('/proc/self/fd'):\n    try:\n"
        "        found.append(os.readlink('/proc/self/fd/' + fd))\n    except OSError:\n        pass\n"
        "print('host files', sorted(p for p in found if p.startswith('/') and p != '/dev/null'"
        " and not p.startswith('/proc/')))",
        r"host files \[\]",
    ),
]


@dataclass
class OtherHost:
    secret: str
    root_only_file: Path
    host_socket: Path
    abstract: str
    other_run: Path
    contacts: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def private_dirs() -> Iterator[tuple[Path, Path]]:
    with (
        tempfile.TemporaryDirectory(prefix="claw-host-") as host,
        tempfile.TemporaryDirectory(prefix="claw-other-run-") as run,
    ):
        os.chmod(host, 0o700)
        yield Path(host), Path(run)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def other(private_dirs: tuple[Path, Path]) -> AsyncIterator[OtherHost]:
    host_dir, run_dir = private_dirs
    secret = secrets.token_hex(16)
    root_only = host_dir / "secret"
    await anyio.Path(root_only).write_text(secret)
    await anyio.Path(root_only).chmod(0o600)
    await anyio.Path(run_dir / "results.jsonl").write_text(f'{{"ground_truth": "{secret}"}}\n')
    found = OtherHost(secret, root_only, host_dir / "service.sock", f"claw-{secret[:8]}", run_dir)

    def contact(name: str):  # type: ignore[no-untyped-def]
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            found.contacts.append(name)
            writer.close()

        return serve

    servers = [
        await asyncio.start_unix_server(contact("root-only socket"), path=str(found.host_socket)),
        await asyncio.start_unix_server(contact("abstract socket"), path="\0" + found.abstract),
        await asyncio.start_unix_server(contact("other run's bridge"), path=str(run_dir / "vlm.sock")),
    ]
    yield found
    for server in servers:
        server.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def host_pool(other: OtherHost) -> AsyncIterator[KernelPool]:
    opened = KernelPool(TEST_CONFIG, size=3, max_stdout_chars=600)
    async with pool_in_task(opened):
        yield opened


def _prelude(other: OtherHost) -> str:
    values = {
        "ROOT_ONLY_FILE": str(other.root_only_file),
        "HOST_SOCKET": str(other.host_socket),
        "ABSTRACT": other.abstract,
        "OTHER_RUN": str(other.other_run),
        "CHECKOUT": CHECKOUT,
    }
    return "".join(f"{name} = {value!r}\n" for name, value in values.items())


async def _assert_contained(cell: Hostile, observed: str, other: OtherHost) -> None:
    assert re.search(cell.expect, observed, re.DOTALL), observed[-1500:]
    assert other.contacts == []
    assert other.secret not in observed
    assert await anyio.Path(other.root_only_file).read_text() == other.secret


@pytest.mark.parametrize("cell", [c for c in HOST_CORPUS if c.policy_rejects], ids=lambda c: c.name)
def test_policy_rejects_hostile_cell(cell: Hostile) -> None:
    assert check_cell(cell.code) is not None, f"{cell.name} passed the AST policy"


@MODULE_LOOP
@pytest.mark.parametrize("cell", HOST_CORPUS, ids=lambda c: c.name)
async def test_contained_without_ast_check(
    cell: Hostile, host_pool: KernelPool, other: OtherHost, frames_dir: Path
) -> None:
    async with host_pool.checkout(make_setup(frames_dir)) as kernel:
        prelude = await kernel.execute(_prelude(other), timeout=10)
        assert prelude.status == "ok", prelude.error
        result = await kernel.execute(cell.code, timeout=cell.timeout)
    observed = "\n".join([result.status, result.stdout, result.stderr, str(result.error)])
    await _assert_contained(cell, observed, other)


@MODULE_LOOP
@pytest.mark.parametrize("cell", HOST_CORPUS, ids=lambda c: c.name)
async def test_contained_as_a_real_episode(
    cell: Hostile, host_pool: KernelPool, other: OtherHost, frames_dir: Path
) -> None:
    async with host_pool.checkout(make_setup(frames_dir)) as kernel:
        observed = await run_as_episode(kernel, frames_dir, _prelude(other) + cell.code, timeout=cell.timeout)
    await _assert_contained(cell, observed, other)


@MODULE_LOOP
async def test_kernels_never_run_as_host_root(host_pool: KernelPool, frames_dir: Path) -> None:
    async with host_pool.checkout(make_setup(frames_dir)) as kernel:
        result = await kernel.execute("import os\nprint(os.getuid(), os.geteuid())", timeout=60)
        pid = kernel.process.kernel_pid  # type: ignore[attr-defined]
        uids = await anyio.to_thread.run_sync(lambda: psutil.Process(pid).uids())
    assert result.status == "ok", result.error
    assert 0 not in (uids.real, uids.effective, uids.saved)
    assert result.stdout.split() == [str(uids.real), str(uids.effective)]


OTHER_KERNEL_CELL = """
import json
info = json.load(open(OTHER_KERNEL_DIR + '/kernel.json'))
from jupyter_client import BlockingKernelClient
client = BlockingKernelClient()
client.load_connection_info(info)
client.start_channels()
client.execute_interactive('marker = 666', timeout=5)
"""


@MODULE_LOOP
async def test_another_kernel_is_out_of_reach(host_pool: KernelPool, frames_dir: Path) -> None:
    async with host_pool.checkout(make_setup(frames_dir)) as victim:
        assert (await victim.execute("marker = 1", timeout=60)).status == "ok"
        victim_dir = host_pool._launcher.kernel_dir(victim)  # type: ignore[arg-type]
        async with host_pool.checkout(make_setup(frames_dir)) as attacker:
            code = f"OTHER_KERNEL_DIR = {str(victim_dir)!r}\n" + OTHER_KERNEL_CELL
            attack = await attacker.execute(code, timeout=60)
        check = await victim.execute("print(marker)", timeout=60)
    assert attack.error is not None and "No such file or directory" in attack.error.evalue
    assert check.stdout == "1\n"


@MODULE_LOOP
async def test_a_gigabyte_print_never_reaches_the_runner(frames_dir: Path) -> None:
    runner = await anyio.to_thread.run_sync(psutil.Process)
    pool = KernelPool(SandboxConfig(memory_mb=4096, max_processes=48), size=1)  # room for a 1 GB string
    async with pool_in_task(pool), pool.checkout(make_setup(frames_dir)) as kernel:
        before = (await anyio.to_thread.run_sync(runner.memory_info)).rss
        result = await kernel.execute("print('start')\nprint('x' * 10 ** 9)\nprint('end')", timeout=300)
        html = "from IPython.display import HTML, display\ndisplay(HTML('<p>' * 10 ** 8))\nprint('shown')"
        shown = await kernel.execute(html, timeout=300)
        grown = (await anyio.to_thread.run_sync(runner.memory_info)).rss - before
    assert result.status == "ok", result.error
    assert result.stdout.startswith("start\n")
    assert result.stdout.endswith(
        "\nend\n[the cell wrote 1000000011 characters here; 999920011 from the middle were cut]\n"
    )
    # The host received only what the kernel let out (head and tail), not the gigabyte.
    assert 0 < result.stdout_cut_chars < 200_000 and len(result.stdout) < 5000
    assert shown.status == "ok" and shown.stdout == "shown\n", shown.error
    assert grown < 200 * 2**20, f"the runner grew by {grown / 2**20:.0f} MiB"


@MODULE_LOOP
async def test_time_limit_holds_whatever_the_cell_prints(host_pool: KernelPool, frames_dir: Path) -> None:
    flood = (
        "import sys\nwhile True:\n    sys.stdout.write('spam' * 10**5)\n    sys.stderr.write('eggs' * 10**5)"
    )
    async with host_pool.checkout(make_setup(frames_dir)) as kernel:
        result = await kernel.execute(flood, timeout=2)
    assert result.status in ("timeout", "died")
    # The limit plus the interrupt grace plus a wide margin for a slow loaded machine: the flood itself
    # never ends, so any bound proves the limit held.
    assert result.duration_s < 2 + 3 + 60
    assert len(result.stdout) < 1000


MEMORY_TOGETHER = """
import os, resource
# Each child stays under the per-process cap (what a fork of this kernel has left of it), four together
# do not fit the kernel's memory cgroup.
with open('/proc/self/status') as status:
    mapped = next(int(line.split()[1]) * 1024 for line in status if line.startswith('VmSize'))
size = min(700 * 2 ** 20, resource.getrlimit(resource.RLIMIT_AS)[0] - mapped - 64 * 2 ** 20)
children = []
for i in range(4):
    pid = os.fork()
    if pid == 0:
        try:
            block = bytearray(size)
            for offset in range(0, len(block), 4096):
                block[offset] = 1
            import time
            time.sleep(20)
        finally:
            os._exit(0)
    children.append(pid)
statuses = [os.waitpid(pid, 0)[1] for pid in children]
killed = sum(os.WIFSIGNALED(s) and os.WTERMSIG(s) == 9 for s in statuses)
print('killed', killed, 'of', size >> 20, 'MiB each')
"""


@pytest.mark.skipif(
    os.getuid() != 0 or not os.access("/sys/fs/cgroup", os.W_OK),
    reason="per-kernel memory cgroups need a writable cgroup hierarchy (root here)",
)
@MODULE_LOOP
async def test_processes_together_are_held_to_the_kernel_memory_cap(
    host_pool: KernelPool, frames_dir: Path
) -> None:
    assert host_pool.config.memory_mb == 1536
    async with host_pool.checkout(make_setup(frames_dir)) as kernel:
        result = await kernel.execute(MEMORY_TOGETHER, timeout=120)
    # Each child stays under the 1536 MB per-process cap; the four together do not fit the kernel's.
    assert re.search(r"killed [1-4] of [3-7]\d\d MiB", result.stdout) or result.status == "died", result
