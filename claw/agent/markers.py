"""Fixed strings that structure every prompt, shared by the prompt builder, the parser and the mock
server's policies (which read the transcript the way a model would).
"""

from __future__ import annotations

__all__ = [
    "AGENT_SYSTEM_HEADER",
    "ANSWER_FORMAT_HEADING",
    "ANSWER_SECTION",
    "ERROR_SECTION",
    "FINAL_ANSWER_PREFIX",
    "FINAL_ANSWER_TAG",
    "OBSERVATION_HEADING",
    "OPTIONS_HEADING",
    "OUTPUT_SECTION",
    "PLANNER_SYSTEM_HEADER",
    "PLAN_HEADING",
    "QUESTION_HEADING",
    "SECTION_NAMES",
    "SINGLE_PASS_TAG",
    "STDERR_SECTION",
    "VARIABLES_SECTION",
]

AGENT_SYSTEM_HEADER = "# claw agent"
"""First line of the agent's system prompt."""
PLANNER_SYSTEM_HEADER = "# claw planner"
"""First line of the planner's system prompt."""
QUESTION_HEADING = "## Question"
OPTIONS_HEADING = "## Options"
ANSWER_FORMAT_HEADING = "## Answer format"
"""Followed by one line: letter, number, yes_no or text."""
PLAN_HEADING = "## Plan"
OBSERVATION_HEADING = "## Observation"
"""Each observation message starts with `## Observation (step N)`."""
FINAL_ANSWER_TAG = "[FINAL ANSWER REQUIRED]"
"""In the last user message when the agent must answer now."""
SECTION_NAMES = ("Purpose", "Reasoning", "Next Goal", "Code")
"""The four bold-headed sections of every agent response, in order; code is one fenced python block."""
SINGLE_PASS_TAG = "[SINGLE PASS]"
"""In the agent's system prompt when the whole program must be written at once, without feedback."""
OUTPUT_SECTION = "[Output]"
"""In an observation: the cell's stdout follows verbatim (head and tail kept when long)."""
STDERR_SECTION = "[Warnings]"
"""In an observation: what the cell wrote to stderr (warnings, notices), capped shorter than stdout."""
ERROR_SECTION = "[Error]"
"""In an observation: `ExcName: message` and the traceback of the cell follow."""
VARIABLES_SECTION = "[Variables]"
ANSWER_SECTION = "[Answer]"
"""In an observation: whether `ReturnAnswer` accepted the answer, and why not."""
FINAL_ANSWER_PREFIX = "Final answer:"
"""A forced-answer or chain-of-thought reply ends with a line `Final answer: <answer>`."""
