"""The kernel's trimmed work (`_lean`): the debugger's shell connection closed, no code echo, no reply
sleep, flushes only of streams written since their last flush; and, from a real kernel, that connection is
closed and every cell's output still arrives with that cell, whichever streams it wrote."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from claw.sandbox import KernelPool, _lean
from tests.sandbox.conftest import make_setup


class FakeStream:
    """ipykernel's OutStream as `_lean` sees it: a pending flag set by writes, cleared by a flush."""

    def __init__(self) -> None:
        self._flush_pending = False
        self._subprocess_flush_pending = False
        self.flushes = 0

    def write(self, text: str) -> None:
        self._flush_pending = True

    def flush(self) -> None:
        self.flushes += 1
        self._flush_pending = False


class FakeKernel:
    _execute_sleep = 0.0005

    def _publish_execute_input(self, code: str, parent: object, execution_count: int) -> None:
        raise AssertionError("the code echo must be switched off")


class FakeSocket:
    closed = False

    def close(self, linger: int | None = None) -> None:
        self.closed = True


class FakeApp:
    def __init__(self) -> None:
        self.kernel = FakeKernel()
        self.debug_shell_socket = FakeSocket()


def test_install_trims_echo_sleep_and_empty_flushes(monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = FakeStream(), FakeStream()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    app = FakeApp()
    _lean.install(app)
    kernel = app.kernel
    assert app.debug_shell_socket.closed
    kernel._publish_execute_input("x = 1", {}, 1)
    assert kernel._execute_sleep == 0.0
    out.flush()
    err.flush()
    assert (out.flushes, err.flushes) == (0, 0)
    out.write("hi")
    out.flush()
    out.flush()
    assert (out.flushes, err.flushes) == (1, 0)
    err._subprocess_flush_pending = True  # a forked child wrote
    err.flush()
    assert err.flushes == 1


def test_a_stream_without_the_pending_flags_is_always_flushed(monkeypatch: pytest.MonkeyPatch) -> None:
    class Plain:
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    out, err = Plain(), Plain()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    _lean.install(FakeApp())
    out.flush()
    err.flush()
    assert (out.flushes, err.flushes) == (1, 1)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_real_kernel_has_no_debugger_connection(pool: KernelPool, frames_dir: Path) -> None:
    code = "k = get_ipython().kernel\nprint(k.debug_shell_socket.closed, k._execute_sleep)"
    async with pool.checkout(make_setup(frames_dir)) as kernel:
        result = await kernel.execute(code, timeout=60)
    assert (result.status, result.stdout) == ("ok", "True 0.0\n")


@pytest.mark.asyncio(loop_scope="module")
async def test_each_cell_gets_its_own_output(pool: KernelPool, frames_dir: Path) -> None:
    cells = [
        ("print('one')", "one\n", ""),
        ("pass", "", ""),
        ("import sys\nprint('two', file=sys.stderr)", "", "two\n"),
        ("print('three')\nprint('four', file=sys.stderr)", "three\n", "four\n"),
        ("x = 5", "", ""),
        ("print(x)", "5\n", ""),
    ]
    async with pool.checkout(make_setup(frames_dir)) as kernel:
        for _ in range(3):
            for code, stdout, stderr in cells:
                result = await kernel.execute(code, timeout=60)
                assert (result.status, result.stdout, result.stderr) == ("ok", stdout, stderr), code
