"""The format version written into every line of claw's JSON-lines files (`events.jsonl`,
`results.jsonl`): it goes up when the meaning of a field changes (new fields only get defaults)."""

from __future__ import annotations

__all__ = ["FORMAT_VERSION"]

FORMAT_VERSION = 1
