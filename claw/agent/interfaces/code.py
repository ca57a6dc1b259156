"""The `code` interface: one cell per turn, its output as the next observation, until `ReturnAnswer` or the
step budget (then a forced answer from the transcript)."""

from __future__ import annotations

from claw.agent import prompts
from claw.agent.interfaces.base import ActionInterface, Opening
from claw.suite import Sample

__all__ = ["CodeInterface", "interface"]


class CodeInterface(ActionInterface):
    """Code as the action interface, with feedback after every cell."""

    name = "code"

    def opening(self, sample: Sample, image_urls: tuple[str, ...], max_steps: int) -> Opening:
        """The code system prompt (same for every episode with this budget) and the question."""
        return Opening(
            system=prompts.agent_system_prompt(max_steps),
            first_user=prompts.first_user_message(sample, list(image_urls)),
        )


interface = CodeInterface()
