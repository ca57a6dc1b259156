"""Fault dice: rates, determinism, validation."""

from __future__ import annotations

from collections import Counter

import pytest

from claw.errors import ConfigError
from servers.mockllm.faults import FaultDice, Faults


def test_no_faults_by_default() -> None:
    dice = FaultDice(Faults(), seed=0)
    assert {dice.draw(b"x") for _ in range(50)} == {"none"}


def test_rates_are_respected_roughly() -> None:
    dice = FaultDice(Faults(error_rate=0.3, garbage_rate=0.2), seed=1)
    counts = Counter(dice.draw(f"body {i}".encode()) for i in range(2000))
    assert set(counts) == {"error", "garbage", "none"}
    assert 0.25 < counts["error"] / 2000 < 0.35
    assert 0.15 < counts["garbage"] / 2000 < 0.25


def test_deterministic_per_body_and_occurrence() -> None:
    faults = Faults(error_rate=0.5)
    a, b = FaultDice(faults, seed=7), FaultDice(faults, seed=7)
    bodies = [f"b{i}".encode() for i in range(40)]
    first = [a.draw(x) for x in bodies]
    assert first == [b.draw(x) for x in reversed(bodies)][::-1]
    retried = [a.draw(x) for x in bodies]
    assert retried != first  # a retry of the same body draws afresh


@pytest.mark.parametrize("faults", [{"error_rate": -0.1}, {"error_rate": 0.6, "hang_rate": 0.6}])
def test_invalid_rates(faults: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="fault rates"):
        Faults(**faults)
