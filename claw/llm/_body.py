"""The JSON body of one chat request to one endpoint: claw's messages (kept under the endpoint's
images-per-prompt limit, consecutive user messages sent as one), the sampling settings, chat-template
options, and any extra fields."""

from __future__ import annotations

import msgspec

from claw.llm.image_limit import fit_images
from claw.llm.turns import merge_user_runs
from claw.llm.types import ChatRequest
from claw.llm.wire import OutgoingRequest, wire_tools

__all__ = ["request_body"]

_ENCODER = msgspec.json.Encoder()


def request_body(request: ChatRequest, model: str, *, max_images: int | None) -> bytes:
    """The encoded body; `extra_body` fields are added last (they may not replace claw's own fields)."""
    messages = request.messages if max_images is None else fit_images(request.messages, max_images)
    messages = merge_user_runs(messages)
    outgoing = OutgoingRequest(
        model=model,
        messages=messages,
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        seed=request.seed,
        tools=wire_tools(request.tools),
        top_p=request.top_p,
        top_k=request.top_k,
        chat_template_kwargs=request.chat_template_kwargs or None,
    )
    if not request.extra_body:
        return _ENCODER.encode(outgoing)
    body = msgspec.to_builtins(outgoing)
    body.update({k: v for k, v in request.extra_body.items() if k not in body})
    return _ENCODER.encode(body)
