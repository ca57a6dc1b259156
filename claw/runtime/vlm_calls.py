"""The three `vlm` sub-calls a kernel may make, as isolated chat transcripts (no shared history with the
agent), and the reading of a grounding reply.

`ask` is a focused question about the given images; `locate` asks where a named thing is in one image and
expects JSON boxes and points on a 0..1000 grid of the image (x right, y down), or `{"visible": false}`;
`reason` is a text-only reasoning call (a thinking model's reasoning comes back apart from the answer).
Every call is sent as the `vlm_ask` role, so `[models.vlm_ask]` endpoints and `[models.requests.vlm_ask]`
settings apply to all three.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from claw.llm.images import bytes_data_url
from claw.llm.types import ContentPart, ImagePart, ImageURL, Message, TextPart
from claw.wire.vlm import GROUNDING_SCALE, AskRequest, AskResponse

__all__ = ["LOCATE_PREFIX", "REASON_PREFIX", "GroundingUnreadable", "grounding_response", "sub_call_messages"]

LOCATE_PREFIX = "Find: "
"""Starts the user message of a `locate` call (the mock server's policies recognise it)."""
REASON_PREFIX = "Question: "
"""Starts the question line of a `reason` call."""

_ASK_SYSTEM = (
    "You answer one focused question about the given images. Look carefully, answer briefly and "
    "concretely, and say 'cannot determine' when the images do not show it."
)
_LOCATE_SYSTEM = (
    "You find things in one image. Reply with JSON only. If the named thing is visible, reply "
    '{"visible": true, "boxes": [[x1, y1, x2, y2], ...], "points": [[x, y], ...]} with one box and one '
    "point (a spot on the thing itself) per instance, coordinates on a 0 to 1000 grid of the image "
    '(x from the left edge, y from the top edge). If it is not in the image, reply {"visible": false}.'
)
_REASON_SYSTEM = (
    "You work through one reasoning problem for a spatial-analysis agent. Use only the facts given, "
    "check your arithmetic and geometry, and end with a short, direct answer."
)
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_NOT_VISIBLE = re.compile(r"\b(not visible|no such|cannot (?:find|see)|isn'?t (?:visible|there))\b", re.I)


class GroundingUnreadable(ValueError):
    """A `locate` reply held neither readable JSON nor a plain 'not visible'."""


def sub_call_messages(request: AskRequest) -> list[Message]:
    """The isolated chat transcript for one sub-call."""
    if request.kind == "reason":
        question = f"{REASON_PREFIX}{request.question}"
        text = f"{request.context}\n\n{question}" if request.context else question
        return [Message(role="system", content=_REASON_SYSTEM), Message(role="user", content=text)]
    system, text = _ASK_SYSTEM, request.question
    if request.kind == "locate":
        system, text = _LOCATE_SYSTEM, f"{LOCATE_PREFIX}{request.question}"
    parts: list[ContentPart] = [TextPart(text=text)]
    parts += [ImagePart(image_url=ImageURL(url=bytes_data_url(img, _mime(img)))) for img in request.images]
    return [Message(role="system", content=system), Message(role="user", content=parts)]


def _mime(data: bytes) -> str:
    return "image/jpeg" if data[:3] == b"\xff\xd8\xff" else "image/png"


def grounding_response(answer: str, reasoning: str) -> AskResponse:
    """The `locate` response read from the model's reply.

    Raises:
        GroundingUnreadable: the reply is neither JSON of the asked shape nor a plain 'not visible'.
    """
    found = _JSON_OBJECT.search(answer)
    if found is None:
        if _NOT_VISIBLE.search(answer):
            return AskResponse(answer=answer, reasoning=reasoning, visible=False)
        raise GroundingUnreadable("no JSON object in the reply")
    try:
        data = json.loads(found.group(0))
    except json.JSONDecodeError as exc:
        raise GroundingUnreadable(f"the JSON in the reply does not parse ({exc.msg})") from None
    if not isinstance(data, dict):
        raise GroundingUnreadable("the reply's JSON is not an object")
    boxes, points = _coordinates(data.get("boxes"), 4), _coordinates(data.get("points"), 2)
    visible = bool(data.get("visible", bool(boxes or points))) and bool(boxes or points)
    if not visible:
        boxes, points = [], []
    return AskResponse(answer=answer, reasoning=reasoning, visible=visible, boxes=boxes, points=points)


def _coordinates(raw: Any, size: int) -> list[list[float]]:
    """Entries of `raw` with `size` numbers each, clipped to the grid; malformed entries dropped."""
    if not isinstance(raw, list):
        return []
    out = []
    for entry in raw:
        try:
            values = msgspec.convert(entry, list[float])
        except msgspec.ValidationError:
            continue
        if len(values) == size:
            out.append([min(max(v, 0.0), GROUNDING_SCALE) for v in values])
    return out
