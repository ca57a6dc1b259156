"""The records the episode state machine (`claw.runtime.episode`) and its driver exchange: what happened to
the episode (`Happened`: it began, the model replied or failed, the policy judged a cell, a cell finished,
the kernel was replaced) and what the machine asks the driver to do (`Action`: call a model, check or run
a cell, restart the kernel, record a malformed reply or an observation, finish). Plain frozen records;
no logic.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from claw.agent.parsing import StepResponse
from claw.llm.types import Message, Role, ToolCall, ToolSpec
from claw.suite import Sample
from claw.wire.kernel import CellResult

__all__ = [
    "Action",
    "Begin",
    "CallModel",
    "CellFinished",
    "CellJudged",
    "CheckCell",
    "Finish",
    "FinishReason",
    "Happened",
    "KernelRestarted",
    "ModelFailed",
    "ModelReplied",
    "RecordMalformed",
    "RecordObservation",
    "RestartKernel",
    "RunCell",
]

FinishReason = Literal["answered", "forced", "budget", "error"]
"""Why an episode ended: a valid answer, a forced final answer, the step budget, or a failure."""


# -- what happened --------------------------------------------------------------------------------------


class Begin(msgspec.Struct, frozen=True, kw_only=True):
    """The episode starts on `sample`, with its key frames encoded for the model; `plan` asks for a
    planner call first (where the interface plans)."""

    sample: Sample
    image_urls: tuple[str, ...] = ()
    plan: bool = False


class ModelReplied(msgspec.Struct, frozen=True, kw_only=True):
    """A model call returned text."""

    text: str
    tokens: int = 0
    tool_calls: tuple[ToolCall, ...] = ()


class ModelFailed(msgspec.Struct, frozen=True, kw_only=True):
    """A model call failed after its retries."""

    error: str


class CellJudged(msgspec.Struct, frozen=True, kw_only=True):
    """The safety policy's verdict on the pending cell (`rule` None = allowed)."""

    rule: str | None = None
    lineno: int = 0
    message: str = ""
    hint: str = ""


class CellFinished(msgspec.Struct, frozen=True, kw_only=True):
    """The pending cell ran; `image_urls` are its shown images, encoded for the model."""

    result: CellResult
    image_urls: tuple[str, ...] = ()


class KernelRestarted(msgspec.Struct, frozen=True, kw_only=True):
    """The shell replaced the episode's dead kernel (`ok`), or could not."""

    ok: bool


Happened = Begin | ModelReplied | ModelFailed | CellJudged | CellFinished | KernelRestarted


# -- what to do -----------------------------------------------------------------------------------------


class CallModel(msgspec.Struct, frozen=True, kw_only=True):
    """Send `messages` to the model serving `role`, offering `tools` as function tools."""

    role: Role
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...] = ()


class CheckCell(msgspec.Struct, frozen=True, kw_only=True):
    """Record the proposed step, then run the safety policy on its code."""

    proposed: StepResponse

    @property
    def code(self) -> str:
        """The cell to check."""
        return self.proposed.code


class RunCell(msgspec.Struct, frozen=True, kw_only=True):
    """Execute `code` in the episode's kernel."""

    code: str


class RestartKernel(msgspec.Struct, frozen=True, kw_only=True):
    """Give the episode a fresh kernel (the old one died)."""


class RecordMalformed(msgspec.Struct, frozen=True, kw_only=True):
    """Record that the reply of turn `step` had nothing to run, and why."""

    step: int
    reason: str
    raw_chars: int


class RecordObservation(msgspec.Struct, frozen=True, kw_only=True):
    """Record the observation of turn `step` as the model will read it."""

    step: int
    text: str
    n_images: int


class Finish(msgspec.Struct, frozen=True, kw_only=True):
    """The episode is over. `record_answer`: no cell submitted this answer (it was read from the model's
    text, or there is none), so the driver records it as a forced `AnswerSubmitted`."""

    answer: str | None
    reason: FinishReason
    record_answer: bool = False


Action = CallModel | CheckCell | RunCell | RestartKernel | RecordMalformed | RecordObservation | Finish
