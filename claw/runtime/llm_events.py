"""The events of one model call, built from what the transport returned or raised; shared by the episode
driver and the `vlm.ask` bridge, which both call models.
"""

from __future__ import annotations

from claw.errors import LLMError
from claw.events import LLMFailed, LLMResponded, Stamp
from claw.llm.types import ChatResponse
from claw.runtime.record import recorded_tool_calls

__all__ = ["llm_failed", "llm_responded"]


def llm_responded(stamped: Stamp, role: str, response: ChatResponse) -> LLMResponded:
    """`LLMResponded` for `response` to a request of `role`."""
    usage = response.usage
    return LLMResponded(
        **stamped,
        role=role,
        endpoint=response.endpoint,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_tokens=usage.cached_tokens,
        latency_s=response.latency_s,
        attempts=response.attempts,
        finish_reason=response.finish_reason,
        content=response.content,
        tool_calls=recorded_tool_calls(response.tool_calls),
        reasoning=response.reasoning,
    )


def llm_failed(stamped: Stamp, role: str, exc: LLMError) -> LLMFailed:
    """`LLMFailed` for a request of `role` that raised `exc` after its retries."""
    return LLMFailed(
        **stamped, role=role, error_type=type(exc).__name__, message=exc.message, endpoint=exc.endpoint
    )
