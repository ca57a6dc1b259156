"""Suite name -> `module:factory` for every suite in `bench/suites`, loaded lazily through the
`claw.suites` entry point so that listing suites imports no loader (and no pyarrow or PyAV).

Each factory takes a `claw.suite.SuiteOptions` and returns a `claw.suite.Suite`. One line per suite.
"""

from __future__ import annotations

SUITES: dict[str, str] = {
    "synthetic": "bench.suites.synthetic:make_suite",
}
