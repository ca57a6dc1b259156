"""Every exception claw raises, in one tree rooted at `ClawError`.

Foreign exceptions (aiohttp, jupyter_client, zmq, OS errors) are translated into these only at the I/O
seams (`claw/llm/_http.py`, `claw/sandbox/_kernel.py`, the perception client), so one `except ClawError`
catches everything the library can raise on purpose::

    ClawError
    ├── ConfigError            bad config value or unknown key (carries `field`)
    ├── SuiteError             unknown suite, missing data files, bad sample record
    ├── ServiceError           a server we started did not come up or a port is taken
    ├── EpisodeTimeout         an episode ran past its wall-clock limit
    ├── LLMError               (carries `endpoint`)
    │   ├── LLMConnectError
    │   ├── LLMTimeout
    │   ├── LLMRateLimited
    │   └── LLMBadResponse
    ├── SandboxError
    │   ├── KernelDied
    │   ├── KernelRestartsExhausted
    │   ├── CellTimeout
    │   ├── PolicyViolation    (carries `rule`, `lineno`, `col`, `hint`)
    │   └── ConfinementUnavailable
    └── PerceptionError        (carries `endpoint`)
        ├── PerceptionUnavailable
        └── PerceptionBatchFailed
"""

from __future__ import annotations

__all__ = [
    "CellTimeout",
    "ClawError",
    "ConfigError",
    "ConfinementUnavailable",
    "EpisodeTimeout",
    "KernelDied",
    "KernelRestartsExhausted",
    "LLMBadResponse",
    "LLMConnectError",
    "LLMError",
    "LLMRateLimited",
    "LLMTimeout",
    "PerceptionBatchFailed",
    "PerceptionError",
    "PerceptionUnavailable",
    "PolicyViolation",
    "SandboxError",
    "ServiceError",
    "SuiteError",
]


class ClawError(Exception):
    """Root of every error claw raises on purpose.

    Attributes:
        episode_id: the episode the error belongs to, when known.
    """

    def __init__(self, message: str, *, episode_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.episode_id = episode_id


class ConfigError(ClawError):
    """A configuration value is missing, unknown or out of range; `field` names it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SuiteError(ClawError):
    """A suite name is unknown, its data is missing, or a record does not match its schema."""


class ServiceError(ClawError):
    """A helper server (mock LLM, perception) could not start, bind its port or become ready."""


class EpisodeTimeout(ClawError):
    """An episode ran past `agent.episode_timeout_s` and was stopped; its events so far are its evidence."""


class LLMError(ClawError):
    """A chat completion failed; `endpoint` names the server that failed."""

    def __init__(self, message: str, *, endpoint: str | None = None, episode_id: str | None = None) -> None:
        super().__init__(message, episode_id=episode_id)
        self.endpoint = endpoint


class LLMConnectError(LLMError):
    """The endpoint could not be reached (refused, reset, DNS)."""


class LLMTimeout(LLMError):
    """The endpoint did not answer within the per-call deadline."""


class LLMRateLimited(LLMError):
    """The endpoint answered 429; `retry_after` is its hint in seconds, if any."""

    def __init__(
        self, message: str, *, endpoint: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, endpoint=endpoint)
        self.retry_after = retry_after


class LLMBadResponse(LLMError):
    """The endpoint answered, but not with a usable chat completion (status or body)."""

    def __init__(self, message: str, *, endpoint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, endpoint=endpoint)
        self.status = status


class SandboxError(ClawError):
    """The kernel sandbox failed."""


class KernelDied(SandboxError):
    """The kernel process exited or stopped answering; the pool replaces it."""


class KernelRestartsExhausted(SandboxError):
    """An episode's kernel died more often than `agent.max_kernel_restarts` allows; the episode ends."""


class CellTimeout(SandboxError):
    """A cell ran past its wall-time limit and was interrupted (or killed)."""


class PolicyViolation(SandboxError):
    """A cell broke the AST safety policy; it did not run."""

    def __init__(self, message: str, *, rule: str, lineno: int, col: int = 0, hint: str = "") -> None:
        super().__init__(message)
        self.rule = rule
        self.lineno = lineno
        self.col = col
        self.hint = hint


class ConfinementUnavailable(SandboxError):
    """The OS cannot confine kernels (no user/network namespaces) and unconfined runs were not allowed."""


class PerceptionError(ClawError):
    """A perception request failed; `endpoint` names the server."""

    def __init__(self, message: str, *, endpoint: str | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint


class PerceptionUnavailable(PerceptionError):
    """No perception server answered within the bounded connect time."""


class PerceptionBatchFailed(PerceptionError):
    """The batch this request was part of failed on the server."""
