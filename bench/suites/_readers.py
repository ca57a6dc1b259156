"""Typed readers for the official file formats (parquet through pyarrow, JSON, JSON lines, CSV): records
are converted one by one against a benchmark's row type, and a record that does not fit is None in its
place, skipped and counted (`_skips`), so positions used as ids survive.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import msgspec

from claw.errors import SuiteError

from ._skips import convert_records

__all__ = ["data_files", "read_csv", "read_json", "read_json_records", "read_jsonl", "read_parquet"]

T = TypeVar("T")


def read_parquet(paths: Sequence[Path], row_type: type[T]) -> list[T | None]:
    """Rows of one or more parquet files (in order) as `row_type` records; a row that does not match
    is None in its place, skipped and counted (`_skips`).

    Raises:
        SuiteError: a file cannot be read.
    """
    import pyarrow.parquet as pq  # heavy: only loaders that read parquet pay for it

    rows: list[T | None] = []
    for path in paths:
        try:
            records = pq.read_table(path).to_pylist()
        except (OSError, ValueError) as exc:
            raise SuiteError(f"cannot read parquet {path}: {exc}") from exc
        rows.extend(convert_records(records, row_type, path))
    return rows


def _load_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"cannot read {path}: {exc}; run `claw data check` for the expected layout") from exc


def read_json(path: Path, row_type: type[T], *, lenient: bool = False) -> T:
    """A JSON file as `row_type`; `lenient` first drops trailing commas (Video-MME's template has them).

    Raises:
        SuiteError: the file is missing, not JSON, or does not match `row_type`.
    """
    text = _load_text(path)
    if lenient:
        text = re.sub(r",(\s*[\]}])", r"\1", text)
    try:
        return msgspec.json.decode(text, type=row_type, strict=False)
    except msgspec.DecodeError as exc:
        raise SuiteError(f"{path}: not in the official format ({exc})") from exc


def read_jsonl(path: Path, row_type: type[T]) -> list[T | None]:
    """A JSON-lines file as `row_type` records (blank lines ignored); a line that is not JSON or does not
    match is None in its place, skipped and counted.

    Raises:
        SuiteError: the file is missing.
    """
    records: list[object] = []
    for n, line in enumerate(_load_text(path).splitlines(), 1):
        if line.strip():
            try:
                records.append(msgspec.json.decode(line))
            except msgspec.DecodeError as exc:
                records.append({"id": f"line {n}", "_error": str(exc)})
    return convert_records(records, row_type, path)


def read_json_records(path: Path, row_type: type[T], *, key: str | None = None) -> list[T | None]:
    """A JSON file holding a list of records (or an object with the list under `key`) as `row_type`
    records, converted one by one (a record that does not match is None in its place, counted).

    Raises:
        SuiteError: the file is missing, not JSON, or holds no such list.
    """
    document = read_json(path, object)
    records = document.get(key) if key is not None and isinstance(document, dict) else document
    if not isinstance(records, list):
        where = f'a list under "{key}"' if key else "a list of records"
        raise SuiteError(f"{path}: expected {where}; is this the official file?")
    return convert_records(records, row_type, path)


def read_csv(path: Path, row_type: type[T]) -> list[T | None]:
    """A CSV file with a header row as `row_type` records (values stay strings unless the type says); a
    row that does not match is None in its place, skipped and counted.

    Raises:
        SuiteError: the file is missing.
    """
    records: list[object] = list(csv.DictReader(_load_text(path).splitlines()))
    return convert_records(records, row_type, path)


def data_files(data: Path, pattern: str) -> list[Path]:
    """Files under `data` matching `pattern` (a glob; "a|b" tries alternatives in order), sorted.

    Raises:
        SuiteError: nothing matches.
    """
    for alternative in pattern.split("|"):
        found = sorted(p for p in data.glob(alternative) if p.is_file())
        if found:
            return found
    raise SuiteError(f"{data} has no {pattern}; run `claw data check` to see what is missing")
