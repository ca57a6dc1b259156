"""The scripted policy's cells and replies as text: each cell is read from its file under `cells/` (the
part after the `# cell` line), its placeholders filled in for the question, and wrapped in the four
sections of a code turn. The files are read once, when this module is imported: the mock server calls
the policy on its event loop, where no file is read.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from servers.mockllm.policies.scripted.question import Parsed, letters_of, object_names

__all__ = ["answer_cell", "compute_cell", "perceive_cell", "reply", "single_pass_cell"]

_CELLS = "servers.mockllm.policies.scripted.cells"
_MARKER = "# cell\n"


def _read_cells(folder: Traversable) -> dict[str, str]:
    cells = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".py") and not entry.name.startswith("_"):
            text = entry.read_text(encoding="utf-8")
            cells[entry.name.removesuffix(".py")] = text.split(_MARKER, 1)[1].lstrip("\n")
    return cells


_FILES = resources.files(_CELLS)
_SHARED = _read_cells(_FILES)
_COMPUTE = _read_cells(_FILES / "compute")


def _fill(template: str, values: dict[str, str]) -> str:
    for token, value in values.items():
        template = template.replace(token, value)
    return template


def perceive_cell(parsed: Parsed, *, vague_prompts: bool = False) -> str:
    """The first cell: reconstruct, segment the named objects, gather their points, show and print."""
    if parsed.task in ("camera_motion", "camera_rotation"):
        return _SHARED["no_geometry"]
    names = object_names(parsed)
    prompts = [n.split()[0] if vague_prompts and " " in n else n for n in names]
    helpers = _SHARED["helpers"].replace("\n\n\n", "\n\n")
    values = {"NAMES": repr(names), "PROMPTS": repr(prompts), "# helpers\n": helpers + "\n"}
    return _fill(_SHARED["perceive"], values)


def compute_cell(parsed: Parsed, *, slip: bool = False, wrong_name: bool = False) -> str:
    """The measuring cell of the task; `slip` makes its quiet mistake, `wrong_name` makes it raise."""
    values = {"SCALE": "1" if slip else "100", "SIGN * ": "- " if slip else " ", "IMAGE": str(parsed.image)}
    body = _fill(_COMPUTE[parsed.task], values)
    head = f"# stage: compute\nletters = {letters_of(parsed)!r}\n"
    if wrong_name:
        head += "pts = point_clouds  # reuse the clouds from the last cell\n"
    return head + body


def answer_cell(parsed: Parsed, value: str) -> str:
    """`ReturnAnswer` with the value the compute cell printed."""
    literal = value if parsed.answer_format == "number" else repr(value)
    return f"# stage: answer\nReturnAnswer({literal})\n"


def single_pass_cell(parsed: Parsed) -> str:
    """The whole program in one cell, for the single-pass interface: perceive, compute, answer."""
    return f"{perceive_cell(parsed)}\n{compute_cell(parsed)}\nReturnAnswer(result)\n"


def reply(purpose: str, reasoning: str, goal: str, code: str) -> str:
    """A code turn in the four sections the agent prompt asks for."""
    return (
        f"**Purpose:** {purpose}\n**Reasoning:** {reasoning}\n**Next Goal:** {goal}\n"
        f"**Code:**\n```python\n{code.rstrip()}\n```\n"
    )
