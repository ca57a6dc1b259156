"""Fault injection for the mock server: which (if any) failure a request meets, deterministic under a seed.

Each request draws one number from a generator seeded by (server seed, request body digest, how many
times that body was seen), so the outcome does not depend on how concurrent requests interleave, and a
retry of the same body draws afresh. The rates partition [0, 1): 5xx, 429, hang, truncated JSON, garbage,
slow body, and otherwise no fault.
"""

from __future__ import annotations

import hashlib
import random
from typing import Literal

import msgspec

from claw.errors import ConfigError

__all__ = ["Fault", "FaultDice", "Faults"]

Fault = Literal["none", "error", "rate_limit", "hang", "truncate", "garbage", "slow"]


class Faults(msgspec.Struct, frozen=True, kw_only=True):
    """Failure rates (each 0..1, summing to at most 1) and their parameters."""

    error_rate: float = 0.0
    """Answer 503."""
    rate_limit_rate: float = 0.0
    """Answer 429 with `Retry-After: retry_after_s`."""
    retry_after_s: float = 1.0
    hang_rate: float = 0.0
    """Wait `hang_s` before answering (the client's timeout should fire first)."""
    hang_s: float = 30.0
    truncate_rate: float = 0.0
    """Answer 200 with the first half of the JSON body."""
    garbage_rate: float = 0.0
    """Answer 200 with bytes that are not JSON."""
    slow_rate: float = 0.0
    """Send the body (or stream) in small pieces `slow_chunk_s` apart."""
    slow_chunk_s: float = 0.05

    def __post_init__(self) -> None:
        rates = self.rates()
        if any(r < 0 for _, r in rates) or sum(r for _, r in rates) > 1.0 + 1e-9:
            raise ConfigError("fault rates must each be >= 0 and sum to at most 1", field="faults")

    def rates(self) -> list[tuple[Fault, float]]:
        """(fault, rate) in draw order."""
        return [
            ("error", self.error_rate),
            ("rate_limit", self.rate_limit_rate),
            ("hang", self.hang_rate),
            ("truncate", self.truncate_rate),
            ("garbage", self.garbage_rate),
            ("slow", self.slow_rate),
        ]


class FaultDice:
    """Draws the fault for each request body."""

    def __init__(self, faults: Faults, seed: int) -> None:
        self.faults = faults
        self._seed = seed
        self._seen: dict[bytes, int] = {}
        self._active = any(rate > 0 for _, rate in faults.rates())

    def __repr__(self) -> str:
        return f"<FaultDice active={self._active} bodies={len(self._seen)}>"

    def draw(self, body: bytes) -> Fault:
        """The fault this occurrence of `body` meets."""
        if not self._active:
            return "none"
        digest = hashlib.blake2b(body, digest_size=16).digest()
        occurrence = self._seen.get(digest, 0)
        self._seen[digest] = occurrence + 1
        u = random.Random(f"{self._seed}:{digest.hex()}:{occurrence}").random()
        for fault, rate in self.faults.rates():
            if u < rate:
                return fault
            u -= rate
        return "none"
