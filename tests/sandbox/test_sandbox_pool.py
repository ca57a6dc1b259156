"""KernelPool end to end on real forked, confined kernels: cell results, the kernel API, limits,
timeouts, deaths, replacement, and that nothing leaks from one episode to the next."""

from __future__ import annotations

import gc
from pathlib import Path

import anyio
import anyio.abc
import psutil
import pytest

from claw.config import SandboxConfig
from claw.errors import ConfigError, KernelDied, SandboxError
from claw.sandbox import KernelPool
from tests.sandbox.conftest import TEST_CONFIG, make_setup

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_cell_output_variables_and_trailing_expression(pool: KernelPool, frames_dir: Path) -> None:
    async with pool.checkout(make_setup(frames_dir)) as kernel:
        result = await kernel.execute("x = np.arange(6).reshape(2, 3)\nprint('hi')\nint(x.sum())", timeout=30)
    assert result.status == "ok"
    assert result.stdout.splitlines() == ["hi", "15"]
    (summary,) = result.variables
    assert (summary.name, summary.type, summary.shape, summary.dtype) == ("x", "ndarray", (2, 3), "int64")
    assert (summary.min, summary.max) == (0.0, 5.0)


async def test_error_names_the_cell_line(pool: KernelPool, frames_dir: Path) -> None:
    async with pool.checkout(make_setup(frames_dir)) as kernel:
        result = await kernel.execute("y = 1\n\nz = undefined_name + y", timeout=30)
        again = await kernel.execute("print(y)", timeout=30)
    assert result.status == "error" and result.error is not None
    assert (result.error.ename, result.error.lineno) == ("NameError", 3)
    assert "\x1b[" not in result.error.traceback and "undefined_name" in result.error.traceback
    assert [v.name for v in result.variables] == ["y"]
    assert again.stdout == "1\n"


async def test_kernel_api_is_bound(pool: KernelPool, frames_dir: Path) -> None:
    code = (
        "print(len(InputImages), type(InputImages[:1]).__name__, InputImages[1].index, InputImages[1].size)\n"
        "print(InputImages[0].array.shape, InputImages[0].array.dtype, InputImages[1].timestamp_s)\n"
        "print(Metadata.is_video, Metadata.fps, Metadata.num_images, Metadata.extra['scene'])\n"
        "print(Metadata.answer_format, Metadata.options, Metadata.videos[0].name)\n"
        "print(tools.Geometry is Geometry, np.pi > 3, math.sqrt(4), plt.get_backend())\n"
    )
    async with pool.checkout(make_setup(frames_dir)) as kernel:
        result = await kernel.execute(code, timeout=30)
    assert result.status == "ok", result.error
    assert result.stdout.splitlines() == [
        "2 FrameList 10 (32, 24)",
        "(24, 32, 3) uint8 1.0",
        "True 10.0 2 scene-7",
        "letter ('red', 'green', 'blue') clip",
        "True True 2.0 Agg",
    ]


async def test_show_caps_images_and_answer_is_validated(pool: KernelPool, frames_dir: Path) -> None:
    async with pool.checkout(make_setup(frames_dir)) as kernel:
        shown = await kernel.execute(
            "show(InputImages[0], 'first')\nshow(np.ones((8, 8)))\nshow(InputImages[1])", timeout=30
        )
        wrong = await kernel.execute("ReturnAnswer('D')", timeout=30)
        right = await kernel.execute("ReturnAnswer('b')", timeout=30)
    assert [image.caption for image in shown.images] == ["first", ""]
    assert all(image.png.startswith(b"\x89PNG") for image in shown.images)
    assert shown.images_dropped == 1
    assert wrong.answer is not None and not wrong.answer.valid and "A, B, C" in wrong.answer.message
    assert right.answer is not None and (right.answer.valid, right.answer.text) == (True, "B")


async def test_long_output_keeps_head_and_tail(pool: KernelPool, frames_dir: Path) -> None:
    async with pool.checkout(make_setup(frames_dir)) as kernel:
        result = await kernel.execute("print('START' + 'x' * 20000 + 'END')", timeout=30)
    assert result.stdout.startswith("START") and result.stdout.rstrip().endswith("END")
    assert result.stdout_cut_chars > 19000
    assert len(result.stdout) < 600 and "characters cut" in result.stdout


