"""Each benchmark's own instruction sentences, written for claw: how the answer is to be given (the
benchmark's answer convention) and, where a benchmark needs one, a note on how its inputs map onto the
kernel (VSTI's "frame X of N", ViewSpatial's viewpoints, CVBench's several videos, MMSI-Video's
reference images). `Context.sample` attaches the text to every sample as `Sample.instruction`; the prompt
shows it right after the question.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from claw.suite import Frame, Sample, evenly_spaced

__all__ = ["instruction_for"]


def _letters(sample: Sample) -> str:
    n = len(sample.options)
    if n == 0:
        return "the option letter"
    if n == 2:
        return "one option letter, A or B"
    return f"one option letter, A to {chr(64 + n)}"


def _answer_rule(sample: Sample, *, number: str = "one number", text: str = "a short answer") -> str:
    """The generic sentence for the sample's answer format."""
    match sample.answer_format:
        case "letter":
            return f"Answer with {_letters(sample)}, nothing else."
        case "number":
            return f"Answer with {number}, nothing else."
        case "yes_no":
            return "Answer with Yes or No."
        case _:
            return f"Answer with {text}, nothing else."


def _video_note(sample: Sample) -> str:
    return "The frames come from one video, in time order."


def _vsti_frames(sample: Sample) -> str:
    """Questions name frames as "frame X of N": positions in N evenly spaced samples of the whole video,
    counted from 0. Spell out where each cited frame is in this kernel's `InputImages`."""
    cited = sorted({(int(x), int(n)) for x, n in _cited_frames(sample.question)})
    video = sample.videos[0] if sample.videos else None
    if not cited or video is None or not video.frames:
        return ""
    total = video.total_frames or len(video.frames)
    lines = []
    for x, n in cited:
        grid = evenly_spaced(total, n)
        if not 0 <= x < len(grid):
            continue
        lines.append(f"frame {x} of {n} = {_held(video.frames, grid[x])}")
    if not lines:
        return ""
    head = (
        '"Frame X of N" counts N evenly spaced frames over the whole video from 0 (frame 0 is the first, '
        "frame N-1 the last). Here:"
    )
    return " ".join([head, "; ".join(lines) + "."])


def _held(frames: tuple[Frame, ...], absolute: int) -> str:
    position = min(range(len(frames)), key=lambda p: abs(frames[p].index - absolute))
    held = frames[position].index
    if held == absolute:
        return f"video frame {absolute}, InputImages[{position}]"
    return f"video frame {absolute}, nearest held InputImages[{position}] (video frame {held})"


def _cited_frames(question: str) -> list[tuple[str, str]]:
    pairs = re.findall(r"frames?\s+(\d+)(?:\s*(?:and|to|,)\s*(?:frame\s+)?(\d+))?\s+of\s+(\d+)", question)
    found: list[tuple[str, str]] = []
    for first, second, n in pairs:
        found.append((first, n))
        if second:
            found.append((second, n))
    return found


def _reference_note(sample: Sample) -> str:
    names = [i for i, v in enumerate(sample.videos, start=1) if v.name == "reference"]
    if not names:
        return ""
    return (
        f"The reference images the question mentions are InputImages_{names[0]}, in order (reference "
        f"image #1 is InputImages_{names[0]}[0]); the other InputImages_<k> are the videos."
    )


_VIEWPOINT = (
    "Some questions take the camera's viewpoint, others the viewpoint of a person or object in the scene: "
    "answer from the viewpoint the question names (for a person, their left and right, which mirror the "
    "camera's when they face it). Several images are different views of the same scene."
)
_CROSS_VIDEO = (
    "This sample has several videos; each is its own list, InputImages_1, InputImages_2, ... (InputImages "
    "holds them all in order). Compare them side by side: pass frames of each video to vlm.ask or show()."
)

Rule = Callable[[Sample], list[str]]

_RULES: dict[str, Rule] = {
    "erqa": lambda s: [_answer_rule(s) + " Do not explain."],
    "omni3d": lambda s: [
        _answer_rule(s, number="one number without units", text="one word or short phrase without units")
    ],
    "omnispatial": lambda s: [_answer_rule(s)],
    "spbench": lambda s: [_answer_rule(s, number="one number in the unit the question asks for")],
    "mindcube": lambda s: [
        "The images are views of one scene from different sides. Answer with the option letter followed "
        "by its text, e.g. 'B. Window'."
    ],
    "mmsi": lambda s: ["The images are views of one scene.", _answer_rule(s)],
    "sparbench": lambda s: [
        _answer_rule(s, text="the camera movement in exactly the form the question gives")
    ],
    "mmsivideo": lambda s: [_reference_note(s), _answer_rule(s)],
    "osibench": lambda s: [_video_note(s), _answer_rule(s)],
    "paibench": lambda s: [_video_note(s), _answer_rule(s)],
    "vsibench_unbiased": lambda s: [
        _video_note(s),
        _answer_rule(s, number="one number (metres, square metres or a count, as asked)"),
    ],
    "vstibench": lambda s: [_video_note(s), _vsti_frames(s), _answer_rule(s, number="one number in metres")],
    "dsibench": lambda s: [
        "Motion is judged against where the camera or object started and the way it faced at the start.",
        _answer_rule(s),
    ],
    "blink": lambda s: ["Answer with the option letter in parentheses, e.g. (B)."],
    "spatialtree": lambda s: [_answer_rule(s)],
    "viewspatial": lambda s: [_VIEWPOINT, _answer_rule(s)],
    "cvbench": lambda s: [_CROSS_VIDEO, _answer_rule(s)],
    "perceptioncomp": lambda s: [_video_note(s), _answer_rule(s)],
    "videomme": lambda s: [_video_note(s), _answer_rule(s)],
    "videommev2": lambda s: [_video_note(s), _answer_rule(s)],
}


def instruction_for(sample: Sample) -> str:
    """The instruction sentences for `sample` under its benchmark's convention ("" for a suite that is
    not one of the 20 benchmarks)."""
    rule = _RULES.get(sample.suite)
    if rule is None:
        return ""
    return " ".join(part for part in rule(sample) if part)
