"""A kernel is lent again only when its episode provably left it clean: every cell contained (plain names,
builtin values, pure builtins, `ReturnAnswer`), then reset. Anything else (an import, an attribute, IPython
syntax, a timeout) means kill and fork. A reused kernel shows the next episode nothing of the last."""

from __future__ import annotations

from pathlib import Path

import pytest

from claw.sandbox import KernelPool
from claw.sandbox._clean import CleanCheck
from claw.sandbox._kernel import PooledKernel
from tests.sandbox.conftest import TEST_CONFIG, make_setup

PURE = ["x = 41", "y = [x + 1, 'a' * 3]\nprint(y[0], len(y))", "x + 1", "ReturnAnswer('A')"]
AFTER = (
    "import os\nprint('x' in dir(), 'y' in dir(), len(In), dict(Out), repr(_), get_ipython().execution_count,"
    " sorted(os.listdir(os.environ['TMPDIR'])), sorted(os.listdir(os.environ['CLAW_KERNEL_DIR'] + '/media')))"
)


def test_contained_cells_are_told_apart_from_the_rest() -> None:
    check = CleanCheck()
    assert all(check.admit(cell) for cell in PURE)
    for cell in [
        "import os",
        "x.append(1)",
        "print(np)",
        "print(x, file=None)",
        "%time x",
        "_ = 1",
        "Out = {}",
        "f = lambda: 1",
        "z = ReturnAnswer('A')",
        "(w := 2)",
        "print(get_ipython())",
        "def f():\n    pass",
        "sorted(y, key=len)",
        "print(undefined_so_far)",
        "print(np)\nnp = 1",
        "if x:\n    np = 1\nprint(np)",
        "for i in range(2):\n    np = i\nprint(np)",
        "print(tools)",
        "x += np",
    ]:
        fresh = CleanCheck()
        fresh.admit("x = 1\ny = [2]")
        assert not fresh.admit(cell), cell
    assert CleanCheck().admit(
        "q = [i * i for i in range(3)]\nprint(q)\nfor i in q:\n    t = i\n    print(t, i)"
    )
    assert CleanCheck().admit("y = [1]\ny[0] = 2\ny[0] += 1\na, b = y[0], 'x'\nprint(f'{a:>4} {b!r}')")


@pytest.mark.asyncio
async def test_a_clean_kernel_is_reset_and_lent_again(frames_dir: Path) -> None:
    async with KernelPool(TEST_CONFIG, size=1) as pool:
        async with pool.checkout(make_setup(frames_dir)) as kernel:
            results = [await kernel.execute(cell, timeout=60) for cell in PURE]
            first = kernel.kernel_id
        async with pool.checkout(make_setup(frames_dir)) as kernel:
            after = await kernel.execute(AFTER, timeout=60)
            second = kernel.kernel_id
            count = await kernel.execute("print(len(InputImages))", timeout=60)
        async with pool.checkout(make_setup(frames_dir)) as kernel:
            fresh = await kernel.execute(AFTER, timeout=60)
            third = kernel.kernel_id
        stats = pool.statistics()
    assert [r.status for r in results] == ["ok"] * 4 and results[-1].answer is not None
    assert second == first and stats.reused == 1
    assert third != first  # the second episode imported a module: its kernel was not reused
    assert after.status == "ok" and after.stdout == fresh.stdout  # reset: as a fresh kernel sees it
    assert after.stdout.startswith("False False 2 {} '' 2 ")
    assert count.stdout == "2\n"


@pytest.mark.asyncio
async def test_a_kernel_whose_episode_ran_no_cell_is_lent_again(
    frames_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An episode can end before its first cell (a chain-of-thought reply, a model failure): the install
    sent at checkout must have run before the episode's files are cleared, or the kernel is thrown away
    (seen in `claw eval --interface cot`: 'kernel not reused ... setup.msgpack not found')."""
    async with KernelPool(TEST_CONFIG, size=1) as pool:
        launcher = pool._launcher
        unstage = launcher.unstage
        pending_at_unstage: list[bool] = []

        async def watched_unstage(kernel: PooledKernel) -> None:
            pending_at_unstage.append(kernel.bootstrap_pending)
            await unstage(kernel)

        monkeypatch.setattr(launcher, "unstage", watched_unstage)
        lent = []
        for _ in range(3):
            async with pool.checkout(make_setup(frames_dir)) as kernel:
                lent.append(kernel.kernel_id)
        async with pool.checkout(make_setup(frames_dir)) as kernel:
            count = await kernel.execute("print(len(InputImages))", timeout=60)
            lent.append(kernel.kernel_id)
        stats = pool.statistics()
    assert len(pending_at_unstage) >= 3 and not any(pending_at_unstage)
    assert len(set(lent)) == 1 and stats.reused == 3
    assert count.status == "ok" and count.stdout == "2\n"
