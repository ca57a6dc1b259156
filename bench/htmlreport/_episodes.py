"""One view per episode, folded from its events: the question, the key frames, the plan, every step
(the model's sections, the cell, the policy's verdict, what the cell printed, raised, made and showed),
and how the episode ended."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from claw.events import (
    AnswerSubmitted,
    CellChecked,
    CellExecuted,
    CellProposed,
    EpisodeFailed,
    EpisodeFinished,
    EpisodeStarted,
    Event,
    KeyFramesChosen,
    LLMFailed,
    LLMResponded,
    PlanMade,
    RecordedImage,
    ResponseMalformed,
)

__all__ = ["EpisodeView", "StepView", "episode_views"]


class StepView(msgspec.Struct, kw_only=True):
    """One code turn."""

    step: int
    purpose: str = ""
    reasoning: str = ""
    code: str = ""
    malformed: str = ""
    """Why the reply could not be parsed (no cell ran)."""
    rejected: str = ""
    """The policy rule and message, when the cell was refused."""
    status: str = ""
    duration_s: float = 0.0
    stdout: str = ""
    stderr: str = ""
    error: str = ""
    traceback: str = ""
    variables: list[str] = msgspec.field(default_factory=list)
    images: list[RecordedImage] = msgspec.field(default_factory=list)
    model_error: str = ""


class EpisodeView(msgspec.Struct, kw_only=True):
    """Everything the report shows about one episode."""

    episode_id: str
    sample_id: str = ""
    suite: str = ""
    category: str = ""
    question: str = ""
    answer_format: str = ""
    key_frames: list[RecordedImage] = msgspec.field(default_factory=list)
    plan: str = ""
    steps: list[StepView] = msgspec.field(default_factory=list)
    answer: str | None = None
    ground_truth: str = ""
    score: float | None = None
    reason: str = ""
    forced: bool = False
    last_reply: str = ""
    final_reply: str = ""
    """The model's reply in the turn that gave the answer without a cell (forced answer, `cot`)."""
    failure: str = ""
    """The runtime error that ended the episode (`EpisodeFailed`)."""

    def step_view(self, step: int) -> StepView:
        """The view of turn `step`, made when first needed."""
        if not self.steps or self.steps[-1].step != step:
            self.steps.append(StepView(step=step))
        return self.steps[-1]

    @property
    def wrong(self) -> bool:
        """Scored below full marks (or not scored at all)."""
        return self.score is None or self.score < 1.0

    @property
    def errored(self) -> bool:
        """Ended in an error: the runtime failed it, or it ended with reason `error`."""
        return bool(self.failure) or self.reason == "error"


def _on_start(view: EpisodeView, event: EpisodeStarted) -> None:
    view.sample_id, view.suite, view.category = event.sample_id, event.suite, event.category
    view.question, view.answer_format = event.question, event.answer_format


def _on_executed(step: StepView, event: CellExecuted) -> None:
    step.status, step.duration_s = event.status, event.duration_s
    step.stdout, step.stderr, step.traceback = event.stdout, event.stderr, event.traceback
    step.error = f"{event.error_type}: {event.error_message}" if event.error_type else ""
    step.variables, step.images = list(event.variable_notes or event.variables), list(event.images)


def _on_finished(view: EpisodeView, event: EpisodeFinished) -> None:
    view.answer, view.ground_truth, view.score, view.reason = (
        event.answer,
        event.ground_truth,
        event.score,
        event.reason,
    )
    view.suite = event.suite or view.suite


def _apply(view: EpisodeView, event: Event) -> None:
    match event:
        case EpisodeStarted():
            _on_start(view, event)
        case KeyFramesChosen(frames=frames):
            view.key_frames = list(frames)
        case PlanMade(plan=plan):
            view.plan = plan
        case CellProposed():
            step = view.step_view(event.step)
            step.purpose, step.reasoning, step.code = event.purpose, event.reasoning, event.code
        case ResponseMalformed(reason=reason):
            view.step_view(event.step).malformed = reason
        case CellChecked(ok=False, rule=rule, message=message):
            view.step_view(event.step).rejected = f"{rule}: {message}"
        case CellExecuted():
            _on_executed(view.step_view(event.step), event)
        case LLMFailed(role="agent", error_type=kind, message=message):
            view.step_view(event.step).model_error = f"{kind}: {message}"
        case LLMResponded(role="agent", content=content):
            view.last_reply = content
        case AnswerSubmitted(forced=True):
            view.forced, view.final_reply = True, view.last_reply
        case EpisodeFinished():
            _on_finished(view, event)
        case EpisodeFailed(error_type=kind, message=message):
            view.failure = f"{kind}: {message}"


def episode_views(events: Iterable[Event]) -> list[EpisodeView]:
    """One view per episode, in the order the episodes started; a resumed episode's last attempt wins."""
    views: dict[str, EpisodeView] = {}
    for event in events:
        if event.episode_id is None:
            continue
        if isinstance(event, EpisodeStarted):
            views.pop(event.episode_id, None)  # a redo after resume starts the view afresh
        view = views.setdefault(event.episode_id, EpisodeView(episode_id=event.episode_id))
        _apply(view, event)
    return list(views.values())
