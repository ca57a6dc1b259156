"""`paper20`: all 20 public benchmarks as one suite, in the paper's table order, for one run and one
table. The data directory holds one folder per benchmark, named by its suite name
(`<data>/blink/`, `<data>/vsibench_unbiased/`, …); `options.n` applies to each benchmark.

Benchmarks whose folder is absent are skipped with a warning (the report marks them and says the
average is partial); each sample keeps its own benchmark as `Sample.suite`, and scoring dispatches to
that benchmark's rule.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import msgspec
import structlog

from bench.suites._core import BenchSuite, Rules
from bench.suites._specs import SPECS
from claw.errors import SuiteError
from claw.suite import Sample, Score, SuiteOptions

NAME = "paper20"
_log = structlog.get_logger(__name__)


def member(name: str, options: SuiteOptions, rules: Rules) -> BenchSuite[object]:
    """One benchmark suite built by its module's factory."""
    module = importlib.import_module(f"bench.suites.{name}")
    factory = module.make_sc_suite if rules == "sc" else module.make_suite
    made: BenchSuite[object] = factory(options)
    return made


class Paper20:
    """The 20 benchmarks in table order."""

    def __init__(self, options: SuiteOptions, rules: Rules = "official") -> None:
        self.name = NAME if rules == "official" else f"{NAME}-sc"
        self.options = options
        self.rules: Rules = rules
        self._members: dict[str, BenchSuite[object]] = {}

    def __repr__(self) -> str:
        return f"Paper20(data={self.root!s}, rules={self.rules!r})"

    @property
    def root(self) -> Path:
        """The folder holding one sub-folder per benchmark."""
        return Path(self.options.data_dir or "data")

    def _member(self, name: str) -> BenchSuite[object]:
        if name not in self._members:
            opts = msgspec.structs.replace(self.options, data_dir=str(self.root / name))
            self._members[name] = member(name, opts, self.rules)
        return self._members[name]

    def _present(self) -> list[str]:
        return [s.name for s in SPECS if (self.root / s.name).is_dir()]

    def planned_samples(self) -> int:
        """The samples of every present benchmark together (`options.n` applies to each of them).

        Raises:
            SuiteError: a benchmark's data cannot be read.
        """
        return sum(self._member(name).planned_samples() for name in self._present())

    def samples(self) -> Iterator[Sample]:
        """Every present benchmark's samples, benchmark by benchmark.

        Raises:
            SuiteError: none of the 20 folders exists under the data directory.
        """
        present = self._present()
        if not present:
            raise SuiteError(f"no benchmark folder under {self.root}; run `claw data check --suite paper20`")
        skipped = [s.name for s in SPECS if s.name not in present]
        if skipped:
            _log.warning("benchmarks skipped: no data folder", root=str(self.root), skipped=",".join(skipped))
        for name in present:
            yield from self._member(name).samples()

    def score(self, sample: Sample, answer: str | None) -> Score:
        """Score with the rule of the sample's own benchmark."""
        return self._member(sample.suite).score(sample, answer)


def make_suite(options: SuiteOptions) -> Paper20:
    """All 20 benchmarks under their official rules."""
    return Paper20(options)


def make_sc_suite(options: SuiteOptions) -> Paper20:
    """All 20 benchmarks under the published system's rules."""
    return Paper20(options, rules="sc")
