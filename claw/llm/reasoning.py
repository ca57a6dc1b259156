"""Keeping a thinking model's reasoning apart from its reply.

Servers return reasoning in one of three shapes: a separate field (`reasoning_content`, or `reasoning`
in newer vLLM, when the server runs a reasoning parser); a `<think>...</think>` block at the start of
the content (no parser); or only the closing `</think>` (chat templates that open the block in the
prompt). `split_reasoning` turns all three into (reply, reasoning). A reply cut off while still thinking
(an unclosed `<think>`) is all reasoning and an empty reply, so a code block the model was only
considering is never run.
"""

from __future__ import annotations

import re

__all__ = ["split_reasoning"]

_OPEN, _CLOSE = "<think>", "</think>"
_LEADING_OPEN = re.compile(r"^\s*<think>", re.IGNORECASE)


def split_reasoning(content: str, *fields: str | None) -> tuple[str, str]:
    """The reply without any reasoning, and the reasoning (fields first, then any `<think>` text).

    Args:
        content: the message content as the server returned it.
        fields: reasoning the server returned in separate fields (None or empty when absent).
    """
    parts = [f.strip() for f in fields if f and f.strip()]
    reply, thought = _split_tags(content)
    if thought:
        parts.append(thought)
    return reply, "\n\n".join(parts)


def _split_tags(content: str) -> tuple[str, str]:
    lowered = content.lower()
    close = lowered.find(_CLOSE)
    opened = _LEADING_OPEN.match(content)
    if close >= 0 and (opened or _OPEN not in lowered[:close]):
        start = opened.end() if opened else 0
        return content[close + len(_CLOSE) :].lstrip(), content[start:close].strip()
    if opened:  # thinking was cut off (max_tokens) before it closed: there is no reply
        return "", content[opened.end() :].strip()
    return content, ""
