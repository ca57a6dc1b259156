"""The retry helper: what it retries, how long it waits, and the total deadline."""

from __future__ import annotations

import random

import pytest

from claw.errors import LLMBadResponse, LLMConnectError, LLMError, LLMRateLimited, LLMTimeout
from claw.llm import RetryPolicy, retry
from claw.llm._retry import backoff_delay, is_retryable

FAST = RetryPolicy(max_attempts=4, base_s=0.001, max_backoff_s=0.01, deadline_s=5.0)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (LLMConnectError("x"), True),
        (LLMTimeout("x"), True),
        (LLMRateLimited("x"), True),
        (LLMBadResponse("x", status=None), True),
        (LLMBadResponse("x", status=503), True),
        (LLMBadResponse("x", status=408), True),
        (LLMBadResponse("x", status=400), False),
        (LLMBadResponse("x", status=404), False),
        (LLMError("x"), False),
    ],
)
def test_retryable_table(error: LLMError, expected: bool) -> None:
    assert is_retryable(error) is expected


def test_backoff_grows_with_jitter_and_respects_retry_after() -> None:
    policy = RetryPolicy(base_s=1.0, max_backoff_s=8.0)
    rng = random.Random(1)
    delays = [backoff_delay(policy, a, LLMTimeout("x"), rng) for a in range(1, 6)]
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(2.0 ** (attempt - 1), 8.0)
        assert ceiling / 2 <= delay <= ceiling
    assert backoff_delay(policy, 1, LLMRateLimited("x", retry_after=3.0), rng) == 3.0
    assert backoff_delay(policy, 1, LLMRateLimited("x", retry_after=99.0), rng) == 8.0


async def test_retry_until_success_counts_attempts() -> None:
    failures = [LLMConnectError("down"), LLMBadResponse("5xx", status=502)]

    async def call(left: float) -> str:
        assert left > 0
        if failures:
            raise failures.pop(0)
        return "ok"

    assert await retry(call, FAST) == ("ok", 3)


async def test_retry_raises_non_retryable_at_once() -> None:
    calls = 0

    async def call(left: float) -> str:
        nonlocal calls
        calls += 1
        raise LLMBadResponse("bad request", status=400)

    with pytest.raises(LLMBadResponse):
        await retry(call, FAST)
    assert calls == 1


async def test_retry_gives_up_after_max_attempts() -> None:
    calls = 0

    async def call(left: float) -> str:
        nonlocal calls
        calls += 1
        raise LLMTimeout("slow")

    with pytest.raises(LLMTimeout):
        await retry(call, FAST)
    assert calls == FAST.max_attempts


async def test_retry_stops_at_the_total_deadline() -> None:
    now = [0.0]
    lefts: list[float] = []

    async def call(left: float) -> str:
        lefts.append(left)
        now[0] += 6.0  # each attempt takes 6 s of the 10 s deadline
        raise LLMRateLimited("busy", retry_after=0.001)

    policy = RetryPolicy(max_attempts=10, base_s=0.0, max_backoff_s=1.0, deadline_s=10.0)
    with pytest.raises(LLMRateLimited):
        await retry(call, policy, clock=lambda: now[0])
    assert lefts == [10.0, 4.0]


async def test_retry_passes_time_left() -> None:
    now = [100.0]
    seen: list[float] = []

    async def call(left: float) -> str:
        seen.append(left)
        return "ok"

    await retry(call, RetryPolicy(deadline_s=7.0), clock=lambda: now[0])
    assert seen == [7.0]
