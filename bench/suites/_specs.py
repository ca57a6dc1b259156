"""The facts about each of the 20 public benchmarks that more than one module needs: display title,
paper group, aggregation rule, the official files a local copy must hold, where the official copy
lives, and the published figures (Gemma 4-31B backbone, %) the report prints beside claw's.

Pure data with no heavy imports, so `bench.report` and `claw data check` can read it without loading
pyarrow or PyAV. Per-benchmark parsing and scoring live in `bench/suites/<name>/`.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["GROUPS", "SPECS", "Aggregation", "BenchSpec", "get", "spec"]

Aggregation = Literal["micro", "macro", "group", "tree"]
"""micro: mean over samples; macro: mean of per-category means; group: Video-MME-v2 group score; tree:
SpatialTree's weighted hierarchy over per-leaf means (the published system: micro)."""

GROUPS: tuple[str, ...] = (
    "Single-image",
    "Multi-view",
    "Video & 4D",
    "General spatial",
    "General video",
)
"""The paper's five column groups, in its table order."""


class BenchSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What claw knows about one benchmark before reading any of its data."""

    name: str
    """Registry name, also the published system's benchmark key."""
    title: str
    """Column title in the report."""
    group: str
    aggregation: Aggregation
    files: tuple[str, ...]
    """Annotation files (relative to the data directory) a local copy must hold; `*` globs allowed."""
    source: str
    """Where the official copy lives (Hugging Face dataset id and upstream repository)."""
    paper: float
    """Published SpatialClaw score."""
    notool: float
    """Published score of the same VLM answering without tools."""
    merge: tuple[tuple[str, str], ...] = ()
    """(category prefix, task) pairs: macro averages these categories into one task first."""
    excluded: tuple[str, ...] = ()
    """Categories the authors' own scorer leaves out of the overall (still reported per category)."""
    sc_excluded: tuple[str, ...] = ()
    """Categories the published system leaves out of its overall."""
    subsets: tuple[str, ...] = ()
    """Sample-id prefixes the authors score as separate sets (SPBench's "SI_"/"MV_"): under the official
    rules each subset gets its own figure and the benchmark's is their unweighted mean."""


_Extra = tuple[tuple[str, str], ...] | tuple[str, ...]


def _s(name: str, title: str, group: str, agg: Aggregation, files: tuple[str, ...], source: str,
       paper: float, notool: float, **extra: _Extra) -> BenchSpec:  # fmt: skip
    return msgspec.convert(
        {"name": name, "title": title, "group": group, "aggregation": agg, "files": files,
         "source": source, "paper": paper, "notool": notool, **extra},
        BenchSpec,
    )  # fmt: skip


