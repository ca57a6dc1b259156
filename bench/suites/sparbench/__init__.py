"""SPAR-Bench: 7,207 questions in 20 tasks over one or more embedded images: MCQ (select), numeric
(fill) and view-change strings ("move_right:0.4,turn_left:30,…").

Official scoring (LogosRoboticsGroup/SPAR `sparbench/utils.py`): MCQ is lenient on the raw reply (it
equals the answer, is a substring of it — so "" counts — or its first character is the answer); numbers
are the first unsigned number (single-view tasks) or the last (`_mv` tasks), MRA with |p − t| when the
truth is 0; view-change strings fold `move_*`/`rotate_*` opposites into five axes and average per-axis
MRAs measured against the prediction. The published system reads `turn_*` axes and measures against
the truth. Macro over the 20 tasks.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from bench.scoring import exact_score, extract_number, micro_mean, mra, mra_score
from bench.suites._core import Context, HFImage, Rules, data_files, image_video, read_parquet, suite_factory
from bench.suites._extract import clean
from bench.suites._official import spar_mc_matches
from bench.suites._official_numeric import spar_number, spar_view_change
from bench.suites._specs import get
from claw.suite import AnswerFormat, Sample, Score

SPEC = get("sparbench")
VIEW_CHANGE = "view_change_infer"
MC_TASKS = frozenset({
    "obj_spatial_relation_oo", "obj_spatial_relation_oc_mv", "obj_spatial_relation_oo_mv",
    "spatial_imagination_oc", "spatial_imagination_oo", "spatial_imagination_oc_mv",
    "spatial_imagination_oo_mv", "position_matching", "camera_motion_infer", "distance_infer_center_oo",
    "distance_infer_center_oo_mv",
})  # fmt: skip
"""The 11 tasks the official code scores by its lenient exact match (its MCA_QUESTION_TYPES)."""
_AXES = {"move_right": 1, "move_left": -1, "move_up": 1, "move_down": -1, "move_forward": 1,
         "move_backward": -1, "turn_right": 1, "turn_left": -1, "turn_up": 1, "turn_down": -1}  # fmt: skip


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One row of `data/test-*.parquet`."""

    id: int | str
    question: str
    image: list[HFImage]
    answer: str
    task: str
    img_type: str = ""
    format_type: str = ""
    source: str = ""


def rows(data: Path) -> list[Row | None]:
    """All rows of the four test shards, in shard order."""
    return read_parquet(data_files(data, SPEC.files[0]), Row)


NUMERIC_TASKS = frozenset(
    f"{kind}_prediction_{pair}{view}"
    for kind in ("depth", "distance")
    for pair in ("oc", "oo")
    for view in ("", "_mv")
)
"""The 8 tasks the official code scores by MRA (its NA_QUESTION_TYPES); every other named task is MC."""


def _format(row: Row) -> AnswerFormat:
    """By task, as the official code dispatches (`format_type` decides only for a task it does not name)."""
    if row.task == VIEW_CHANGE:
        return "text"
    if row.task in NUMERIC_TASKS:
        return "number"
    if row.task in MC_TASKS:
        return "letter"
    return "letter" if row.format_type == "select" else "number"


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample; options and answer rules stay embedded in the question, as released."""
    return ctx.sample(
        str(row.id), row.question, _format(row), row.answer.strip(), [image_video(ctx, "views", row.image)],
        category=row.task, metadata={"img_type": row.img_type, "format_type": row.format_type},
    )  # fmt: skip


def _lenient(reply: str, truth: str) -> Score:
    pred, gt = reply.strip().lower(), truth.strip().lower()
    hit = bool(pred) and (pred == gt or pred in gt or pred[0] == gt[0])
    return Score(value=float(hit), metric="exact", extracted=reply.strip() or None)


def axes(text: str) -> dict[str, float]:
    """A view-change string folded into signed values on the five axes (right, up, forward, turn_right,
    turn_up)."""
    out: dict[str, float] = {}
    for name, value in re.findall(r"([a-z_]+)\s*:\s*([-+]?\d*\.?\d+)", text.lower()):
        if name in _AXES:
            axis = name.replace("left", "right").replace("down", "up").replace("backward", "forward")
            out[axis] = out.get(axis, 0.0) + _AXES[name] * float(value)
    return out


def _view_change(reply: str, truth: str) -> Score:
    want, got = axes(truth), axes(reply)
    keys = sorted(want) or ["move_right"]
    value = micro_mean(mra(got.get(k, 0.0), want.get(k, 0.0), zero="absolute") for k in keys)
    return Score(value=value, metric="mra", extracted=reply.strip() or None)


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """Official (the authors' lmms-eval task): lenient MCQ on the raw reply, first/last-number MRA,
    per-axis view-change MRA; SC: the same after think blocks are dropped, `turn_*` axes, error
    measured against the truth."""
    if rules == "official" and answer is not None:
        return _official(sample, answer)
    reply = clean(answer)
    if sample.category == VIEW_CHANGE:
        return _view_change(reply, sample.ground_truth)
    if sample.answer_format == "letter":
        return _lenient(reply, sample.ground_truth) if reply else exact_score(None, sample.ground_truth)
    value = extract_number(reply, position="last" if sample.category.endswith("_mv") else "first")
    return mra_score(value, float(sample.ground_truth), zero="absolute")


def _official(sample: Sample, reply: str) -> Score:
    truth = sample.ground_truth
    if sample.category == VIEW_CHANGE:
        return Score(value=spar_view_change(reply, truth), metric="mra", extracted=reply.strip() or None)
    if sample.answer_format == "letter":
        return Score(
            value=float(spar_mc_matches(reply, truth)), metric="exact", extracted=reply.strip() or None
        )
    pred = spar_number(reply, multi_view=sample.category.endswith("_mv"))
    return mra_score(pred, float(truth), zero="absolute")


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
