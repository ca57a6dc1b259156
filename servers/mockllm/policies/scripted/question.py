"""How the scripted policy reads a question: its task type (by wording), the objects it names, the
options and the answer format, from the first user message's sections.
"""

from __future__ import annotations

import re

import msgspec

from claw.agent.markers import ANSWER_FORMAT_HEADING, OPTIONS_HEADING, QUESTION_HEADING

__all__ = ["Parsed", "letters_of", "object_names", "parse_question"]

_OPTION = re.compile(r"^([A-Z])\.\s+(.*)$", re.MULTILINE)

_PATTERNS: tuple[tuple[str, str], ...] = (
    ("abs_distance_closest", r"between the (?P<a>.+?) and the (?P<b>.+?), measured between their closest"),
    ("abs_distance_centroid", r"between the centres of the (?P<a>.+?) and the (?P<b>.+?)\?"),
    ("object_size", r"longest side of the (?P<a>.+?), in centimetres"),
    ("object_count", r"How many (?P<a>.+?) are there"),
    ("relative_distance", r"closest to the (?P<a>.+?), measured between object centres"),
    ("relative_direction_object", r"stand at the (?P<a>.+?) facing the (?P<b>.+?), is the (?P<c>.+?) to my"),
    ("relative_direction_camera", r"camera that took image (?P<k>\d+) .*where is the (?P<a>.+?)\?"),
    ("depth_order", r"nearest to the camera"),
    ("height_comparison", r"top of the (?P<a>.+?) higher above the floor than the top of the (?P<b>.+?)\?"),
    ("larger_object", r"larger \(by its longest side\): the (?P<a>.+?) or the (?P<b>.+?)\?"),
    ("room_size", r"floor area of this room"),
    ("camera_motion", r"direction did the camera mainly move"),
    ("camera_rotation", r"did the camera turn to its left or to its right"),
    ("appearance_order", r"order do these objects first appear"),
)


class Parsed(msgspec.Struct, frozen=True, kw_only=True):
    """What the policy understood of the question."""

    task: str
    """Task type, or `unknown`."""
    names: tuple[str, ...]
    """Objects the question names, in order of mention."""
    options: tuple[str, ...]
    answer_format: str
    image: int = 1
    """The 1-based image a camera-relative question refers to."""


def _section(text: str, heading: str) -> str:
    if heading not in text:
        return ""
    return text.split(heading, 1)[1].split("\n## ", 1)[0].strip()


def _singular(word: str) -> str:
    if word.endswith("xes"):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def parse_question(text: str) -> Parsed:
    """Read the task type, named objects, options and answer format from a first user message."""
    question = _section(text, QUESTION_HEADING)
    options = tuple(m.group(2).strip() for m in _OPTION.finditer(_section(text, OPTIONS_HEADING)))
    answer_format = (_section(text, ANSWER_FORMAT_HEADING).split("\n", 1) or ["text"])[0].strip()
    for task, pattern in _PATTERNS:
        match = re.search(pattern, question, re.DOTALL)
        if match is None:
            continue
        groups = match.groupdict()
        names = tuple(groups[k] for k in ("a", "b", "c") if groups.get(k))
        if task == "object_count":
            names = (_singular(names[0]),)
        image = int(groups["k"]) if groups.get("k") else 1
        return Parsed(task=task, names=names, options=options, answer_format=answer_format, image=image)
    return Parsed(task="unknown", names=(), options=options, answer_format=answer_format)


def letters_of(parsed: Parsed) -> dict[str, str]:
    """Option text → its letter."""
    return {text: chr(65 + i) for i, text in enumerate(parsed.options)}


def object_names(parsed: Parsed) -> list[str]:
    """The objects to segment for `parsed` (options for comparisons, walls for the room)."""
    match parsed.task:
        case "relative_distance":
            return [parsed.names[0], *parsed.options]
        case "depth_order" | "larger_object" if parsed.options:
            return list(parsed.options)
        case "appearance_order":
            return [n.strip() for n in parsed.options[0].split(",")] if parsed.options else []
        case "room_size":
            return ["wall"]
    return list(parsed.names)
