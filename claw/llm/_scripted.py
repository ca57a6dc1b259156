"""`ScriptedTransport`: the in-process fake `ChatTransport` whose behaviour is a plain function (E5).

Unit tests hand it a handler that turns a `ChatRequest` into a reply string, a full `ChatResponse`, or
raises an `LLMError`; it records every request it saw, so a test can assert on the exact transcripts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from claw.llm.types import ChatRequest, ChatResponse, Usage

__all__ = ["Handler", "ScriptedTransport"]

Handler = Callable[[ChatRequest], str | ChatResponse | Awaitable[str | ChatResponse]]
"""Turns a request into the reply text or a whole response; sync or async; may raise `LLMError`."""


def _approx_tokens(text: str) -> int:
    return max(1, len(text) // 4)


class ScriptedTransport:
    """A `ChatTransport` answered by `handler`; `requests` lists every request received, in order.

    Args:
        handler: the behaviour (see `Handler`).
        endpoint: the endpoint name put into responses.
    """

    def __init__(self, handler: Handler, *, endpoint: str = "scripted") -> None:
        self._handler = handler
        self._endpoint = endpoint
        self.requests: list[ChatRequest] = []
        self.closed = False

    def __repr__(self) -> str:
        return f"<ScriptedTransport {self._endpoint} requests={len(self.requests)} closed={self.closed}>"

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Record `request` and return the handler's answer.

        Raises:
            LLMError: whatever the handler raises.
            RuntimeError: the transport was closed.
        """
        if self.closed:
            raise RuntimeError("ScriptedTransport is closed")
        self.requests.append(request)
        reply = self._handler(request)
        if not isinstance(reply, str | ChatResponse):
            reply = await reply
        if isinstance(reply, ChatResponse):
            return reply
        return self._wrap(request, reply)

    def _wrap(self, request: ChatRequest, text: str) -> ChatResponse:
        prompt = sum(_approx_tokens(m.text()) for m in request.messages)
        usage = Usage(prompt_tokens=prompt, completion_tokens=_approx_tokens(text))
        return ChatResponse(content=text, usage=usage, endpoint=self._endpoint, latency_s=0.0)

    async def aclose(self) -> None:
        """Mark closed; later calls fail."""
        self.closed = True
