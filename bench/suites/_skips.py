"""Records a loader cannot use: each is skipped with its id and the reason, counted, and logged, never a
crash of the whole file and never a silently wrong sample. `convert_records` converts official records
one by one (a record that does not fit the schema is skipped); a loader's `build` raises `RecordSkipped`
for a record it parsed but cannot turn into a sample (no options left, an answer that names no option).
`BenchSuite` collects both kinds; `claw data check` prints the counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TypeVar

import msgspec
import structlog

__all__ = ["RecordSkipped", "Skip", "collecting", "convert_records", "record_id", "skip"]

T = TypeVar("T")
_log = structlog.get_logger(__name__)
_ID_FIELDS = ("id", "idx", "question_id", "key", "index", "session_id", "question_index", "sample_id")


class Skip(msgspec.Struct, frozen=True, kw_only=True):
    """One record left out."""

    record: str
    """The record's id (its id field, else "#<position>" in the file)."""
    reason: str
    where: str = ""


class RecordSkipped(Exception):
    """Raised by a loader's `build` for a record it cannot use; the suite skips and counts it."""

    def __init__(self, record: str, reason: str) -> None:
        super().__init__(f"record {record}: {reason}")
        self.record = record
        self.reason = reason


_COLLECTOR: ContextVar[list[Skip] | None] = ContextVar("bench_skips", default=None)


@contextmanager
def collecting() -> Iterator[list[Skip]]:
    """Gather the skips made inside the block (nested blocks gather separately)."""
    found: list[Skip] = []
    token = _COLLECTOR.set(found)
    try:
        yield found
    finally:
        _COLLECTOR.reset(token)


def skip(entry: Skip) -> None:
    """Count one skipped record (and log it)."""
    _log.warning("record skipped", record=entry.record, reason=entry.reason, where=entry.where)
    collector = _COLLECTOR.get()
    if collector is not None:
        collector.append(entry)


def record_id(record: object, position: int) -> str:
    """The id a record names for itself, else its position in the file."""
    if isinstance(record, dict):
        for name in _ID_FIELDS:
            if record.get(name) not in (None, ""):
                return str(record[name])
    return f"#{position}"


def convert_records(records: list[object], row_type: type[T], where: Path) -> list[T]:
    """`records` as `row_type`, one by one; a record that does not fit is skipped with its id."""
    rows: list[T] = []
    for position, record in enumerate(records):
        try:
            rows.append(msgspec.convert(record, row_type, strict=False))
        except msgspec.ValidationError as exc:
            skip(Skip(record=record_id(record, position), reason=f"does not match the schema ({exc})",
                      where=str(where)))  # fmt: skip
    return rows