_HF = "https://huggingface.co/datasets/"
BLINK_SUBTASKS = (
    "Art_Style", "Counting", "Forensic_Detection", "Functional_Correspondence", "IQ_Test", "Jigsaw",
    "Multi-view_Reasoning", "Object_Localization", "Relative_Depth", "Relative_Reflectance",
    "Semantic_Correspondence", "Spatial_Relation", "Visual_Correspondence", "Visual_Similarity",
)  # fmt: skip
"""BLINK's 14 subtasks (one Hugging Face config each)."""
SPECS: tuple[BenchSpec, ...] = (
    _s("erqa", "ERQA", "Single-image", "micro", ("data/test-*.parquet",),
       f"{_HF}FlagEval/ERQA (origin: github.com/embodiedreasoning/ERQA)", 61.3, 58.3),
    _s("omni3d", "Omni3D", "Single-image", "micro", ("annotations.json", "images"),
       f"{_HF}dmarsili/Omni3D-Bench", 54.3, 51.7),
    _s("omnispatial", "OmniSpatial", "Single-image", "micro", ("OmniSpatial-test/data.json",),
       f"{_HF}qizekun/OmniSpatial", 63.6, 57.3),
    _s("spbench", "SPBench", "Single-image", "macro", ("SPBench-SI.parquet", "SPBench-MV.parquet"),
       f"{_HF}hongxingli/SPBench (github.com/ZJU-REAL/SpatialLadder)", 68.4, 55.1, subsets=("SI_", "MV_")),
    _s("mindcube", "MindCube", "Multi-view", "micro", ("data/raw/MindCube*.jsonl",),
       f"{_HF}MLL-Lab/MindCube (github.com/mll-lab-nu/MindCube)", 72.8, 57.5,
       excluded=("translation",), sc_excluded=("translation",)),
    _s("mmsi", "MMSI", "Multi-view", "micro", ("MMSI_Bench.parquet",),
       f"{_HF}RunsenXu/MMSI-Bench (github.com/InternRobotics/MMSI-Bench)", 51.3, 37.9),
    _s("sparbench", "SPAR", "Multi-view", "macro", ("data/test-*.parquet",),
       f"{_HF}jasonzhango/SPAR-Bench (github.com/LogosRoboticsGroup/SPAR)", 63.3, 55.2),
    _s("mmsivideo", "MMSI-Video", "Video & 4D", "micro", ("mmsivideo.json",),
       f"{_HF}rbler/MMSI-Video-Bench (github.com/InternRobotics/MMSI-Video-Bench)", 41.6, 36.9),
    _s("osibench", "OSI", "Video & 4D", "micro", ("data.parquet",),
       f"{_HF}HarmlessSR07/OSI-Bench", 41.9, 35.6),
    _s("paibench", "PAI", "Video & 4D", "micro", ("data/test-*.parquet",),
       f"{_HF}shi-labs/physical-ai-bench-understanding (github.com/SHI-Labs/physical-ai-bench)",
       68.1, 65.0),
    _s("vsibench_unbiased", "VSI-U", "Video & 4D", "macro", ("test_debiased.parquet",),
       f"{_HF}nyu-visionx/VSI-Bench (github.com/vision-x-nyu/thinking-in-space)", 48.5, 48.0,
       merge=(("object_rel_direction", "object_rel_direction"),)),
    _s("vstibench", "VSTI", "Video & 4D", "macro", ("test.json",),
       f"{_HF}Journey9ni/vstibench (github.com/VITA-Group/VLM-3R)", 67.6, 54.7),
    _s("dsibench", "DSI", "Video & 4D", "micro",
       ("metadatas/std.csv", "metadatas/hflip.csv", "metadatas/reverse.csv", "metadatas/reverse_hflip.csv"),
       f"{_HF}Viglong/DSI-Bench (github.com/SpatialVision/dsibench)", 62.9, 45.3),
    _s("blink", "BLINK", "General spatial", "macro", tuple(f"{t}/val-*.parquet" for t in BLINK_SUBTASKS),
       f"{_HF}BLINK-Benchmark/BLINK (github.com/zeyofu/BLINK_Benchmark)", 73.4, 75.7),
    _s("spatialtree", "SpatialTree", "General spatial", "tree", ("annotations_plain.parquet",),
       f"{_HF}LongfeiLi/SpatialTree-Bench", 60.7, 59.9),
    _s("viewspatial", "ViewSpatial", "General spatial", "micro", ("ViewSpatial-Bench.json",),
       f"{_HF}lidingm/ViewSpatial-Bench (github.com/ZJU-REAL/ViewSpatial-Bench)", 60.2, 51.7),
    _s("cvbench", "CVBench", "General video", "micro", ("data/test-*.parquet",),
       f"{_HF}Dongyh35/CVBench (cross-video; not Cambrian's CV-Bench)", 72.2, 69.8),
    _s("perceptioncomp", "PerceptionComp", "General video", "micro", ("questions.json|1-1114.json",),
       f"{_HF}hrinnnn/PerceptionComp (github.com/hrinnnn/PerceptionComp)", 44.0, 36.8),
    _s("videomme", "Video-MME", "General video", "micro", ("videomme/test-*.parquet",),
       f"{_HF}lmms-lab/Video-MME (github.com/BradyFU/Video-MME)", 77.0, 74.8),
    _s("videommev2", "Video-MME-v2", "General video", "group", ("test.parquet",),
       f"{_HF}MME-Benchmarks/Video-MME-v2", 44.4, 40.7),
)  # fmt: skip

_BY_NAME = {s.name: s for s in SPECS}


def spec(name: str) -> BenchSpec | None:
    """The spec registered as `name`, or None for suites that are not one of the 20."""
    return _BY_NAME.get(name)


def get(name: str) -> BenchSpec:
    """The spec of one of the 20 benchmarks.

    Raises:
        KeyError: `name` is not one of them (a programming error in a loader module).
    """
    return _BY_NAME[name]
