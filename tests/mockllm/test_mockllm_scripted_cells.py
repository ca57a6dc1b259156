"""The scripted policy's cells, read from their Python files: every task's cells render with no placeholder
left, parse, and pass the AST policy the runtime applies to model-written code."""

from __future__ import annotations

import ast
import re

import pytest

from claw.sandbox import check_cell
from servers.mockllm.policies.scripted import Parsed
from servers.mockllm.policies.scripted.question import _PATTERNS
from servers.mockllm.policies.scripted.render import compute_cell, perceive_cell, single_pass_cell

_PLACEHOLDER = re.compile(r"\b(NAMES|PROMPTS|SCALE|SIGN|IMAGE)\b|^# (cell|helpers)$", re.MULTILINE)
TASKS = [task for task, _ in _PATTERNS]


def _parsed(task: str) -> Parsed:
    options = ("left", "right")
    return Parsed(task=task, names=("red chair", "table", "lamp"), options=options, answer_format="letter")


@pytest.mark.parametrize("task", TASKS)
def test_every_cell_renders_parses_and_passes_the_policy(task: str) -> None:
    parsed = _parsed(task)
    cells = [perceive_cell(parsed), perceive_cell(parsed, vague_prompts=True), single_pass_cell(parsed)]
    cells += [
        compute_cell(parsed, slip=slip, wrong_name=wrong) for slip in (False, True) for wrong in (False, True)
    ]
    for cell in cells:
        assert _PLACEHOLDER.search(cell) is None, cell
        ast.parse(cell)
        assert check_cell(cell) is None, cell


def test_placeholders_are_filled_from_the_question() -> None:
    parsed = _parsed("object_size")
    assert "names = ['red chair', 'table', 'lamp']" in perceive_cell(parsed)
    assert "zip(names, ['red', 'table', 'lamp'])" in perceive_cell(parsed, vague_prompts=True)
    assert "* 100\n" in compute_cell(parsed) and "* 1\n" in compute_cell(parsed, slip=True)
    height = _parsed("height_comparison")
    assert "{n: - float(" in compute_cell(height, slip=True) and "- float(" not in compute_cell(height)