async def test_timeout_interrupts_and_keeps_namespace(pool: KernelPool, frames_dir: Path) -> None:
    async with pool.checkout(make_setup(frames_dir)) as kernel:
        await kernel.execute("kept = 41", timeout=30)
        result = await kernel.execute("while True:\n    pass", timeout=1)
        after = await kernel.execute("print(kept + 1)", timeout=30)
    assert result.status == "timeout" and result.error is not None
    assert "interrupted" in result.error.evalue
    assert after.stdout == "42\n"


async def test_ignored_interrupt_kills_the_kernel(pool: KernelPool, frames_dir: Path) -> None:
    stubborn = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    async with pool.checkout(make_setup(frames_dir)) as kernel:
        # One cell (the kernel restores its interrupt handler for every cell), with time to reach the
        # `signal` call first even on a slow loaded machine: an earlier timeout is a plain interrupt.
        result = await kernel.execute(stubborn, timeout=3)
        with pytest.raises(KernelDied):
            await kernel.execute("1", timeout=5)
    assert result.status == "died" and result.error is not None
    assert "killed" in result.error.evalue


async def test_kernel_death_is_reported_and_replaced(pool: KernelPool, frames_dir: Path) -> None:
    died_before = pool.statistics().died
    async with pool.checkout(make_setup(frames_dir)) as kernel:
        result = await kernel.execute("import os\nos._exit(3)", timeout=30)
        with pytest.raises(KernelDied):
            await kernel.execute("1", timeout=5)
    assert result.status == "died" and result.error is not None and result.error.ename == "KernelDied"
    assert pool.statistics().died == died_before + 1
    async with pool.checkout(make_setup(frames_dir)) as kernel:
        assert (await kernel.execute("print('fine')", timeout=30)).stdout == "fine\n"


LEAK_SETUP = """
import os, threading, numpy
secret_var = 'episode-one'
numpy.mean = lambda *a, **k: 'patched'
os.environ['LEAKED'] = '1'
with open('leak.txt', 'w') as f:
    f.write('x')
keep_fd = os.open('leak.txt', os.O_RDONLY)
threading.Thread(target=lambda: threading.Event().wait(60), daemon=True).start()
print(os.getpid(), threading.active_count())
"""
LEAK_CHECK = """
import os, threading, numpy
print('secret_var' in dir(), numpy.mean([1, 3]), os.environ.get('LEAKED'), os.path.exists('leak.txt'))
print(sorted(os.listdir('/proc/self/fd')) == baseline_fds, threading.active_count() == baseline_threads)
"""


async def test_nothing_leaks_between_episodes(pool: KernelPool, frames_dir: Path) -> None:
    baseline = "import os, threading\nbaseline_fds = sorted(os.listdir('/proc/self/fd'))\n"
    baseline += "baseline_threads = threading.active_count()"
    async with pool.checkout(make_setup(frames_dir)) as first:
        await first.execute(baseline, timeout=30)
        setup = await first.execute(LEAK_SETUP, timeout=30)
        first_id = first.kernel_id
    async with pool.checkout(make_setup(frames_dir)) as second:
        await second.execute(baseline, timeout=30)
        check = await second.execute(LEAK_CHECK, timeout=30)
    assert setup.status == "ok", setup.error
    assert second.kernel_id != first_id
    assert check.stdout.splitlines() == ["False 2.0 None False", "True True"]


async def test_statistics_and_repr(pool: KernelPool, frames_dir: Path) -> None:
    async with pool.checkout(make_setup(frames_dir)):
        stats = pool.statistics()
        assert stats.busy == 1 and stats.confined
        assert "busy=1" in repr(pool) and "confined" in repr(pool)
    after = pool.statistics()
    assert after.busy == 0 and after.replaced + after.reused >= stats.replaced + stats.reused + 1
    assert after.idle + after.starting == after.size


async def test_confinement_none_needs_the_unsafe_flag() -> None:
    with pytest.raises(ConfigError, match="unsafe_no_confinement"):
        async with KernelPool(SandboxConfig(confinement="none"), size=1):
            pass


