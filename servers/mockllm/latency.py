"""The mock server's cost model: token counts, a prefix cache, and service time per request.

Tokens are approximated (4 characters a token, a fixed count per image). The prefix cache remembers
hash chains over message prefixes, the way vLLM's automatic prefix caching remembers blocks: a request
whose first k messages were seen before gets those tokens' prefill at the cached rate. Service time is
`base + prefill(uncached) + prefill_cached(cached) + decode(completion)`; a continuous-batching limit of
`max_batch` concurrent sequences makes further requests queue.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import msgspec

from claw.llm.types import ImagePart, Message

__all__ = ["IMAGE_TOKENS", "LatencyModel", "PrefixCache", "PrefixLookup", "count_tokens", "message_tokens"]

IMAGE_TOKENS = 256
"""Tokens one image costs in the model."""
_ENCODER = msgspec.json.Encoder()


def count_tokens(text: str) -> int:
    """Approximate tokens in `text` (at least 1 for non-empty text)."""
    return (len(text) + 3) // 4


def message_tokens(message: Message) -> int:
    """Approximate tokens of one message, images included."""
    images = 0 if isinstance(message.content, str) else sum(isinstance(p, ImagePart) for p in message.content)
    return 4 + count_tokens(message.text()) + IMAGE_TOKENS * images


class LatencyModel(msgspec.Struct, frozen=True, kw_only=True):
    """Per-request service time; all zero (the default) means answer at once."""

    base_ms: float = 0.0
    prefill_ms_per_token: float = 0.0
    cached_prefill_ms_per_token: float = 0.0
    decode_ms_per_token: float = 0.0
    max_batch: int = 0
    """Sequences served at once (0: unlimited); more requests wait in a queue."""

    def service_s(self, prompt_tokens: int, cached_tokens: int, completion_tokens: int) -> float:
        """Seconds one request occupies a batch slot."""
        ms = (
            self.base_ms
            + self.prefill_ms_per_token * (prompt_tokens - cached_tokens)
            + self.cached_prefill_ms_per_token * cached_tokens
            + self.decode_ms_per_token * completion_tokens
        )
        return ms / 1000.0


class PrefixLookup(msgspec.Struct, frozen=True, kw_only=True):
    """What the cache knew about one request."""

    prompt_tokens: int
    cached_tokens: int
    extends_previous: bool
    """The messages extend a whole earlier request exactly (an append-only transcript step)."""


class PrefixCache:
    """An LRU of message-prefix hashes (bounded by `capacity` entries)."""

    def __init__(self, capacity: int = 200_000) -> None:
        self._capacity = capacity
        self._prefixes: OrderedDict[bytes, bool] = OrderedDict()

    def __repr__(self) -> str:
        return f"<PrefixCache entries={len(self._prefixes)} capacity={self._capacity}>"

    def __len__(self) -> int:
        return len(self._prefixes)

    def lookup_and_insert(self, messages: list[Message]) -> PrefixLookup:
        """Measure how much of `messages` was cached, then remember all its prefixes."""
        chain, tokens = _chain(messages)
        cached, extends = 0, False
        for k in range(len(chain)):
            whole = self._prefixes.get(chain[k])
            if whole is None:
                break
            cached = tokens[k]
            extends = extends or (whole and k < len(chain) - 1)
        self._insert(chain)
        return PrefixLookup(
            prompt_tokens=tokens[-1] if tokens else 0, cached_tokens=cached, extends_previous=extends
        )

    def _insert(self, chain: list[bytes]) -> None:
        for k, digest in enumerate(chain):
            was_whole = self._prefixes.get(digest, False)
            self._prefixes[digest] = was_whole or k == len(chain) - 1
            self._prefixes.move_to_end(digest)
        while len(self._prefixes) > self._capacity:
            self._prefixes.popitem(last=False)


def _chain(messages: list[Message]) -> tuple[list[bytes], list[int]]:
    chain: list[bytes] = []
    tokens: list[int] = []
    digest, total = b"", 0
    for message in messages:
        digest = hashlib.blake2b(digest + _ENCODER.encode(message), digest_size=16).digest()
        total += message_tokens(message)
        chain.append(digest)
        tokens.append(total)
    return chain, tokens
