"""Each benchmark's official answer extraction, reimplemented from its authors' scoring code (the file is
named in every docstring and in `bench/suites/RULES.md`): a raw reply in, the extracted answer out, with
the authors' quirks kept (case rules, fallbacks, which match wins). Nothing here strips think blocks or
unwraps `\\boxed{}` unless the official code does.

Numeric rules (first/last number, number words, MRA variants) live in `_official_numeric`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence

__all__ = [
    "blink_deterministic",
    "cvbench_answer",
    "dsi_letter",
    "erqa_matches",
    "mindcube_letter",
    "mmsi_letter",
    "mmsivideo_letter",
    "omnispatial_letter",
    "osi_letter",
    "pai_answer",
    "pai_matches",
    "perceptioncomp_letter",
    "spar_mc_matches",
    "spbench_mc_matches",
    "videomme_letter",
    "videommev2_letter",
    "viewspatial_letter",
    "vsi_first_token",
]


def erqa_matches(reply: str, truth: str) -> bool:
    """ERQA (embodiedreasoning/ERQA eval): every "." removed, stripped, lowercased, equal to the truth."""
    return reply.replace(".", "").strip().lower() == truth.replace(".", "").strip().lower()


def omnispatial_letter(reply: str) -> str:
    """OmniSpatial (qizekun/OmniSpatial api_eval.py), by the reply's shape: a ```json``` object ->
    its "answer"'s first character upper-cased ("json" mode); an "Answer: X" line -> the last X as
    written ("re" mode; a lower-case x never equals the upper-case truth); otherwise the first character
    upper-cased ("direct" mode, the one whose prompt asks for the bare letter claw asks for). The json
    and re modes fall back to "A" when they cannot read the reply, as the authors' code does."""
    stripped = reply.strip()
    if stripped.startswith("```json") or stripped.startswith("{"):
        return _omnispatial_json(stripped)
    found = re.findall(r"Answer\s*:\s*([A-D])\b", reply, re.IGNORECASE)
    if found:
        return str(found[-1])
    return stripped.upper()[:1]


def _omnispatial_json(text: str) -> str:
    import json

    cleaned = text.removeprefix("```json").removesuffix("```").strip()
    try:
        value = json.loads(cleaned).get("answer", "A")
        return str(value).strip().upper()[:1]
    except (ValueError, AttributeError):
        return "A"


_MINDCUBE_SECTION = (
    r"[Mm]y answer is ([A-E])", r"[Mm]y answer is ([A-E])\.", r"[Tt]he answer is ([A-E])",
    r"(?:Answer: )?([A-E])\.", r"\b([A-E])\b",
)  # fmt: skip
_MINDCUBE_PATTERNS = (
    r'(?:Answer: )?([A-E])\. [A-Za-z0-9 \-\(\)\'",]+(?=(?:\n|$|\.|"))',
    r'(?:Answer: )?([A-E])\. [A-Za-z0-9 \-\(\)\'"]+',
    r"(?:^|\n)(?:Answer: )?([A-E])(?:\.|$|\s)",
    r"[\*\"]([A-E])[\*\"]",
    r"\bAnswer:?\s*([A-E])\b",
    r"[Mm]y answer is ([A-E])",
    r"answer is ([A-E])",
)


def _last(pattern: str, text: str) -> str | None:
    found = [m.group(1) for m in re.finditer(pattern, text)]
    return found[-1] if found else None


def mindcube_letter(reply: str) -> str | None:
    """MindCube (mll-lab-nu/MindCube src/evaluation/core/extractors.py `extract_answer`; lmms-eval
    mindcube/utils.py is the same): the last "X." anywhere; else inside `<Answer>` the last match of
    the first pattern that hits; else the ordered pattern list, last match of the first that hits; else
    per line "X. words" (last line that has one); else the first standalone A–E of the last line that
    has one. All case-sensitive."""
    text = reply.strip()
    if not text:
        return None
    found = _last(r"([A-E])\.", text)
    if found:
        return found
    section = re.search(r"<Answer>(.*?)(?:<|$)", text, re.DOTALL)
    if section:
        for pattern in _MINDCUBE_SECTION:
            if found := _last(pattern, section.group(1)):
                return found
    for pattern in _MINDCUBE_PATTERNS:
        if found := _last(pattern, text):
            return found
    lines = text.split("\n")
    per_line = [m.group(1) for line in lines if (m := re.search(r'([A-E])\. [A-Za-z0-9 \-\(\)\'",]+', line))]
    if per_line:
        return per_line[-1]
    for line in reversed(lines):
        if m := re.search(r"\b([A-E])\b", line):
            return m.group(1)
    return None


def mmsi_letter(reply: str) -> str | None:
    """MMSI-Bench (InternRobotics/MMSI-Bench README "Answer Extraction"): narrow to the first ``…``,
    then (in that) the first `…`, then the first {…}; the first A–D with word boundaries not followed by
    a space and a letter (case-sensitive). The scorer then compares its lower case with the truth's."""
    text = reply
    for pattern in (r"``([^`]*)``", r"`([^`]*)`", r"\{([^}]*)\}"):
        if m := re.search(pattern, text):
            text = m.group(1)
    m = re.search(r"\b[A-D]\b(?!\s[a-zA-Z])", text)
    return m.group(0) if m else None


