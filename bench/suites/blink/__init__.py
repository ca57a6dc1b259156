"""BLINK (val): 1,901 MCQs over 1–4 embedded images in 14 perception subtasks; the answer is "(A)"….

The official scorer (zeyofu/BLINK_Benchmark eval/test_benchmark.py `analyze_answer`) takes a reply that
is exactly "X" or "(X)", else the one "(X)" token of the last paragraph or of the whole reply, and asks
GPT-3.5 to match anything else to a choice, which cannot run offline. claw runs the deterministic steps
exactly and, for the LLM step, `match_reply` on the reply with full-width brackets and tokenizer markers
normalised: `\\boxed{X}`; the first letter mention after the last concluding phrase ("the answer is",
"Therefore", "I would choose", …); the first mention in the last paragraph; the first mention anywhere
("(B)", "Point C", "Choice A", "Box B", "**D**"); the option text; else "(Z)". On GPT-4o's stored
replies the combination agrees with the official matched choice on 1,822 of 1,901 (`match_reply` alone:
1,818; the lmms-eval leading-letter rule: 645). The published system's deterministic chain is the "sc"
option. Macro over the 14 subtasks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import msgspec

from bench.scoring import exact_score
from bench.suites._core import Context, HFImage, Rules, data_files, image_video, read_parquet, suite_factory
from bench.suites._extract import clean, option_match
from bench.suites._official import blink_deterministic
from bench.suites._specs import get
from claw.suite import Sample, Score

SPEC = get("blink")
NONE = "Z"
_MENTION = re.compile(
    r"\(([A-E])\)|\b(?:[Pp]oint|[Cc]hoice|[Oo]ption|[Ii]mage|[Aa]nswer|[Bb]ox)\s*:?\s*\**\(?([A-E])\b(?!['’])"
    r"|\*\*([A-E])\*\*|^\s*([A-E])[.):]?\s*$|^\s*\(?([A-E])[.)]\s",
    re.MULTILINE,
)
_CONCLUSION = re.compile(
    r"answer is|correct choice is|correct answer is|correct option is|choice is|option is|answer:|therefore"
    r"|thus|in conclusion|so,|^so\b|hence|final answer|would select|would choose",
    re.IGNORECASE | re.MULTILINE,
)


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One row of `<Subtask>/val-*.parquet`."""

    idx: str
    question: str
    sub_task: str
    choices: list[str]
    answer: str
    image_1: HFImage | None = None
    image_2: HFImage | None = None
    image_3: HFImage | None = None
    image_4: HFImage | None = None
    prompt: str = ""


def rows(data: Path) -> list[Row | None]:
    """Val rows of every subtask, subtask by subtask (only val has answers)."""
    return read_parquet([f for pattern in SPEC.files for f in data_files(data, pattern)], Row)


def build(row: Row, index: int, ctx: Context) -> Sample:
    """One sample; the present images form one set."""
    images = [im for im in (row.image_1, row.image_2, row.image_3, row.image_4) if im is not None]
    return ctx.sample(
        row.idx, row.question, "letter", row.answer.strip(), [image_video(ctx, "images", images)],
        category=row.sub_task, options=row.choices,
    )  # fmt: skip


def mentions(text: str) -> list[str]:
    """Option letters mentioned in `text`, in order."""
    return [next(g for g in m.groups() if g) for m in _MENTION.finditer(text)]


def match_reply(reply: str, options: Sequence[str] = ()) -> str:
    """claw's deterministic stand-in for the official LLM matcher: a letter A–E, or "Z" for none."""
    boxed = re.search(r"\\boxed\{\s*\(?([A-E])", reply)
    if boxed:
        return boxed.group(1)
    conclusions = list(_CONCLUSION.finditer(reply))
    paragraphs = [p for p in re.split(r"\n\s*\n", reply) if p.strip()]
    for part in (
        reply[conclusions[-1].end() :] if conclusions else "",
        paragraphs[-1] if len(paragraphs) > 1 else "",
        reply,
    ):
        found = mentions(part)
        if found:
            return found[0]
    return _fallback(reply, options)


def _fallback(reply: str, options: Sequence[str]) -> str:
    lead = re.match(r"\s*\(?([A-E])\b", reply)
    if lead:
        return lead.group(1)
    return option_match(reply, options) or NONE


def leading_letter_rule(reply: str) -> str:
    """lmms-eval's rule: optional "(" or spaces, a letter, optional ")" or "." at the start."""
    m = re.match(r"\s*\(?([A-Za-z])[).]?", reply)
    return m.group(1).upper() if m else NONE


def sc_chain(reply: str) -> str:
    """The published system's deterministic chain."""
    text = reply.strip()
    bare = re.fullmatch(r"\(?([A-E])\)?\.?", text)
    if bare:
        return bare.group(1)
    steps = (_last_boxed, _unique_paren, _last_paren_only, _phrase, _leading)
    for step in steps:
        found = step(text)
        if found:
            return found
    return NONE


def _last_boxed(text: str) -> str | None:
    found = re.findall(r"\\boxed\{\s*\(?([A-E])", text)
    return found[-1] if found else None


def _unique_paren(text: str) -> str | None:
    for part in (text, re.split(r"\n\s*\n", text)[-1]):
        found: set[str] = set(re.findall(r"\(([A-E])\)", part))
        if len(found) == 1:
            return found.pop()
    return None


def _last_paren_only(text: str) -> str | None:
    found = re.findall(r"\(([A-E])\)", text)
    return found[-1] if found else None


def _phrase(text: str) -> str | None:
    found = re.findall(r"(?:answer|choice|option)\s*(?:is)?\s*:?\s*\(?([A-E])\b", text, re.IGNORECASE)
    return found[-1].upper() if found else None


def _leading(text: str) -> str | None:
    m = re.match(r"\s*\(?([A-E])[).:\s]", text + " ")
    return m.group(1) if m else None


def official_choice(reply: str, options: Sequence[str] = ()) -> str:
    """The authors' `analyze_answer`: its deterministic steps exactly (`_official.blink_deterministic`),
    and `match_reply` where they hand the reply to GPT-3.5. Returns "(X)"."""
    found = blink_deterministic(reply, len(options) or 4)
    return found if found is not None else f"({match_reply(_plain(reply), options)})"


def _plain(reply: str) -> str:
    """Full-width brackets made ASCII and tokenizer markers ("<s>", "</s>") dropped, as an LLM reads them."""
    text = reply.replace("（", "(").replace("）", ")").replace("：", ":")
    return re.sub(r"</?s>|<\|[a-z_]+\|>", " ", text).strip()


def score(sample: Sample, answer: str | None, rules: Rules) -> Score:
    """Exact match of the matched "(X)" with the ground truth."""
    if rules == "sc":
        choice = f"({sc_chain(clean(answer))})"
    else:
        choice = official_choice(answer or "", sample.options)
    return exact_score(choice, sample.ground_truth.strip())


make_suite, make_sc_suite = suite_factory(SPEC, rows, build, score)
