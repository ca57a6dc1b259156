"""Suite name -> `module:factory` for every suite in `bench/suites`, loaded lazily through the
`claw.suites` entry point so that listing suites imports no loader (and no pyarrow or PyAV).

Each factory takes a `claw.suite.SuiteOptions` and returns a `claw.suite.Suite`. One line per suite.
"""

from __future__ import annotations

SUITES: dict[str, str] = {
    "synthetic": "bench.suites.synthetic:make_suite",
    "erqa": "bench.suites.erqa:make_suite",
    "omni3d": "bench.suites.omni3d:make_suite",
    "omnispatial": "bench.suites.omnispatial:make_suite",
    "spbench": "bench.suites.spbench:make_suite",
    "mindcube": "bench.suites.mindcube:make_suite",
    "mmsi": "bench.suites.mmsi:make_suite",
    "sparbench": "bench.suites.sparbench:make_suite",
    "mmsivideo": "bench.suites.mmsivideo:make_suite",
    "osibench": "bench.suites.osibench:make_suite",
    "paibench": "bench.suites.paibench:make_suite",
    "vsibench_unbiased": "bench.suites.vsibench_unbiased:make_suite",
    "vstibench": "bench.suites.vstibench:make_suite",
    "dsibench": "bench.suites.dsibench:make_suite",
    "blink": "bench.suites.blink:make_suite",
    "spatialtree": "bench.suites.spatialtree:make_suite",
    "viewspatial": "bench.suites.viewspatial:make_suite",
    "cvbench": "bench.suites.cvbench:make_suite",
    "perceptioncomp": "bench.suites.perceptioncomp:make_suite",
    "videomme": "bench.suites.videomme:make_suite",
    "videommev2": "bench.suites.videommev2:make_suite",
    "paper20": "bench.suites.paper20:make_suite",
    "erqa-sc": "bench.suites.erqa:make_sc_suite",
    "omni3d-sc": "bench.suites.omni3d:make_sc_suite",
    "omnispatial-sc": "bench.suites.omnispatial:make_sc_suite",
    "spbench-sc": "bench.suites.spbench:make_sc_suite",
    "mindcube-sc": "bench.suites.mindcube:make_sc_suite",
    "mmsi-sc": "bench.suites.mmsi:make_sc_suite",
    "sparbench-sc": "bench.suites.sparbench:make_sc_suite",
    "mmsivideo-sc": "bench.suites.mmsivideo:make_sc_suite",
    "osibench-sc": "bench.suites.osibench:make_sc_suite",
    "paibench-sc": "bench.suites.paibench:make_sc_suite",
    "vsibench_unbiased-sc": "bench.suites.vsibench_unbiased:make_sc_suite",
    "vstibench-sc": "bench.suites.vstibench:make_sc_suite",
    "dsibench-sc": "bench.suites.dsibench:make_sc_suite",
    "blink-sc": "bench.suites.blink:make_sc_suite",
    "spatialtree-sc": "bench.suites.spatialtree:make_sc_suite",
    "viewspatial-sc": "bench.suites.viewspatial:make_sc_suite",
    "cvbench-sc": "bench.suites.cvbench:make_sc_suite",
    "perceptioncomp-sc": "bench.suites.perceptioncomp:make_sc_suite",
    "videomme-sc": "bench.suites.videomme:make_sc_suite",
    "videommev2-sc": "bench.suites.videommev2:make_sc_suite",
    "paper20-sc": "bench.suites.paper20:make_sc_suite",
}