def _squash(text: str) -> str:
    for ch in (" ", '"', "'", "\n", ":"):
        text = text.replace(ch, "")
    return text


def mmsivideo_letter(reply: str) -> str:
    """MMSI-Video-Bench (InternRobotics/MMSI-Video-Bench evaluation.py `extract_answer`): `<answer>` tags
    dropped; "no answer" -> 'O'; the text after the first `boxed{` up to `}`; else after the last of the
    first listed marker found ('"answer":', 'answer is', 'answer:', '"Answer":', 'Answer is', 'Answer:'),
    cut at the first "," then "."; else the text before the first "." -> spaces, quotes, newlines and
    colons removed. Anything but one of A–F is 'O' (wrong)."""
    text = reply.replace("<answer>", "").replace("</answer>", "")
    if "no answer" in text:
        return "O"
    if "boxed{" in text:
        got = _squash(text.split("boxed{")[1].split("}")[0])
        return got if got in tuple("ABCDEF") else "O"
    for marker in ('"answer":', "answer is", "answer:", '"Answer":', "Answer is", "Answer:"):
        if marker in text:
            got = _squash(text.split(marker)[-1].split(",")[0].split(".")[0])
            return got if got in tuple("ABCDEF") else "O"
    head = _squash(text.split(".")[0])
    return head if head in tuple("ABCDEF") else "O"


def osi_letter(reply: str) -> str | None:
    """OSI-Bench (lmms-eval osi_bench/utils.py `extract_option_from_prediction`, the evaluator the
    benchmark ships with): a "答案是 X" form; else the first capital letter with a bracket, space, comma or
    full stop on both sides; else a capital letter opening the reply."""
    text = reply.strip()
    if m := re.search(r'[\(\[A-Z]\s*答案是?[:：]?\s*\'?"?([A-Z])\'?"?', text, re.IGNORECASE):
        return m.group(1).upper()
    if m := re.search(r"[\[\(\s,.]([A-Z])[\]\)\s,.]", f" {text} "):
        return m.group(1)
    if m := re.match(r"\s*([A-Z])", text):
        return m.group(1)
    return None


def pai_answer(reply: str, index2ans: Mapping[str, str | None]) -> str:
    """PAI-Bench understanding (lmms-eval physical_ai_understanding/utils.py `MultiChoiceRegexFilter`,
    the task on shi-labs/physical-ai-bench-understanding): think blocks dropped, `<answer>` content
    taken, punctuation removed; a capital letter opening that text (and one of the row's keys) wins;
    else the first option text found in it; else the cleaned text itself."""
    text = re.sub(r"<think>.*?</think>", "", reply, flags=re.DOTALL).strip()
    text = re.sub(r"<thought>.*?</thought>", "", text, flags=re.DOTALL).strip()
    if m := re.search(r"<answer>(.*?)</answer>", text, flags=re.DOTALL):
        text = m.group(1).strip()
    cleaned = re.sub(r"[^\w\s]", "", text).strip()
    lead = re.match(r"^([A-Z])\b", cleaned)
    if lead and lead.group(1) in index2ans:
        return lead.group(1)
    by_text = {v.strip(): k for k, v in sorted(index2ans.items()) if v is not None}
    if by_text:
        found = re.search("|".join(re.escape(t) for t in by_text), cleaned)
        if found and found.group() in by_text:
            return by_text[found.group()]
    return cleaned


def pai_matches(extracted: str, truth: str) -> bool:
    """lmms-eval's `exact_match` with ignore_case and ignore_punctuation."""
    table = str.maketrans("", "", string.punctuation)
    return extracted.lower().translate(table) == truth.lower().translate(table)


def perceptioncomp_letter(reply: str) -> str | None:
    """PerceptionComp (hrinnnn/PerceptionComp evaluate/tools/runners/api_evaluate.py): the last
    `<answer>…</answer>`; else the first "Answer[: ]X" (any case); else the last standalone capital A–E;
    else the reply. Then, upper-cased, the last standalone A–E of that (None: "WRONG")."""
    tagged = re.findall(r"<answer>\s*(.*?)\s*</answer>", reply, re.DOTALL)
    choice: str
    if tagged:
        choice = tagged[-1].strip()
    elif m := re.search(r"(?:Answer[:\s]*)([A-E])\b", reply, re.IGNORECASE):
        choice = m.group(1)
    elif standalone := re.findall(r"\b([A-E])\b", reply):
        choice = standalone[-1]
    else:
        choice = reply
    letters = re.findall(r"\b([A-E])\b", choice.strip().upper())
    return letters[-1] if letters else None


