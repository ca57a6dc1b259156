"""The llm_pool benchmark's ideal schedule (a pure function; the benchmark itself is not a test)."""

from __future__ import annotations

import pytest

from bench.perf.llm_pool import ideal_makespan


@pytest.mark.parametrize(
    ("chains", "slots", "expected"),
    [
        ([[1.0, 2.0], [0.5]], 4, 3.0),  # enough slots: the longest chain
        ([[1.0], [1.0], [1.0]], 1, 3.0),  # one slot: everything in sequence
        ([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]], 2, 3.0),  # 6 units of work on 2 slots
        ([[2.0, 1.0], [1.0], [1.0]], 2, 3.0),  # the first chain's second step waits for nobody
        ([], 2, 0.0),
    ],
)
def test_ideal_makespan(chains: list[list[float]], slots: int, expected: float) -> None:
    assert ideal_makespan(chains, slots) == pytest.approx(expected)
