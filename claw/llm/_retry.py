"""The one retry helper of `claw.llm`: bounded attempts, jittered exponential backoff, one total deadline.

Which errors are worth another attempt is decided here too (`is_retryable`), so every caller retries the
same things: connection failures, timeouts, 429s (honouring Retry-After) and 5xx or garbled bodies. A
4xx other than 429 is the request's fault and is raised at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import msgspec

from claw.errors import LLMBadResponse, LLMConnectError, LLMError, LLMRateLimited, LLMTimeout

__all__ = ["RetryPolicy", "backoff_delay", "is_retryable", "retry"]

T = TypeVar("T")


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How hard one call tries."""

    max_attempts: int = 5
    """Attempts in all, the first included."""
    base_s: float = 0.5
    """Backoff before the second attempt (doubles each time, with full jitter)."""
    max_backoff_s: float = 30.0
    deadline_s: float = 600.0
    """Total time for all attempts and backoffs of one call."""


def is_retryable(error: LLMError) -> bool:
    """Whether another attempt could succeed where `error` failed."""
    if isinstance(error, LLMConnectError | LLMTimeout | LLMRateLimited):
        return True
    if isinstance(error, LLMBadResponse):
        return error.status is None or error.status >= 500 or error.status == 408
    return False


def backoff_delay(policy: RetryPolicy, attempt: int, error: LLMError, rng: random.Random) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    if isinstance(error, LLMRateLimited) and error.retry_after is not None:
        return min(error.retry_after, policy.max_backoff_s)
    ceiling = min(policy.base_s * 2.0 ** (attempt - 1), policy.max_backoff_s)
    return ceiling * (0.5 + 0.5 * rng.random())


async def retry(
    call: Callable[[float], Awaitable[T]],
    policy: RetryPolicy,
    *,
    rng: random.Random | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[T, int]:
    """Run `call(time_left_s)` until it succeeds; return its result and the number of attempts.

    `call` receives the seconds left before the deadline and must not take longer.

    Raises:
        LLMError: the last error, when it is not retryable, attempts ran out, or the deadline would pass.
        LLMTimeout: the deadline passed before any attempt finished.
    """
    rng = rng or random.Random()
    deadline = clock() + policy.deadline_s
    for attempt in range(1, policy.max_attempts + 1):
        left = deadline - clock()
        if left <= 0:
            break
        try:
            return await call(left), attempt
        except LLMError as error:
            delay = backoff_delay(policy, attempt, error, rng)
            if not is_retryable(error) or attempt == policy.max_attempts or clock() + delay >= deadline:
                raise
            await anyio.sleep(delay)
    raise LLMTimeout(f"no attempt finished within the {policy.deadline_s:g} s call deadline")