def dsi_letter(reply: str) -> str:
    """DSI-Bench (SpatialVision/dsibench evaluate.py, method 1): the first character of the stripped
    reply, compared case-sensitively with the truth."""
    stripped = reply.strip()
    return stripped[0] if stripped else ""


def viewspatial_letter(text: str) -> str | None:
    """ViewSpatial-Bench (ZJU-REAL/ViewSpatial-Bench evaluate.py `extract_option`): the first A–D with
    word boundaries, any case, upper-cased. The scorer applies it to the reply's last line."""
    m = re.search(r"\b([A-D])\b", text, re.IGNORECASE)
    return m.group(1).upper() if m else None


def cvbench_answer(reply: str) -> str:
    """CVBench (Hokhim2/CVBench Video-R1/src/eval_bench.py `reward_fn`): the first `<answer>…</answer>`
    content, stripped, or the whole reply when there is none (or it is empty); compared exactly
    (case-sensitive) with the truth."""
    m = re.search(r"<answer>\s*(.*?)\s*</answer>", reply, re.DOTALL)
    inner = m.group(1).strip() if m else ""
    return (inner or reply).strip()


_VIDEOMME_PREFIXES = (
    "The best answer is", "The correct answer is", "The answer is", "The answer",
    "The best option isThe correct option is", "Best answer:Best option:", "Answer:", "Option:",
    "The correct answer", "The correct option",
)  # fmt: skip
"""As the official list reads: two pairs lack a comma in the source, so they are joined strings."""
_VIDEOMME_V2_PREFIXES = (
    "Final Answer:", "The best answer is", "The correct answer is", "The answer is", "The answer",
    "The best option is", "The correct option is", "Best answer:", "Best option:", "Answer:", "Option:",
)  # fmt: skip


def _first_capital(reply: str, prefixes: Sequence[str], letters: str) -> str:
    text = reply.strip()
    for prefix in prefixes:
        text = text.replace(prefix, "")
    if len(text.split()) > 10 and not re.search(f"[{letters}]", text):
        return ""
    m = re.search(f"[{letters}]", text)
    return m.group(0) if m else ""


def videomme_letter(reply: str) -> str:
    """Video-MME (thanku-all/parse_answer eval_your_results.py, linked from BradyFU/Video-MME):
    prefixes deleted, "" when over 10 words with no A–D, else the first capital A–D anywhere. "" is
    "not answered" and leaves the denominator."""
    return _first_capital(reply, _VIDEOMME_PREFIXES, "ABCD")


def videommev2_letter(reply: str) -> str:
    """Video-MME-v2 (MME-Benchmarks/Video-MME-v2 evaluation/test_video_mme_v2.py
    `extract_characters_regex_v2`): the same rule over A–H with "Final Answer:" first."""
    return _first_capital(reply, _VIDEOMME_V2_PREFIXES, "ABCDEFGH")


def vsi_first_token(reply: str) -> str:
    """VSI-Bench / VSTI-Bench `fuzzy_matching`: split on single spaces, first piece, trailing "."s
    removed, stripped."""
    return reply.split(" ")[0].rstrip(".").strip()


def spbench_mc_matches(reply: str, truth: str) -> bool:
    """SPBench (ZJU-REAL/SpatialLadder eval_spld/data_utils/vsi_utils.py): "Answer:" deleted; a first
    space-separated piece that is exactly "X" or "X." (capital A–D) gives X, else the whole reply,
    stripped; equal to the truth ignoring case. (`<answer>` content is taken first by the caller.)"""
    text = reply.replace("Answer:", "")
    head = text.split(" ")[0].strip()
    pred = head.rstrip(".").upper().strip() if re.search(r"^[A-D]\.?$", head) else text.strip()
    return pred.lower() == truth.lower()


def spar_mc_matches(reply: str, truth: str) -> bool:
    """SPAR-Bench (LogosRoboticsGroup/SPAR lmms-eval/lmms_eval/tasks/sparbench/utils.py `exact_match`):
    lowercased, the reply equals the truth, or is a substring of it (so an empty reply counts), or its
    first character equals it."""
    pred, gt = reply.lower(), truth.lower()
    return pred == gt or pred in gt or pred[0] == gt


def blink_deterministic(reply: str, n_choices: int) -> str | None:
    """BLINK (zeyofu/BLINK_Benchmark eval/test_benchmark.py `analyze_answer`), its deterministic part:
    a reply that is exactly "X" or "(X)"; else the one "(X)" token among the whitespace-separated
    tokens of the last paragraph, or of the whole reply. None where the authors ask GPT-3.5 to match."""
    choices = [f"({chr(65 + i)})" for i in range(min(n_choices, 5))]
    if reply in tuple("ABCDE"):
        return f"({reply})"
    if reply in ("(A)", "(B)", "(C)", "(D)", "(E)"):
        return reply
    whole = set(choices) & set(reply.split())
    last = set(choices) & set(reply.split("\n\n")[-1].split())
    if (len(whole) != 1 and len(last) != 1) or not whole:
        return None
    return next(iter(last if len(last) == 1 else whole))
