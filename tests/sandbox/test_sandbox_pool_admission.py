"""Checkouts are admitted first come, first served, a few at a time (`_pool._ADMITTED`): when many
episodes start together, a checkout's setup is written before later ones start theirs, so the first
episodes get going first instead of all of them finishing the burst together."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import pytest

from claw.sandbox import KernelPool, _pool
from claw.sandbox._media import write_setup
from tests.sandbox.conftest import TEST_CONFIG, make_setup, pool_in_task

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_one_admission_at_a_time_writes_setups_in_turn(
    frames_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_pool, "_ADMITTED", 1)
    log: list[tuple[str, str]] = []
    lock = threading.Lock()

    def slow_write(setup: object, exchange: Path, inner: str | None) -> None:
        with lock:
            log.append(("start", exchange.name))
        threading.Event().wait(0.2)  # (a worker thread) long enough that unadmitted checkouts overlap here
        write_setup(setup, exchange, inner)  # type: ignore[arg-type]
        with lock:
            log.append(("end", exchange.name))

    monkeypatch.setattr(_pool, "write_setup", slow_write)
    got: list[int] = []

    async def episode(pool: KernelPool, index: int) -> None:
        async with pool.checkout(make_setup(frames_dir)) as kernel:
            got.append(index)
            result = await kernel.execute("print('ok')", timeout=120)
            assert result.stdout == "ok\n"

    opened = KernelPool(TEST_CONFIG, size=3, max_stdout_chars=400)
    async with pool_in_task(opened), anyio.create_task_group() as tg:
        for index in range(3):
            tg.start_soon(episode, opened, index)
            await anyio.sleep(0)  # keep the arrival order
    assert got == [0, 1, 2]
    assert [kind for kind, _ in log] == ["start", "end"] * 3  # never two setups in flight
    assert [name for kind, name in log if kind == "start"] == [name for kind, name in log if kind == "end"]
