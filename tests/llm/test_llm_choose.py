"""The pure endpoint choice: free slots, health, stickiness, least outstanding."""

from __future__ import annotations

import pytest

from claw.llm import choose_endpoint


@pytest.mark.parametrize(
    ("outstanding", "limits", "up", "preferred", "expected"),
    [
        ([0, 0, 0], [2, 2, 2], [True] * 3, None, 0),  # ties: lowest index
        ([2, 1, 0], [4, 4, 4], [True] * 3, None, 2),  # least outstanding
        ([2, 1, 0], [4, 4, 4], [True] * 3, 0, 0),  # sticky, not overloaded
        ([5, 0], [9, 9], [True, True], 0, 1),  # sticky but overloaded: 5 > max(0, 2)
        ([4, 1], [9, 9], [True, True], 0, 1),  # 4 > max(2*1, 1+2): overloaded
        ([3, 1], [9, 9], [True, True], 0, 0),  # 3 <= 3: stays sticky
        ([2, 2], [2, 3], [True, True], 0, 1),  # sticky endpoint full, a slot free elsewhere: take it
        ([2, 3], [2, 3], [True, True], 0, None),  # everything full: wait
        ([0, 3], [4, 4], [False, True], 0, 1),  # sticky endpoint down
        ([0, 3], [4, 4], [False, False], None, 0),  # all down: still choose among free ones
        ([2, 3], [2, 3], [True, True], None, None),  # every endpoint full
    ],
)
def test_choose_endpoint(
    outstanding: list[int], limits: list[int], up: list[bool], preferred: int | None, expected: int | None
) -> None:
    assert choose_endpoint(outstanding, limits, up, preferred) == expected


def test_ties_go_to_the_endpoint_that_served_less() -> None:
    assert choose_endpoint([1, 1, 1], [4, 4, 4], [True] * 3, None, served=[9, 3, 5]) == 1
    assert choose_endpoint([0, 1], [4, 4], [True, True], None, served=[9, 0]) == 0
