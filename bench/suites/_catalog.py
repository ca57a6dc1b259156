"""What `claw suites` says about each suite: a one-line description, how many samples it has (the split
size the published system loads), and whether it reads a local data directory (`--data`)."""

from __future__ import annotations

import msgspec

from bench.suites._specs import SPECS, spec

__all__ = ["SuiteAbout", "about"]

SPLIT_SIZES: dict[str, int] = {
    "erqa": 400, "omni3d": 501, "omnispatial": 1533, "spbench": 1328, "mindcube": 21154, "mmsi": 1000,
    "sparbench": 7207, "mmsivideo": 1106, "osibench": 8766, "paibench": 1214, "vsibench_unbiased": 2362,
    "vstibench": 6042, "dsibench": 7076, "blink": 1901, "spatialtree": 6300, "viewspatial": 5712,
    "cvbench": 1000, "perceptioncomp": 1114, "videomme": 2700, "videommev2": 3200,
}  # fmt: skip
"""Samples in the split the published system loads (MindCube: its full raw set)."""


class SuiteAbout(msgspec.Struct, frozen=True, kw_only=True):
    """One line of `claw suites`."""

    name: str
    description: str
    samples: str
    """A count, or how the suite makes its samples."""
    needs_data: bool


def _benchmark(name: str, sc: bool) -> SuiteAbout | None:
    bench = spec(name)
    if bench is None:
        return None
    rules = "; the published system's scoring" if sc else ""
    source = bench.source.split("://", 1)[-1].removeprefix("huggingface.co/datasets/")
    description = f"{bench.title} ({bench.group}{rules}): {source}"
    return SuiteAbout(name=name + ("-sc" if sc else ""), description=description,
                      samples=f"{SPLIT_SIZES.get(name, 0):,}", needs_data=True)  # fmt: skip


def about(name: str) -> SuiteAbout:
    """The description of the suite registered as `name` (a bare line for suites claw does not know)."""
    if name == "synthetic":
        description = "procedurally generated 3-D scenes with exact answers; the default, no GPU"
        return SuiteAbout(name=name, samples="any (--n)", needs_data=False, description=description)
    base, sc = name.removesuffix("-sc"), name.endswith("-sc")
    if base == "paper20":
        total = sum(SPLIT_SIZES.get(s.name, 0) for s in SPECS)
        rules = ", the published system's scoring" if sc else ""
        return SuiteAbout(name=name, description=f"all 20 benchmarks of the published main table{rules}",
                          samples=f"{total:,}", needs_data=True)  # fmt: skip
    return _benchmark(base, sc) or SuiteAbout(name=name, description="(registered by a plugin)", samples="?",
                                              needs_data=True)  # fmt: skip
