"""Shared helpers for the official-rule tables: a minimal `Sample` of a benchmark and its official score.

Every table in `test_official_*.py` was written by hand from the authors' scoring code (named in
`bench/suites/RULES.md`), one reply × truth at a time, with the outcome that code gives — including its
quirks — not by running claw's scorers."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from claw.suite import AnswerFormat, MetaValue, Sample, Score

ABCD = ("left", "right", "front", "back")
"""Four placeholder option texts."""


def sample(
    bench: str,
    truth: str,
    *,
    answer_format: AnswerFormat = "letter",
    options: Sequence[str] = ABCD,
    category: str = "default",
    **metadata: MetaValue,
) -> Sample:
    """A sample of `bench` carrying only what its scorer reads."""
    return Sample(
        id="t", suite=bench, question="(rule table)", answer_format=answer_format, ground_truth=truth,
        videos=(), category=category, options=tuple(options), metadata=dict(metadata),
    )  # fmt: skip


def official(bench: str, item: Sample, reply: str) -> Score:
    """`reply` scored by `bench`'s default (official) rule."""
    module = importlib.import_module(f"bench.suites.{bench}")
    score: Score = module.score(item, reply, "official")
    return score
