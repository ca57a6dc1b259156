"""Reading two refusals a server states its limit in: "prompt plus completion limit is past the context
length", and "more images than it takes per prompt".

vLLM refuses (400) a request whose prompt tokens plus `max_tokens` exceed its `--max-model-len`, and says
both numbers: "This model's maximum context length is N tokens. However, you requested M output tokens
and your prompt contains at least P input tokens ..." (older versions: "... you requested T tokens (P in
the messages, M in the completion)"). A thinking role's large `max_tokens` (131,072 in the paper preset)
meets this on long episodes, or on every request when the server's context is shorter than that limit;
`completion_room` gives the completion limit that fits, so the request can be sent again with it.
vLLM started with a lower `--limit-mm-per-prompt` than claw was told answers "At most N image(s) may be
provided in one prompt." (or "... in one request."): `images_allowed` reads N.
"""

from __future__ import annotations

import re

__all__ = ["completion_room", "images_allowed"]

_CONTEXT = re.compile(r"maximum context length is (\d+) tokens", re.IGNORECASE)
_PROMPT = re.compile(r"prompt contains at least (\d+) input tokens|\((\d+) in the messages", re.IGNORECASE)


def completion_room(message: str) -> int | None:
    """The completion tokens left beside the prompt, from a context-length refusal; None when `message`
    is not one, or when the prompt alone fills the context."""
    context, prompt = _CONTEXT.search(message), _PROMPT.search(message)
    if context is None or prompt is None:
        return None
    room = int(context.group(1)) - int(prompt.group(1) or prompt.group(2))
    return room if room > 0 else None


_IMAGES = re.compile(r"At most (\d+) image\(s\) may be provided in one (?:prompt|request)", re.IGNORECASE)


def images_allowed(message: str) -> int | None:
    """The images per prompt a refusal says the server takes, or None when `message` is not one."""
    found = _IMAGES.search(message)
    return int(found.group(1)) if found else None
