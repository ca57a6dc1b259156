"""The `single-pass` interface: one program written at once and run once, with no feedback."""

from __future__ import annotations

from claw.agent import prompts
from claw.agent.interfaces.base import ActionInterface, Opening
from claw.suite import Sample

__all__ = ["SinglePassInterface", "interface"]


class SinglePassInterface(ActionInterface):
    """The code-turn format, one turn, no planner, no forced answer."""

    name = "single-pass"
    feedback = False
    plans = False

    def opening(self, sample: Sample, image_urls: tuple[str, ...], max_steps: int) -> Opening:
        """The one-program variant of the code system prompt, and the question."""
        return Opening(
            system=prompts.agent_system_prompt(max_steps, single_pass=True),
            first_user=prompts.first_user_message(sample, list(image_urls)),
        )


interface = SinglePassInterface()
