"""Legitimate analysis cells: the AST policy passes every one (false-positive rate 0 over the corpus), and
every one runs without error in a real confined kernel, so the OS layer does not break ordinary work
either (fonts, colour maps, scipy submodules imported for the first time, PIL plugins)."""

from __future__ import annotations

from pathlib import Path

import pytest

from claw.sandbox import KernelPool, check_cell
from tests.sandbox.conftest import make_setup
from tests.sandbox.legit_cells import LEGIT_CELLS

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
_CELLS_PER_EPISODE = 65


def test_corpus_is_big_and_distinct() -> None:
    assert len(LEGIT_CELLS) >= 200
    assert len(set(LEGIT_CELLS)) == len(LEGIT_CELLS)


def test_policy_false_positive_rate_is_zero() -> None:
    rejected = [(cell, check_cell(cell)) for cell in LEGIT_CELLS]
    rejected = [(cell, violation) for cell, violation in rejected if violation is not None]
    rate = len(rejected) / len(LEGIT_CELLS)
    detail = "\n".join(f"{v.rule}: {v.message}\n{cell}" for cell, v in rejected if v is not None)
    assert rate == 0.0, f"false-positive rate {rate:.1%} over {len(LEGIT_CELLS)} cells:\n{detail}"


@MODULE_LOOP
@pytest.mark.parametrize("start", range(0, len(LEGIT_CELLS), _CELLS_PER_EPISODE))
async def test_cells_run_in_a_confined_kernel(start: int, pool: KernelPool, frames_dir: Path) -> None:
    failures = []
    async with pool.checkout(make_setup(frames_dir)) as kernel:
        for cell in LEGIT_CELLS[start : start + _CELLS_PER_EPISODE]:
            result = await kernel.execute(cell, timeout=120)
            if result.status != "ok" or result.error is not None:
                failures.append(f"{cell}\n-> {result.status}: {result.error}\n{result.stderr}")
    assert pool.confined
    assert failures == [], "\n\n".join(failures)
