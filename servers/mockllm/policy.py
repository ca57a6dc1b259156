"""The `Policy` seam of the mock LLM server: a policy turns a chat transcript into the next reply, the
way a model would, reading only what a model would read (the messages). Policies are chosen by name.
"""

from __future__ import annotations

import importlib
from typing import Protocol

import msgspec

from claw.errors import ConfigError
from claw.llm.types import Message

__all__ = ["POLICIES", "Policy", "PolicyReply", "ToolCall", "load_policy"]


class ToolCall(msgspec.Struct, frozen=True, kw_only=True):
    """One OpenAI-style function call (for the `tool-call` interface)."""

    name: str
    arguments: str
    """JSON-encoded arguments object."""


class PolicyReply(msgspec.Struct, frozen=True, kw_only=True):
    """What the policy says next."""

    content: str
    tool_calls: list[ToolCall] = msgspec.field(default_factory=list)
    reasoning: str = ""
    """A thinking model's reasoning before the reply (sent apart from `content`)."""


class Policy(Protocol):
    """Deterministic given (messages, seed)."""

    name: str

    def respond(self, messages: list[Message], *, seed: int, tools: list[str] | None = None) -> PolicyReply:
        """The reply to `messages`. `tools` names the callable tools when the request offers any."""
        ...


POLICIES: dict[str, str] = {
    "scripted": "servers.mockllm.policies.scripted:ScriptedPolicy",
    "echo": "servers.mockllm.policies.simple:EchoPolicy",
    "random": "servers.mockllm.policies.simple:RandomPolicy",
    "steps": "servers.mockllm.policies.steps:StepsPolicy",
    "stuck": "servers.mockllm.policies.stuck:StuckPolicy",
    "two-step": "servers.mockllm.policies.steps:TwoStepPolicy",
    "probe": "servers.mockllm.policies.probe:ProbePolicy",
}
"""Policy name -> `module:class`; classes take no arguments."""


def load_policy(name: str) -> Policy:
    """Instantiate the policy registered as `name`.

    Raises:
        ConfigError: unknown policy name.
    """
    try:
        target = POLICIES[name]
    except KeyError:
        known = ", ".join(sorted(POLICIES))
        message = f"unknown mock policy {name!r}; choose one of: {known}"
        raise ConfigError(message, field="models.policy") from None
    module_name, attr = target.split(":")
    policy: Policy = getattr(importlib.import_module(module_name), attr)()
    return policy
