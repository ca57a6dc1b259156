"""DSI-Bench: 1,769 dynamic-scene video MCQs under four augmentations (std, hflip, reverse,
reverse_hflip), each augmentation a sample of its own (the ground truth may change with it).

Ids are `<aug>__row_<6-digit row>`. Official scoring reads the reply's first letter; the published
system tries `\\boxed{}`, an answer marker and the tail first. Micro over all 7,076.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench.suites._core import Context, Rules, letter_score, read_csv, suite_factory
from bench.suites._extract import answer_marker, boxed_letter, chain, clean, last_letter_mark, leading_letter
from bench.suites._official import dsi_letter
from bench.suites._specs import get
from claw.suite import Sample, Score

SPEC = get("dsibench")
AUGMENTATIONS = ("std", "hflip", "reverse", "reverse_hflip")
CATEGORIES = ("Obj:static cam", "Obj:moving cam", "Cam:static scene", "Cam:dynamic scene",
              "Obj-Cam distance", "Obj-Cam orientation")  # fmt: skip


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One CSV row (all values as written in the file)."""

    cate: int
    relative_path: str
    question: str
    options: str
    GT: str
    video_type: str = ""
    others: str = ""
    aug: str = ""
    row: int = 0


def rows(data: Path) -> list[Row | None]:
    """The four CSVs in augmentation order, each row tagged with its augmentation and position."""
    out: list[Row | None] = []
    for aug in AUGMENTATIONS:
        found = read_csv(data / "metadatas" / f"{aug}.csv", Row)
        out += [
            None if r is None else msgspec.structs.replace(r, aug=aug, row=i) for i, r in enumerate(found)
        ]
    return out


def split_options(text: str) -> list[str]:
    """ "A: x; B: y; …" as option texts."""
    return [part.split(":", 1)[1].strip() if ":" in part else part.strip() for part in text.split(";")]


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample over `videos/<aug>/<relative_path>`."""
    video = ctx.media.video(ctx.data / "videos" / row.aug / row.relative_path)
    category = CATEGORIES[row.cate] if 0 <= row.cate < len(CATEGORIES) else str(row.cate)
    return ctx.sample(
        f"{row.aug}__row_{row.row:06d}", row.question, "letter", row.GT.strip(), [video],
        category=category, options=split_options(row.options), metadata={"augmentation": row.aug},
    )  # fmt: skip


def _first_letter(text: str, allowed: str) -> str | None:
    stripped = text.strip()
    return stripped[0].upper() if stripped and stripped[0].upper() in allowed else None


_SC = chain(boxed_letter, answer_marker, last_letter_mark, leading_letter)


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """Official first letter, or the published system's longer chain."""
    if rules == "sc":
        return letter_score(_SC(clean(answer), "ABCD"), sample)
    letter = dsi_letter(answer or "")
    return Score(value=float(letter == sample.ground_truth.strip()), metric="exact", extracted=letter or None)


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
