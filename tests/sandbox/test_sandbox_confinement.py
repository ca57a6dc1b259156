"""Confinement modes: how the pool decides, and the bubblewrap outer layer."""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio
import psutil
import pytest

from claw.config import SandboxConfig
from claw.errors import ConfinementUnavailable
from claw.sandbox import KernelPool
from claw.sandbox._host import check_readable_by_kernels, needed_paths
from claw.sandbox._launch import decide_confinement
from claw.wire.template import Hello
from tests.sandbox.conftest import TEST_CONFIG, make_setup

WORKS = Hello(pid=1, namespaces=True)
MISSING = Hello(pid=1, namespaces=False, reason="[Errno 1] Operation not permitted")


@pytest.mark.parametrize(
    ("config", "hello", "confined"),
    [
        (SandboxConfig(), WORKS, True),
        (SandboxConfig(confinement="bwrap"), WORKS, True),
        (SandboxConfig(unsafe_no_confinement=True), WORKS, True),
        (SandboxConfig(unsafe_no_confinement=True), MISSING, False),
        (SandboxConfig(confinement="none", unsafe_no_confinement=True), WORKS, False),
    ],
)
def test_decision(config: SandboxConfig, hello: Hello, confined: bool) -> None:
    assert decide_confinement(config, hello) is confined


@pytest.mark.parametrize(
    "config", [SandboxConfig(), SandboxConfig(confinement="bwrap", unsafe_no_confinement=True)]
)
def test_refuses_without_namespaces(config: SandboxConfig) -> None:
    with pytest.raises(ConfinementUnavailable, match="unsafe-no-confinement") as caught:
        decide_confinement(config, MISSING)
    assert "Operation not permitted" in caught.value.message


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed (make system-deps)")
async def test_bwrap_outer_layer_runs_confined_kernels(frames_dir: Path) -> None:
    config = SandboxConfig(confinement="bwrap", memory_mb=TEST_CONFIG.memory_mb, max_processes=48)
    async with KernelPool(config, size=1) as pool:
        assert pool.template_pid is not None
        pid = pool.template_pid
        assert await anyio.to_thread.run_sync(lambda: psutil.Process(pid).parent().name()) == "bwrap"
        async with pool.checkout(make_setup(frames_dir)) as kernel:
            shape = await kernel.execute("print(InputImages[0].array.shape)", timeout=30)
            write = await kernel.execute("open('/tmp/claw-bwrap-test', 'w')", timeout=30)
            net = await kernel.execute(
                "import socket\nsocket.create_connection(('127.0.0.1', 9))", timeout=30
            )
    assert shape.stdout == "(24, 32, 3)\n"
    assert write.error is not None and "No such file or directory" in write.error.evalue  # no /tmp at all
    assert net.error is not None and "unreachable" in net.error.evalue
    assert not await anyio.Path("/tmp/claw-bwrap-test").exists()


def test_refuses_an_interpreter_its_unprivileged_uid_cannot_read(tmp_path: Path) -> None:
    unreadable = tmp_path / "venv"
    unreadable.mkdir(mode=0o700)
    readable = tmp_path / "lib"
    readable.mkdir(mode=0o755)
    check_readable_by_kernels((str(readable),))
    with pytest.raises(ConfinementUnavailable, match=r"chmod -R o\+rX .*venv") as caught:
        check_readable_by_kernels((str(readable), str(unreadable)))
    assert "unprivileged" in caught.value.message


def test_needed_paths_never_include_the_checkout_or_root() -> None:
    paths = needed_paths()
    checkout = str(Path(__file__).resolve().parents[2])
    assert "/" not in paths and checkout not in paths
    assert any(path.endswith("/claw") for path in paths)
