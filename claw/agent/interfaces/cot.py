"""The `cot` interface: no tools; the model looks at the key frames, thinks and answers in one reply."""

from __future__ import annotations

from claw.agent import prompts
from claw.agent.interfaces.base import ActionInterface, Opening
from claw.suite import Sample

__all__ = ["CotInterface", "interface"]


class CotInterface(ActionInterface):
    """Chain of thought over the frames; the opening request is the answer turn."""

    name = "cot"
    feedback = False
    answers_at_once = True
    plans = False

    def opening(self, sample: Sample, image_urls: tuple[str, ...], max_steps: int) -> Opening:
        """The no-tools system prompt, and the question with the key frames."""
        system, first_user = prompts.cot_messages(sample, list(image_urls))
        return Opening(system=system.text(), first_user=first_user)


interface = CotInterface()