async def test_unconfined_pool_runs_cells(frames_dir: Path) -> None:
    config = SandboxConfig(confinement="none", unsafe_no_confinement=True, memory_mb=TEST_CONFIG.memory_mb)
    async with KernelPool(config, size=1) as unsafe:
        assert not unsafe.statistics().confined and "UNCONFINED" in repr(unsafe)
        async with unsafe.checkout(make_setup(frames_dir)) as kernel:
            result = await kernel.execute("print(InputImages[0].array.shape)", timeout=30)
    assert result.stdout == "(24, 32, 3)\n"
    with pytest.raises(SandboxError):
        async with unsafe.checkout(make_setup(frames_dir)):
            pass


async def test_failed_bootstrap_surfaces_at_the_first_cell(
    pool: KernelPool, frames_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("claw.sandbox._pool._INSTALL", "raise ValueError('bootstrap broke')")
    async with pool.checkout(make_setup(frames_dir)) as kernel:
        with pytest.raises(SandboxError, match="bootstrap broke"):
            await kernel.execute("print(1)", timeout=30)


def _kill_template(pid: int) -> list[psutil.Process]:
    """Kill the template process (psutil reads /proc, so this runs in a thread); return its kernels."""
    template = psutil.Process(pid)
    kernels: list[psutil.Process] = template.children()
    template.kill()
    return kernels


async def test_template_death_takes_its_kernels_and_fails_checkout_cleanly(frames_dir: Path) -> None:
    async with KernelPool(TEST_CONFIG, size=1) as lonely:
        assert lonely.template_pid is not None
        kernels = await anyio.to_thread.run_sync(_kill_template, lonely.template_pid)
        assert len(kernels) == 1
        _, alive = await anyio.to_thread.run_sync(lambda: psutil.wait_procs(kernels, timeout=10))
        assert alive == []
        with pytest.raises(SandboxError, match=r"broken|not running|exited"):
            async with lonely.checkout(make_setup(frames_dir)):
                pass


RELAY_CELL = """
import socket
from claw.tools import _client
path = _client.current_settings().socket
conn = socket.socket(socket.AF_UNIX)
conn.connect(path)
conn.sendall(b'ping')
print(path.startswith('/claw/exchange/'), conn.recv(16))
"""


async def test_perception_socket_reaches_a_confined_kernel_through_the_relay(
    pool: KernelPool, frames_dir: Path, tmp_path: Path
) -> None:
    private = tmp_path / "private"
    await anyio.Path(private).mkdir(mode=0o700)
    seen: list[bytes] = []

    async def echo(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            data = await stream.receive()
            seen.append(data)
            await stream.send(b"pong:" + data)

    listener = await anyio.create_unix_listener(private / "perception.sock")
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, echo)
        setup = make_setup(frames_dir, perception_socket=str(private / "perception.sock"))
        async with pool.checkout(setup) as kernel:
            result = await kernel.execute(RELAY_CELL, timeout=30)
        tg.cancel_scope.cancel()
    assert result.status == "ok", result.error
    assert result.stdout == "True b'pong:ping'\n"
    assert seen == [b"ping"]


async def test_a_pool_closed_by_a_cancellation_unwinds_every_scope_in_order() -> None:
    """A run cancelled while its pool is open (a service gave up, a signal, a deadline) must close the
    pool's template and reader task even though every await in the exit is cancelled; otherwise the
    reader's scope stays on the task and the scopes exited after it fail ("isn't the current task's
    current cancel scope")."""
    async with anyio.create_task_group() as outer:
        with anyio.CancelScope() as run:
            async with KernelPool(TEST_CONFIG, size=1) as closing:
                template_pid = closing.template_pid
                assert template_pid is not None
                run.cancel()
                await anyio.sleep(0)
        assert run.cancelled_caught
        outer.cancel_scope.cancel()
    gone = await anyio.to_thread.run_sync(lambda: not psutil.pid_exists(template_pid))
    assert gone, "the cancelled pool left its template running"
    gc.collect()  # an idle-kernel stream left open by a cancelled drain warns here (warnings are errors)
