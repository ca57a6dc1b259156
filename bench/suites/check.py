"""`check_data`: what `claw data check --suite NAME --data DIR` prints. For one of the 20 benchmarks
(or `paper20`, which checks `DIR/<name>/` for each) it lists, one human-readable line per problem, the
annotation files that are missing, the media files the annotations reference that are missing (the
first few, with a count), and where the official copy lives. An empty list means the copy is complete.
`check_report` adds, per benchmark, the records the loader reads but cannot use (counted, with ids and
reasons): those are reported, not failures of the copy.

It reads annotation files and checks media paths only: nothing is decoded, written or downloaded.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from bench.suites._skips import Skip
from bench.suites._specs import SPECS, BenchSpec, spec
from claw.errors import SuiteError
from claw.suite import SuiteOptions

__all__ = ["check_data", "check_report"]

SHOWN = 5
"""Missing media files listed by name per benchmark before the rest are only counted."""


def check_data(suite_name: str, data_dir: Path) -> list[str]:
    """Lines describing what the local copy of `suite_name` at `data_dir` lacks; [] when complete."""
    return check_report(suite_name, data_dir)[0]


def check_report(suite_name: str, data_dir: Path) -> tuple[list[str], list[str]]:
    """(problems, skipped-record lines) for the local copy of `suite_name` at `data_dir`."""
    base = suite_name.removesuffix("-sc")
    if base == "paper20":
        parts = [_check(s, data_dir / s.name) for s in SPECS]
        return [line for p, _ in parts for line in p], [line for _, s in parts for line in s]
    found = spec(base)
    if found is None:
        unknown = (
            [] if base == "synthetic" else [f"unknown suite {suite_name!r}: `claw suites` lists the names"]
        )
        return unknown, []
    return _check(found, data_dir)


def _check(bench: BenchSpec, data_dir: Path) -> tuple[list[str], list[str]]:
    if not data_dir.is_dir():
        return [f"{bench.title}: {data_dir} does not exist; download {bench.source} and pass its root "
                "as --data"], []  # fmt: skip
    lines = [
        f"{bench.title}: missing {data_dir / pattern} (official copy: {bench.source})"
        for pattern in bench.files
        if not _present(data_dir, pattern)
    ]
    return (lines, []) if lines else _check_media(bench, data_dir)


def _present(data_dir: Path, pattern: str) -> bool:
    return any(any(data_dir.glob(alternative)) for alternative in pattern.split("|"))


def _check_media(bench: BenchSpec, data_dir: Path) -> tuple[list[str], list[str]]:
    module = importlib.import_module(f"bench.suites.{bench.name}")
    suite = module.make_suite(SuiteOptions(data_dir=str(data_dir)))
    try:
        missing: list[Path] = list(dict.fromkeys(suite.missing_media()))
    except SuiteError as exc:
        return [f"{bench.title}: {exc.message}"], []
    lines = [f"{bench.title}: missing media {path}" for path in missing[:SHOWN]]
    if len(missing) > SHOWN:
        lines.append(f"{bench.title}: … and {len(missing) - SHOWN} more missing media files "
                     f"(official copy: {bench.source})")  # fmt: skip
    return lines, _skipped(bench, suite.skipped)


def _skipped(bench: BenchSpec, skipped: list[Skip]) -> list[str]:
    if not skipped:
        return []
    shown = "; ".join(f"{s.record} ({s.reason})" for s in skipped[:SHOWN])
    more = f"; … and {len(skipped) - SHOWN} more" if len(skipped) > SHOWN else ""
    return [f"{bench.title}: skipped {len(skipped)} record(s) the loader cannot use: {shown}{more}"]
