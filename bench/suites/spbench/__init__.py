"""SPBench: single-view (SI, 1,009) and multi-view (MV, 319) ScanNet questions, MCQ or numeric.

Official scoring (ZJU-REAL/SpatialLadder `eval_spld`): the `<answer>` content when tagged; MCQ by the
first space-separated piece ("X"/"X.") else the whole reply, ignoring case; numbers by SpatialLadder's
word table in its order ("a"/"an" read as 1), else the first number, then MRA. SI and MV are separate
evaluations (each a macro over question types; the headline is their mean). The published system: MCQ
by `\\boxed{X}` → the first "X." / "(X)" / "X:" → the first token → the option text; number words
zero…twenty first; macro over question types of both. Sizes are in centimetres, distances in metres.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from bench.scoring import extract_number, mra_score
from bench.suites._core import Context, Rules, letter_score, option_text, read_parquet, suite_factory
from bench.suites._extract import boxed_letter, chain, clean, first_token_letter, option_match
from bench.suites._official import spbench_mc_matches
from bench.suites._official_numeric import mra_divided, spbench_number
from bench.suites._specs import get
from claw.suite import Sample, Score

SPEC = get("spbench")


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One row of `SPBench-SI.parquet` / `SPBench-MV.parquet`."""

    id: int | str
    scene_name: str
    question_type: str
    question: str
    ground_truth: str | float | int
    images: list[str]
    options: list[str] | None = None
    subset: str = ""


def rows(data: Path) -> list[Row | None]:
    """SI rows, then MV rows, each tagged with its subset."""
    out: list[Row | None] = []
    for subset in ("SI", "MV"):
        found = read_parquet([data / f"SPBench-{subset}.parquet"], Row)
        out += [None if r is None else msgspec.structs.replace(r, subset=subset) for r in found]
    return out


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample; images are `<scene_name>/<image>`."""
    paths = [ctx.data / row.scene_name / name for name in row.images]
    options = [option_text(o) for o in row.options or []]
    return ctx.sample(
        f"{row.subset}_{row.id}", row.question, "letter" if options else "number", str(row.ground_truth),
        [ctx.media.image_set(row.scene_name, paths)], category=row.question_type, options=options,
        metadata={"subset": row.subset, "scene_name": row.scene_name},
    )  # fmt: skip


def _first_mark(text: str, allowed: str) -> str | None:
    m = re.search(rf"(?:\(([{allowed}])\)|(?<![A-Za-z])([{allowed}])[.:](?!\w))", text)
    return (m.group(1) or m.group(2)) if m else None


_MCQ = chain(boxed_letter, _first_mark, first_token_letter)


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """Official: SpatialLadder's `<answer>` step, first-piece letter / word-then-number MRA; SC: the
    published system's letter chain and number words zero…twenty."""
    if rules == "official":
        return _official(sample, answer or "")
    reply = clean(answer)
    if sample.options:
        letters = "".join(chr(65 + i) for i in range(len(sample.options)))
        return letter_score(_MCQ(reply, letters) or option_match(reply, sample.options), sample)
    return mra_score(extract_number(reply, words="ordered"), float(sample.ground_truth), zero="fail")


def _official(sample: Sample, reply: str) -> Score:
    if "<answer>" in reply:
        m = re.search(r"<answer>(.*?)</answer>", reply, re.DOTALL)
        reply = m.group(1).strip() if m else "None"
    if sample.options:
        hit = spbench_mc_matches(reply, sample.ground_truth.strip())
        return Score(value=float(hit), metric="exact", extracted=reply.strip() or None)
    pred = spbench_number(reply)
    return msgspec.structs.replace(mra_score(pred, 1.0), value=mra_divided(pred, float(sample.ground_truth)))


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
